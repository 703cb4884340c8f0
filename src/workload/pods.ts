/** Which pods belong to what: workloads, selectors, nodes, zones — read from the timeline's caches. */
import { BadInputError } from '../errors.js';
import type { Timeline } from '../timeline/timeline.js';
import { podReady } from '../timeline/timeline.js';
import type { KubeObject, Pod } from '../kube/types.js';
import { matches, parseSelector, requirementsOf, formatSelector, type LabelSelector, type Requirement } from './selector.js';
import { ZONE_LABEL } from '../cluster/nodes.js';

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
}

export function workloadKind(word: string): WorkloadKind {
  const k = WORKLOAD_KINDS.find((w) => w.toLowerCase() === word.toLowerCase());
  if (!k) throw new BadInputError(`"${word}" is not a workload kind (${WORKLOAD_KINDS.join(', ')})`);
  return k;
}

export function describeWorkload(w: WorkloadRef): string {
  return `${w.kind.toLowerCase()} ${w.name}`;
}

/** The pods a target selects: a workload (by its selector) or a label selector string. */
export type PodTarget = { workload: WorkloadRef } | { selector: string };

export function describeTarget(t: PodTarget): string {
  return 'workload' in t ? describeWorkload(t.workload) : `pods matching "${t.selector}"`;
}

export function workloadObject(tl: Timeline, w: WorkloadRef): KubeObject | undefined {
  return tl.informer(w.kind).get(w.name, tl.namespace);
}

export function selectorOf(tl: Timeline, t: PodTarget): Requirement[] | undefined {
  if ('selector' in t) return parseSelector(t.selector);
  const obj = workloadObject(tl, t.workload) as (KubeObject & { spec?: { selector?: LabelSelector } }) | undefined;
  if (!obj) return undefined;
  return requirementsOf(obj.spec?.selector);
}

/** Live (not terminating) pods of the target; undefined when the workload does not exist (yet). */
export function podsOf(tl: Timeline, t: PodTarget, opts: { includeTerminating?: boolean } = {}): Pod[] | undefined {
  const reqs = selectorOf(tl, t);
  if (!reqs) return undefined;
  return tl.pods
    .list()
    .filter((p) => p.metadata?.namespace === tl.namespace && matches(p.metadata?.labels, reqs))
    .filter((p) => opts.includeTerminating || !p.metadata?.deletionTimestamp)
    .sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
}

export type PodState = 'Ready' | 'Running' | 'Pending' | 'NotReady' | 'Succeeded' | 'Failed';

export function podInState(p: Pod, state: PodState): boolean {
  switch (state) {
    case 'Ready':
      return podReady(p) && !p.metadata?.deletionTimestamp;
    case 'NotReady':
      return !podReady(p);
    case 'Running':
      return p.status?.phase === 'Running';
    case 'Pending':
      return p.status?.phase === 'Pending' || !p.status?.phase;
    case 'Succeeded':
    case 'Failed':
      return p.status?.phase === state;
  }
}

export function zoneOfNode(tl: Timeline, node: string | undefined): string | undefined {
  return node ? tl.nodes.get(node)?.metadata?.labels?.[ZONE_LABEL] : undefined;
}

export function targetSelectorText(tl: Timeline, t: PodTarget): string {
  const reqs = selectorOf(tl, t);
  return reqs ? formatSelector(reqs) : '?';
}

/** "web-abc Ready on node-1, web-def Pending unscheduled" — for failure messages. */
export function describePods(pods: Pod[]): string {
  if (pods.length === 0) return 'no pods';
  return pods
    .map((p) => `${p.metadata?.name} ${p.metadata?.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Pending')}${podReady(p) ? ' Ready' : ''}${p.spec?.nodeName ? ` on ${p.spec.nodeName}` : ''}`)
    .join(', ');
}
