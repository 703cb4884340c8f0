/**
 * Pod kill: delete chosen pods of a workload (or selector) directly, as a crash or an
 * operator would — not through the Eviction API, so no PodDisruptionBudget protects them.
 * Nothing to undo: the controller's recreation is what the scenario measures.
 */
import { BadInputError } from '../errors.js';
import type { Pod } from '../kube/types.js';
import type { Timeline } from '../timeline/timeline.js';
import { describeTarget, podsOf, type PodTarget } from '../workload/pods.js';
import { choose, newSeed } from './random.js';
import { until } from '../wait/until.js';
import type { Scenario } from '../scenario/scenario.js';
import { injectFault, type Inject } from './fault.js';

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

/**
 * Delete the planned victims, as a fault of the scenario (timeline, fault list, fault window);
 * returns the moment the deletes were sent. Nothing to undo: replacing them is the
 * controller's job, and what is asserted.
 */
export async function killPods(s: Scenario, target: PodTarget, plan: PodKillPlan): Promise<number | undefined> {
  return injectFault(s, plan, (p) => describePodKill(target, p), (p, inject) => killPodsWith(s, target, p, inject));
}

function describePodKill(target: PodTarget, plan: PodKillPlan): string {
  return `kill ${plan.victims.length} of ${plan.of} pod(s) of ${describeTarget(target)}: ${plan.victims.join(', ')} (seed ${plan.seed}); the controller is expected to replace them`;
}

/** `killPods` past the plan: `inject` records the kill. */
export async function killPodsWith(s: Scenario, target: PodTarget, plan: PodKillPlan, inject: Inject): Promise<number> {
  const tl = s.timeline;
  const detail = `${plan.victims.join(', ')} (seed ${plan.seed}${plan.gracePeriodSeconds !== undefined ? `, grace ${plan.gracePeriodSeconds}s` : ''})`;
  // By UID: a StatefulSet's replacement takes the same name, and can be in the watch cache before the killed pod was ever seen terminating.
  const uids = new Map(plan.victims.map((n) => [n, tl.pods.get(n, tl.namespace)?.metadata?.uid]));
  const injected = await inject({ fault: 'kill pods', target: targetOf(s, target), noUndo: "replacing them is the controller's job, and what is asserted", detail }, async () => {
    await Promise.all(plan.victims.map((name) => s.kube.delete('Pod', name, tl.namespace, { gracePeriodSeconds: plan.gracePeriodSeconds })));
  });
  // Conditions read the watch cache: return only once it shows every victim terminating or gone,
  // so no later check can count a killed pod as still Ready.
  await until(
    {
      description: `killed pods ${plan.victims.join(', ')} seen terminating`,
      sources: [tl.pods],
      evaluate: () => {
        const left = plan.victims.filter((n) => {
          const p = tl.pods.get(n, tl.namespace);
          return p && !p.metadata?.deletionTimestamp && (uids.get(n) === undefined || p.metadata?.uid === uids.get(n));
        });
        return { ok: left.length === 0, observed: left.length ? `still live: ${left.join(', ')}` : 'all terminating' };
      },
    },
    { within: 30_000 },
  );
  return injected.at;
}

/** The fault's target for the report: the workload, or the pods of a selector. */
function targetOf(s: Scenario, target: PodTarget): { kind: string; name: string; namespace: string } {
  return 'workload' in target ? { kind: target.workload.kind, name: target.workload.name, namespace: s.namespace } : { kind: 'Pod', name: describeTarget(target), namespace: s.namespace };
}

/** Kill pods of a scenario (in plan mode: print the victims, change nothing). */
export async function killScenarioPods(s: Scenario, kill: PodKill): Promise<void> {
  await killPods(s, kill.target, planPodKill(s.timeline, kill));
}
