/**
 * Any answer of the Eviction API, expected per pod: "evicting pod P is answered with 404",
 * "evicting a Ready pod of W is answered with 500" (two budgets select it), "… with 429 naming
 * PodDisruptionBudget B", "… with 201" (allowed; 200 counts as allowed too). And what a drain
 * was answered for the pods of a workload (faults/drain.ts records every answer per pod).
 */
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';
import { podReady } from '../timeline/timeline.js';
import { describeWorkload, podsOf, selectorOf, type WorkloadRef } from '../workload/pods.js';
import { matches } from '../workload/selector.js';
import { allowed, answerMatches, askEviction, budgetsSelecting, describeAnswer, type EvictionAnswer } from '../faults/eviction-answer.js';
import { budgetsInStep, budgetsOf } from './eviction.js';
import { DRAINS } from '../faults/drain.js';
import { compare, formatAmount, type Amount } from './amount.js';
import { until } from '../wait/until.js';
import { namedPod, describePod, type PodDesignator } from '../workload/pod-designator.js';

/** A pod by name, one a step names by its place ("the oldest pod of deployment W"), or a Ready pod of a workload. */
export type EvictionPick = { pod: string } | { designated: PodDesignator } | { workload: WorkloadRef };

function expected(status: number, budget?: string): string {
  return `${allowed(status) ? '201/200 (allowed)' : status}${budget ? ` naming PodDisruptionBudget ${budget}` : ''}`;
}

function record(s: Scenario, a: EvictionAnswer): void {
  s.timeline.mark(allowed(a.status) ? 'evicted' : 'eviction refused', `pod ${a.pod}: ${describeAnswer(a)}`);
}

/**
 * Evict one pod — by name (it must have existed in this scenario: a 404 for a name never seen
 * proves nothing), or a Ready pod of a workload once its budgets are in step with the pods —
 * and expect the answer's status (and budget).
 */
export async function expectEvictionAnswer(s: Scenario, pick: EvictionPick, status: number, budget?: string): Promise<EvictionAnswer> {
  const tl = s.timeline;
  let name: string;
  let labels: Record<string, string> | undefined;
  if ('designated' in pick) pick = 'name' in pick.designated ? { pod: pick.designated.name } : { pod: namedPod(s, pick.designated).name };
  if ('pod' in pick) {
    if (!tl.everSeen('Pod', pick.pod)) throw new BadInputError(`pod ${pick.pod} never existed in namespace ${s.namespace}: its eviction's answer would prove nothing`);
    name = pick.pod;
    labels = tl.pods.get(name, tl.namespace)?.metadata?.labels ?? tl.watchEntries('Pod').findLast((e) => e.name === name)?.labels;
    // 404 is the answer for a pod that is gone: one still terminating (a kill's grace period) is asked once the watch shows it gone.
    if (status === 404 && tl.pods.get(name, tl.namespace)?.metadata?.deletionTimestamp) {
      await until({ description: `pod ${name} gone`, sources: [tl.pods], evaluate: () => ({ ok: !tl.pods.get(name, tl.namespace), observed: `pod ${name} still terminating` }) }, { within: 30_000 });
    }
  } else {
    const pods = podsOf(tl, { workload: pick.workload });
    if (!pods) throw new Error(`${describeWorkload(pick.workload)} does not exist in namespace ${s.namespace}`);
    await budgetsInStep(s, budgetsOf(s, pods));
    const pod = (podsOf(tl, { workload: pick.workload }) ?? []).find((p) => podReady(p));
    if (!pod) throw new Error(`no Ready pod of ${describeWorkload(pick.workload)} to evict (pods: ${pods.map((p) => p.metadata?.name).join(', ') || 'none'})`);
    name = pod.metadata!.name!;
    labels = pod.metadata?.labels;
  }
  const answer = await askEviction(s, name, s.namespace, { selecting: budgetsSelecting(tl.pdbs.list(), s.namespace, labels) });
  record(s, answer);
  if (!answerMatches(answer, status, budget)) throw new Error(`evicting pod ${name}: expected ${expected(status, budget)}, answered ${describeAnswer(answer)}`);
  return answer;
}

/** The drain of a node was answered `status` (naming `budget`) for one pod: by name, or the pod a step named by its place. */
export function expectDrainAnsweredForPod(s: Scenario, node: string, d: PodDesignator, status: number, budget?: string): void {
  const drain = s.state(DRAINS).get(node);
  if (!drain) throw new BadInputError(`node ${node} was not drained in this scenario`);
  const pod = 'name' in d ? d.name : namedPod(s, d).name;
  const who = 'name' in d ? `pod ${pod}` : `${describePod(d)} (${pod})`;
  const ev = drain.evictions.find((e) => e.namespace === s.namespace && e.pod === pod);
  if (!ev) throw new Error(`the drain of node ${node} did not try to evict ${who}: it was not on the node (the drain asked for ${drain.evictions.map((e) => e.pod).join(', ') || 'no pod'})`);
  if (!ev.answers.some((a) => answerMatches(a, status, budget))) {
    throw new Error(`the drain of node ${node}: expected ${expected(status, budget)} for ${who}, answered ${ev.answers.map((a) => `${describeAnswer(a)}${a.times > 1 ? ` ×${a.times}` : ''}`).join(' then ') || 'nothing (not asked)'}`);
  }
}

/** The drain of a node was answered `status` (naming `budget`) for `amount` of the workload's pods it tried to evict. */
export function expectDrainAnswered(s: Scenario, node: string, w: WorkloadRef, amount: Amount, status: number, budget?: string): void {
  const drain = s.state(DRAINS).get(node);
  if (!drain) throw new BadInputError(`node ${node} was not drained in this scenario`);
  const reqs = selectorOf(s.timeline, { workload: w });
  if (!reqs) throw new Error(`${describeWorkload(w)} does not exist in namespace ${s.namespace}`);
  const ofWorkload = drain.evictions.filter((e) => e.namespace === s.namespace && matches(e.labels, reqs));
  const hit = ofWorkload.filter((e) => e.answers.some((a) => answerMatches(a, status, budget)));
  if (!compare(hit.length, amount)) {
    const seen = ofWorkload.map((e) => `${e.pod}: ${e.answers.map((a) => `${describeAnswer(a)}${a.times > 1 ? ` ×${a.times}` : ''}`).join(' then ') || 'not asked'}`).join('; ');
    throw new Error(`the drain of node ${node}: expected ${expected(status, budget)} for ${formatAmount(amount)} pod(s) of ${describeWorkload(w)}, got it for ${hit.length} (${seen || `no pod of ${describeWorkload(w)} was on the node`})`);
  }
}
