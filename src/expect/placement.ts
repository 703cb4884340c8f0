/** Where a workload's pods run: a precondition of node-failure scenarios (their pods must be on the node that fails). */
import type { Timeline } from '../timeline/timeline.js';
import { podReady } from '../timeline/timeline.js';
import { describeWorkload, podsOf, type WorkloadRef } from '../workload/pods.js';
import type { Condition } from '../wait/until.js';

export function readyPodsOnNode(tl: Timeline, w: WorkloadRef, node: string, count: number): Condition {
  return {
    description: `${count} Ready pod(s) of ${describeWorkload(w)} on node ${node}`,
    sources: [tl.pods, tl.informer(w.kind), tl.nodes],
    evaluate: () => {
      const all = podsOf(tl, { workload: w });
      if (!all) return { ok: false, observed: `${describeWorkload(w)} does not exist` };
      if (!tl.everSeen('Node', node)) return { ok: false, observed: `node ${node} does not exist` };
      const pods = all.filter((p) => !p.metadata?.deletionTimestamp);
      const on = pods.filter((p) => p.spec?.nodeName === node && podReady(p));
      return { ok: on.length >= count, observed: pods.map((p) => `${p.metadata?.name} on ${p.spec?.nodeName ?? '(unscheduled)'}${podReady(p) ? '' : ' not Ready'}`).join(', ') || 'no pods' };
    },
  };
}
