/**
 * Pod kill: delete chosen pods of a workload (or selector) directly, as a crash or an
 * operator would — not through the Eviction API, so no PodDisruptionBudget protects them.
 * Nothing to undo: the controller's recreation is what the scenario measures.
 */
import { BadInputError } from '../errors.js';
import type { Kube } from '../kube/client.js';
import type { Pod } from '../kube/types.js';
import type { Timeline, ActionEntry } from '../timeline/timeline.js';
import { describeTarget, podsOf, type PodTarget } from '../workload/pods.js';
import { choose, newSeed } from './random.js';
import { until } from '../expect/until.js';
import type { Scenario } from '../scenario/scenario.js';

/** How many pods: a count, or a percentage of the live pods (rounded up, at least 1). */
export type HowMany = { count: number } | { percent: number };

export interface PodKill {
  target: PodTarget;
  howMany: HowMany;
  /** Seeded random choice; without a seed one is drawn and reported. */
  seed?: number;
  gracePeriodSeconds?: number;
}

export interface PodKillPlan {
  victims: string[];
  seed: number;
  /** Live pods before the kill. */
  of: number;
  gracePeriodSeconds?: number;
}

export function planPodKill(tl: Timeline, kill: PodKill): PodKillPlan {
  const pods = podsOf(tl, kill.target);
  if (!pods) throw new BadInputError(`${describeTarget(kill.target)} does not exist in namespace ${tl.namespace}`);
  const n = 'count' in kill.howMany ? kill.howMany.count : Math.max(1, Math.ceil((kill.howMany.percent / 100) * pods.length));
  if (n > pods.length) throw new Error(`cannot kill ${n} pod(s) of ${describeTarget(kill.target)}: only ${pods.length} running`);
  const seed = kill.seed ?? newSeed();
  const victims = choose(pods, n, seed).map((p: Pod) => p.metadata!.name!);
  return { victims, seed, of: pods.length, gracePeriodSeconds: kill.gracePeriodSeconds };
}

/** Delete the planned victims; returns the timeline mark of the moment the deletes were sent. */
export async function killPods(kube: Kube, tl: Timeline, plan: PodKillPlan): Promise<ActionEntry> {
  const mark = tl.mark('kill pods', `${plan.victims.join(', ')} (seed ${plan.seed}${plan.gracePeriodSeconds !== undefined ? `, grace ${plan.gracePeriodSeconds}s` : ''})`);
  await Promise.all(plan.victims.map((name) => kube.delete('Pod', name, tl.namespace, { gracePeriodSeconds: plan.gracePeriodSeconds })));
  // Conditions read the watch cache: return only once it shows every victim terminating or gone,
  // so no later check can count a killed pod as still Ready.
  await until(
    {
      description: `killed pods ${plan.victims.join(', ')} seen terminating`,
      sources: [tl.pods],
      evaluate: () => {
        const left = plan.victims.filter((n) => {
          const p = tl.pods.get(n, tl.namespace);
          return p && !p.metadata?.deletionTimestamp;
        });
        return { ok: left.length === 0, observed: left.length ? `still live: ${left.join(', ')}` : 'all terminating' };
      },
    },
    { within: 30_000 },
  );
  return mark;
}

/** Kill pods of a scenario (in plan mode: print the victims, change nothing). */
export async function killScenarioPods(s: Scenario, kill: PodKill): Promise<void> {
  const plan = planPodKill(s.timeline, kill);
  if (s.planOnly) {
    s.plans.push(`kill ${plan.victims.length} of ${plan.of} pod(s) of ${describeTarget(kill.target)}: ${plan.victims.join(', ')} (seed ${plan.seed}); the controller is expected to replace them`);
    return;
  }
  await killPods(s.kube, s.timeline, plan);
}
