/** Where a workload's pods run: a precondition of node-failure scenarios (their pods must be on the node that fails). */
import type { Timeline } from '../timeline/timeline.js';
import { podReady } from '../timeline/timeline.js';
import { describeWorkload, podsOf, type WorkloadRef } from '../workload/pods.js';
import type { Condition } from './until.js';

export function readyPodsOnNode(tl: Timeline, w: WorkloadRef, node: string, count: number): Condition {
  return {
    description: `${count} Ready pod(s) of ${describeWorkload(w)} on node ${node}`,
    sources: [tl.pods],
    evaluate: () => {
      const pods = (podsOf(tl, { workload: w }) ?? []).filter((p) => !p.metadata?.deletionTimestamp);
      const on = pods.filter((p) => p.spec?.nodeName === node && podReady(p));
      return { ok: on.length >= count, observed: pods.map((p) => `${p.metadata?.name} on ${p.spec?.nodeName ?? '(unscheduled)'}${podReady(p) ? '' : ' not Ready'}`).join(', ') || 'no pods' };
    },
  };
}
