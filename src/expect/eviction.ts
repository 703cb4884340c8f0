/**
 * How a PodDisruptionBudget treats pods whose readiness broke: it counts them unhealthy, so
 * it allows fewer disruptions, and (unless its unhealthyPodEvictionPolicy is AlwaysAllow) the
 * Eviction API refuses with 429 what it does not allow. These steps ask the real API server.
 */
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';
import { isTooManyRequests } from '../kube/errors.js';
import type { PodDisruptionBudget, Pod } from '../kube/types.js';
import { podReady } from '../timeline/timeline.js';
import { describeWorkload, podsOf, type WorkloadRef } from '../workload/pods.js';
import { matches, requirementsOf, type LabelSelector } from '../workload/selector.js';
import { compare, formatAmount, type Amount } from './amount.js';
import type { Condition } from '../wait/until.js';
import { until } from '../wait/until.js';
import { unreadyVictims } from '../faults/readiness.js';

function healthyPods(s: Scenario, pdb: PodDisruptionBudget): Pod[] {
  const reqs = requirementsOf(pdb.spec?.selector as LabelSelector | undefined);
  return s.timeline.pods.list().filter((p) => p.metadata?.namespace === s.namespace && matches(p.metadata?.labels, reqs) && podReady(p) && !p.metadata?.deletionTimestamp);
}

function describePdb(pdb: PodDisruptionBudget | undefined): string {
  const st = pdb?.status;
  return st ? `healthy ${st.currentHealthy}/${st.desiredHealthy}, disruptionsAllowed ${st.disruptionsAllowed}, unhealthyPodEvictionPolicy ${pdb?.spec?.unhealthyPodEvictionPolicy ?? 'IfHealthyBudget (default)'}` : 'no status yet';
}

/** The budget's own count of healthy pods (status.currentHealthy). */
export function pdbHealthy(s: Scenario, name: string, amount: Amount): Condition {
  const tl = s.timeline;
  return {
    description: `PodDisruptionBudget ${name} counts ${formatAmount(amount)} healthy pod(s)`,
    sources: [tl.pdbs],
    evaluate: () => {
      const pdb = tl.pdbs.get(name, tl.namespace);
      if (!pdb) return { ok: false, observed: `PodDisruptionBudget ${name} does not exist` };
      return { ok: compare(pdb.status?.currentHealthy ?? -1, amount), observed: describePdb(pdb) };
    },
  };
}

/** Wait (up to 30 s) until every budget has caught up with its pods' readiness, so an eviction's answer is about the state the scenario set up, not a stale budget. */
export async function budgetsInStep(s: Scenario, budgets: PodDisruptionBudget[]): Promise<void> {
  const tl = s.timeline;
  // A pod several budgets select is answered 500 whatever their status, and the disruption
  // controller updates only one of them (chosen arbitrarily) on that pod's events: wait only for
  // budgets that share no pod with another.
  const all = tl.pdbs.list().filter((b) => b.metadata?.namespace === tl.namespace);
  const names = (b: PodDisruptionBudget) => healthyPods(s, b).map((p) => p.metadata?.name);
  const shared = (b: PodDisruptionBudget) => names(b).some((n) => all.some((o) => o.metadata?.name !== b.metadata?.name && names(o).includes(n)));
  budgets = budgets.filter((b) => !shared(tl.pdbs.get(b.metadata!.name!, tl.namespace) ?? b));
  if (budgets.length === 0) return;
  await until(
    {
      description: `PodDisruptionBudget(s) ${budgets.map((b) => b.metadata?.name).join(', ')} in step with the pods' readiness`,
      sources: [tl.pdbs, tl.pods],
      evaluate: () => {
        const lagging = budgets
          .map((b) => tl.pdbs.get(b.metadata!.name!, tl.namespace) ?? b)
          .filter((b) => (b.status?.observedGeneration ?? 0) < (b.metadata?.generation ?? 0) || b.status?.currentHealthy !== healthyPods(s, b).length);
        return { ok: lagging.length === 0, observed: lagging.map((b) => `${b.metadata?.name}: ${describePdb(b)} vs ${healthyPods(s, b).length} Ready pods`).join('; ') || 'in step' };
      },
    },
    { within: 30_000 },
  );
}

/** The budgets that govern a workload's pods. */
export function budgetsOf(s: Scenario, pods: Pod[]): PodDisruptionBudget[] {
  return s.timeline.pdbs.list().filter((b) => b.metadata?.namespace === s.namespace && pods.some((p) => matches(p.metadata?.labels, requirementsOf(b.spec?.selector as LabelSelector | undefined))));
}

/** The pods of the workload whose readiness this scenario broke (none if it broke none). */
function brokenPods(s: Scenario, w: WorkloadRef): Set<string> {
  try {
    return new Set(unreadyVictims(s, { workload: w }).map((v) => v.name));
  } catch (err) {
    if (err instanceof BadInputError) return new Set();
    throw err;
  }
}

/**
 * Evict one pod of the workload — a Ready one, or an unready one (preferably one whose
 * readiness this scenario broke) — and expect the API server to refuse it (429) or to allow
 * it. Works whatever exhausted the budget: unready pods, a drain, minAvailable = replicas.
 * First waits until every budget governing the pods has caught up with their readiness, so
 * the answer is about the state the scenario set up, not a stale budget.
 */
export async function expectEviction(s: Scenario, w: WorkloadRef, which: 'Ready' | 'unready', expected: 'refused' | 'allowed'): Promise<void> {
  const tl = s.timeline;
  const pods = podsOf(tl, { workload: w });
  if (!pods) throw new Error(`${describeWorkload(w)} does not exist in namespace ${s.namespace}`);
  const budgets = budgetsOf(s, pods);
  if (budgets.length === 0) throw new Error(`no PodDisruptionBudget governs the pods of ${describeWorkload(w)} (${pods.length} pod(s)), so nothing would refuse their eviction`);
  const unready = brokenPods(s, w);
  await budgetsInStep(s, budgets);
  const live = podsOf(tl, { workload: w }) ?? [];
  const notReady = live.filter((p) => !podReady(p));
  const candidates = which === 'Ready' ? live.filter((p) => podReady(p) && !unready.has(p.metadata!.name!)) : [...notReady.filter((p) => unready.has(p.metadata!.name!)), ...notReady.filter((p) => !unready.has(p.metadata!.name!))];
  const pod = candidates[0];
  if (!pod) throw new Error(`no ${which} pod of ${describeWorkload(w)} to evict (pods: ${live.map((p) => `${p.metadata?.name}${podReady(p) ? ' Ready' : ' NotReady'}`).join(', ') || 'none'})`);
  const name = pod.metadata!.name!;
  const budgetWords = budgets.map((b) => `${b.metadata?.name}: ${describePdb(tl.pdbs.get(b.metadata!.name!, tl.namespace))}`).join('; ');
  let refusal: string | undefined;
  try {
    await s.kube.evict(name, s.namespace);
  } catch (err) {
    if (!isTooManyRequests(err)) throw err;
    refusal = (err as Error).message;
  }
  s.timeline.mark(refusal ? 'eviction refused' : 'evicted', `${which} pod ${name}: ${refusal ?? 'allowed'} (${budgetWords})`);
  if (expected === 'refused' && !refusal) throw new Error(`the eviction of ${which} pod ${name} was allowed, expected 429 (${budgetWords})`);
  if (expected === 'allowed' && refusal) throw new Error(`the eviction of ${which} pod ${name} was refused: ${refusal} (${budgetWords})`);
}
