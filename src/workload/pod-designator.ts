/**
 * One pod, as a step names it: by name ("pod db-1") or by its place in a workload ("the oldest
 * pod of deployment web"). A place is resolved once, when a step of the scenario first names it:
 * later steps mean the same pod (its UID), so "the oldest pod of deployment web is replaced"
 * speaks of the pod that was killed, not of whichever pod is oldest now.
 */
import type { Scenario } from '../scenario/scenario.js';
import { Slot } from '../scenario/slot.js';
import type { Pod } from '../kube/types.js';
import { describeWorkload, podsOf, type WorkloadKind, type WorkloadRef } from './pods.js';

/** How a step names one pod. */
export type PodDesignator = { name: string } | { place: 'oldest' | 'newest'; workload: WorkloadRef };

export function describePod(d: PodDesignator): string {
  return 'name' in d ? `pod ${d.name}` : `the ${d.place} pod of ${describeWorkload(d.workload)}`;
}

/** The pod as a step first named it. */
export interface NamedPod {
  name: string;
  uid: string;
  restarts: number;
  node?: string;
  /** The workload it belongs to (by its controller, or the designator's). */
  workload?: WorkloadRef;
  /** UIDs of the workload's pods when it was named: a replacement is a pod not among them. */
  siblings: string[];
  namedAt: number;
}

/** A pod's restarts: its containers' restartCounts, summed. */
export function restartsOf(p: Pod | undefined): number {
  return (p?.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

export const NAMED_PODS = new Slot('named pods', () => new Map<string, NamedPod>());

const created = (p: Pod) => new Date(String(p.metadata?.creationTimestamp ?? 0)).getTime();

/** The live pod a designator means right now (before it is remembered). */
function current(s: Scenario, d: PodDesignator): Pod | undefined {
  const tl = s.timeline;
  if ('name' in d) {
    const p = tl.pods.get(d.name, s.namespace);
    return p && !p.metadata?.deletionTimestamp ? p : undefined;
  }
  const pods = podsOf(tl, { workload: d.workload }) ?? [];
  // Ties on creationTimestamp (whole seconds) are broken by name, so the choice is stable.
  const sorted = [...pods].sort((a, b) => created(a) - created(b) || String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  return d.place === 'oldest' ? sorted[0] : sorted.at(-1);
}

const WORKLOAD_OWNERS = new Set<string>(['StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);

/** The workload a pod belongs to: its controller (a Deployment's ReplicaSet counts as the Deployment). */
function ownerOf(s: Scenario, p: Pod): WorkloadRef | undefined {
  const ref = p.metadata?.ownerReferences?.find((o) => o.controller) ?? p.metadata?.ownerReferences?.[0];
  if (!ref || !WORKLOAD_OWNERS.has(ref.kind)) return undefined;
  if (ref.kind === 'ReplicaSet') {
    const rs = s.timeline.informer('ReplicaSet').get(ref.name, s.namespace);
    const dep = rs?.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment');
    if (dep) return { kind: 'Deployment', name: dep.name };
  }
  return { kind: ref.kind as WorkloadKind, name: ref.name };
}

/** The pod a designator names in this scenario: remembered at its first naming. Fails if there is none now. */
export function namedPod(s: Scenario, d: PodDesignator): NamedPod {
  const key = describePod(d);
  const known = s.state(NAMED_PODS).get(key);
  if (known) return known;
  const p = current(s, d);
  if (!p) {
    const why = 'name' in d ? (s.timeline.everSeen('Pod', d.name) ? 'is gone' : 'does not exist') : podsOf(s.timeline, { workload: d.workload }) ? 'does not exist (the workload has no live pod)' : `does not exist (${describeWorkload(d.workload)} does not exist)`;
    throw new Error(`${key} ${why} in namespace ${s.namespace}`);
  }
  const workload = 'workload' in d ? d.workload : ownerOf(s, p);
  const named: NamedPod = {
    name: p.metadata!.name!,
    uid: p.metadata?.uid ?? '',
    restarts: restartsOf(p),
    ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
    ...(workload ? { workload } : {}),
    siblings: workload ? (podsOf(s.timeline, { workload }, { includeTerminating: true }) ?? []).map((x) => x.metadata?.uid ?? '') : [p.metadata?.uid ?? ''],
    namedAt: s.timeline.entries.at(-1)?.at ?? 0,
  };
  s.state(NAMED_PODS).set(key, named);
  return named;
}


/** A step that acts on the pod (a kill) names it afresh: later steps mean the pod as it was then. */
export function renamePod(s: Scenario, d: PodDesignator): NamedPod {
  s.state(NAMED_PODS).delete(describePod(d));
  return namedPod(s, d);
}
