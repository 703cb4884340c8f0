/** Assertions about what faults did, answered from their records and the timeline. */
import { DRAINS } from '../faults/drain.js';
import { nodeDownOf } from '../faults/node-down.js';
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';
import { formatDuration } from '../log.js';
import { maxUnavailable, minDisruptionsAllowed } from '../timeline/queries.js';
import { selectorOf, describeWorkload, describePods, podsOf, type WorkloadRef } from '../workload/pods.js';
import type { DrainResult } from '../faults/drain.js';
import type { Condition } from '../wait/until.js';
import { expectWithin } from './expect.js';
import { until, ConditionTimeout } from '../wait/until.js';
import { now } from '../kube/informer.js';
import { nodeFailurePhases } from '../faults/node-down.js';
import { podReady } from '../timeline/timeline.js';
import { matches as matchesLabels } from '../workload/selector.js';
import { windowOf, type Window } from './window.js';

function drainOf(s: Scenario, node: string): DrainResult {
  const r = s.state(DRAINS).get(node);
  if (!r) throw new BadInputError(`node ${node} was not drained in this scenario`);
  return r;
}

export function expectDrainCompletedWithin(s: Scenario, node: string, withinMs: number): void {
  const r = drainOf(s, node);
  if (r.completedAt === undefined) throw new Error(`the drain of node ${node} did not complete: ${r.gaveUp?.pods.join(', ')} not evicted${r.gaveUp?.blockedBy.length ? ` (blocked by PodDisruptionBudget ${r.gaveUp.blockedBy.join(', ')})` : ''}`);
  const took = r.completedAt - r.startedAt;
  if (took > withinMs) throw new Error(`the drain of node ${node} took ${formatDuration(took)}, more than ${formatDuration(withinMs)}`);
}

/** How long a budget held the drain up: from the first refusal it caused to the last pod it let go (or the give-up). */
export function blockedMs(r: DrainResult, pdb: string): number {
  const held = r.evictions.filter((e) => e.blockedBy.includes(pdb) && e.firstRefusedAt !== undefined);
  if (held.length === 0) return 0;
  const from = Math.min(...held.map((e) => e.firstRefusedAt!));
  const to = Math.max(...held.map((e) => e.evictedAt ?? r.gaveUp?.at ?? from));
  return to - from;
}

export function expectDrainBlocked(s: Scenario, node: string, pdb: string, bound: { atLeastMs?: number; atMostMs?: number }): void {
  const r = drainOf(s, node);
  const ms = blockedMs(r, pdb);
  s.timeline.measure({ name: `drain of node ${node} blocked by PodDisruptionBudget ${pdb}`, value: Math.round(ms), unit: 'ms' });
  if (ms === 0 && bound.atLeastMs !== undefined) {
    const refusals = r.evictions.filter((e) => e.refusals > 0).map((e) => `${e.pod}: refused ${e.refusals}× by ${e.blockedBy.join(', ') || '?'}`);
    throw new Error(`PodDisruptionBudget ${pdb} never blocked the drain of node ${node}${refusals.length ? ` (refusals: ${refusals.join('; ')})` : ' (no eviction was refused)'}`);
  }
  if (bound.atLeastMs !== undefined && ms < bound.atLeastMs) throw new Error(`PodDisruptionBudget ${pdb} blocked the drain of node ${node} for ${formatDuration(ms)}, less than ${formatDuration(bound.atLeastMs)}`);
  if (bound.atMostMs !== undefined && ms > bound.atMostMs) throw new Error(`PodDisruptionBudget ${pdb} blocked the drain of node ${node} for ${formatDuration(ms)}, more than ${formatDuration(bound.atMostMs)}`);
}

export function expectDrainGaveUp(s: Scenario, node: string, pdb: string): void {
  const r = drainOf(s, node);
  if (!r.gaveUp) throw new Error(`the drain of node ${node} completed in ${formatDuration((r.completedAt ?? 0) - r.startedAt)}; expected PodDisruptionBudget ${pdb} to block it`);
  if (!r.gaveUp.blockedBy.includes(pdb)) throw new Error(`the drain of node ${node} gave up, but blocked by ${r.gaveUp.blockedBy.join(', ') || 'no budget'} rather than PodDisruptionBudget ${pdb}`);
}

/** The worst moment of a workload since the first fault, measured once per scenario and workload. */
export function worstUnavailable(s: Scenario, w: WorkloadRef, window: Window = windowOf(s)) {
  const selector = selectorOf(s.timeline, { workload: w });
  const since = window.at;
  const worst = selector ? maxUnavailable(s.timeline, { kind: w.kind, name: w.name, selector, since }) : undefined;
  if (!selector || !worst?.seen) throw new Error(`${describeWorkload(w)} does not exist in namespace ${s.namespace} (nor did it during the scenario)`);
  s.timeline.measure({ name: `most pods of ${describeWorkload(w)} unavailable at once`, value: worst.value, unit: 'count', detail: { events: worst.events } });
  const when = worst.at !== undefined ? `${formatDuration(worst.at - since)} after ${window.what}` : undefined;
  return { ...worst, when };
}

export function expectMaxUnavailable(s: Scenario, w: WorkloadRef, atMost: number, window?: Window): void {
  const worst = worstUnavailable(s, w, window);
  if (worst.value > atMost) {
    throw new Error(`${worst.value} pods of ${describeWorkload(w)} were unavailable at once, ${worst.when ?? 'at some moment'} (at most ${atMost} allowed; ${worst.events} events replayed)`);
  }
}

/** The opposite claim, for myth-vs-fact scenarios: at one moment at least `n` pods were unavailable. */
export function expectUnavailableReached(s: Scenario, w: WorkloadRef, n: number): void {
  const worst = worstUnavailable(s, w);
  if (worst.value < n) throw new Error(`at most ${worst.value} pod(s) of ${describeWorkload(w)} were unavailable at any moment (expected at least ${n}; ${worst.events} events replayed)`);
}

export function expectPdbNeverNegative(s: Scenario, pdb: string, window: Window = windowOf(s)): void {
  const worst = minDisruptionsAllowed(s.timeline, pdb, window.at);
  if (!Number.isFinite(worst.value)) throw new Error(`PodDisruptionBudget ${pdb} was never seen`);
  s.timeline.measure({ name: `lowest disruptionsAllowed of PodDisruptionBudget ${pdb}`, value: worst.value, unit: 'count' });
  if (worst.value < 0) throw new Error(`PodDisruptionBudget ${pdb} reported disruptionsAllowed ${worst.value}${worst.at !== undefined ? `, ${formatDuration(Math.max(0, worst.at - window.at))} after ${window.what}` : ''}`);
}

/**
 * The pods of a workload left a node between `minMs` and `maxMs` after the last taint:
 * measured from the taint's timeline mark to the watch event of the first pod leaving. Waits
 * (on pod watch events) until a pod has left or `maxMs` after the taint has passed, then judges:
 * an eviction decided but still terminating is not yet "left".
 */
export async function expectEvictionDelay(s: Scenario, w: WorkloadRef, node: string, minMs: number, maxMs: number): Promise<void> {
  const taint = s.timeline.lastAction('taint node');
  if (!taint) throw new BadInputError('no node was tainted in this scenario');
  const tl = s.timeline;
  const selector = selectorOf(tl, { workload: w });
  if (!selector) throw new Error(`${describeWorkload(w)} does not exist in namespace ${s.namespace}`);
  const firstLeft = () => tl.watchEntries('Pod', taint.at).find((e) => e.node === node && (e.type === 'deleted' || e.state.startsWith('Terminating')) && matchesLabels(e.labels, selector));
  const onNode = () => (podsOf(tl, { workload: w }) ?? []).filter((p) => p.spec?.nodeName === node);
  try {
    await until(
      {
        description: `a pod of ${describeWorkload(w)} leaves node ${node}`,
        sources: [tl.pods],
        evaluate: () => ({ ok: firstLeft() !== undefined, observed: `on ${node}: ${describePods(onNode())}` }),
      },
      { within: Math.max(0, taint.at + maxMs - now()) },
    );
  } catch (err) {
    if (!(err instanceof ConditionTimeout)) throw err;
    throw new Error(`no pod of ${describeWorkload(w)} left node ${node} within ${formatDuration(maxMs)} of the taint (on ${node} now: ${describePods(onNode())})`);
  }
  const left = firstLeft()!;
  const ms = left.at - taint.at;
  s.timeline.measure({ name: `${describeWorkload(w)} evicted from node ${node} after the taint`, value: Math.round(ms), unit: 'ms' });
  if (ms < minMs || ms > maxMs) throw new Error(`the first pod of ${describeWorkload(w)} left node ${node} ${formatDuration(ms)} after the taint, not between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`);
}

/** After a node went down: the scenario has as many Ready pods as before, none on that node; the phases are recorded. */
export async function expectNodeReplaced(s: Scenario, node: string, withinMs: number): Promise<void> {
  const down = nodeDownOf(s, node);
  if (!down) throw new BadInputError(`node ${node} was not taken down in this scenario`);
  const tl = s.timeline;
  const condition: Condition = {
    description: `${down.readyBefore} Ready pods again, none on node ${node}`,
    sources: [tl.pods],
    evaluate: () => {
      const ready = tl.pods.list().filter((p) => podReady(p) && !p.metadata?.deletionTimestamp && p.spec?.nodeName !== node);
      return { ok: ready.length >= down.readyBefore, observed: `${ready.length} Ready elsewhere; on ${node}: ${tl.pods.list().filter((p) => p.spec?.nodeName === node).map((p) => `${p.metadata?.name}${p.metadata?.deletionTimestamp ? ' (terminating)' : ''}`).join(', ') || 'none'}` };
    },
  };
  await expectWithin(s, condition, withinMs);
  const phases = nodeFailurePhases(s, down);
  const t = s.cluster.timings;
  tl.measure({
    name: `failure of node ${node}: replacements Ready`,
    value: phases.at(-1)?.afterMs ?? 0,
    unit: 'ms',
    detail: {
      phases: phases.map((p) => `${p.name}: +${formatDuration(p.afterMs)}`),
      timingsInForce: `node-monitor-grace ${t.nodeMonitorGracePeriodSeconds}s, ${down.mode !== 'not-ready' ? 'unreachable' : 'not-ready'} toleration ${down.mode !== 'not-ready' ? t.defaultUnreachableTolerationSeconds : t.defaultNotReadyTolerationSeconds}s`,
    },
  });
}
