/**
 * The conditions steps assert, as values over the timeline's informers. Each says in
 * words what it expects and what it saw, so a timeout explains itself.
 */
import type { Timeline } from '../timeline/timeline.js';
import { podReady } from '../timeline/timeline.js';
import type { Condition } from '../wait/until.js';
import { compare, formatAmount, type Amount } from './amount.js';
import {
  describePods,
  describeTarget,
  describeWorkload,
  podInState,
  podsOf,
  workloadObject,
  zoneOfNode,
  type PodState,
  type PodTarget,
  type WorkloadRef,
} from '../workload/pods.js';
import type { Deployment, Node, Pod } from '../kube/types.js';
import { ZONE_LABEL } from '../cluster/nodes.js';

/** How many pods of the target are in a state, optionally only on one node or in one zone. */
export function podCount(tl: Timeline, target: PodTarget, state: PodState, amount: Amount, where: { node?: string; zone?: string } = {}): Condition {
  const place = where.node ? ` on node ${where.node}` : where.zone ? ` in zone ${where.zone}` : '';
  return {
    description: `${formatAmount(amount)} ${state} pod(s) of ${describeTarget(target)}${place}`,
    sources: [tl.pods, ...workloadSource(tl, target), tl.nodes],
    evaluate: () => {
      const pods = podsOf(tl, target);
      if (!pods) return { ok: false, observed: `${describeTarget(target)} does not exist` };
      const nowhere = unknownPlace(tl, where);
      if (nowhere) return { ok: false, observed: nowhere };
      const placed = pods.filter((p) => (!where.node || p.spec?.nodeName === where.node) && (!where.zone || zoneOfNode(tl, p.spec?.nodeName) === where.zone));
      const n = placed.filter((p) => podInState(p, state)).length;
      return { ok: compare(n, amount), observed: `${n} ${state}${place}: ${describePods(placed)}` };
    },
  };
}

/** The informer whose events can make a workload target exist. */
function workloadSource(tl: Timeline, target: PodTarget) {
  return 'workload' in target ? [tl.informer(target.workload.kind)] : [];
}

/** "node-9 does not exist" / "no node is in zone d": a place that names nothing makes a count of pods there meaningless. */
function unknownPlace(tl: Timeline, where: { node?: string; zone?: string }): string | undefined {
  if (where.node && !tl.everSeen('Node', where.node)) return `node ${where.node} does not exist`;
  if (where.zone && !tl.nodes.list().some((n) => n.metadata?.labels?.[ZONE_LABEL] === where.zone)) return `no node is in zone ${where.zone}`;
  return undefined;
}

/** Every zone that has nodes runs at least `min` Ready pods of the target. */
export function spreadOverZones(tl: Timeline, target: PodTarget, min: number): Condition {
  return {
    description: `every zone runs at least ${min} Ready pod(s) of ${describeTarget(target)}`,
    sources: [tl.pods, tl.nodes, ...workloadSource(tl, target)],
    evaluate: () => {
      const pods = podsOf(tl, target);
      if (!pods) return { ok: false, observed: `${describeTarget(target)} does not exist` };
      const zones = new Map<string, number>();
      for (const n of tl.nodes.list()) {
        const z = n.metadata?.labels?.['topology.kubernetes.io/zone'];
        if (z) zones.set(z, 0);
      }
      for (const p of pods) {
        const z = zoneOfNode(tl, p.spec?.nodeName);
        if (z !== undefined && podReady(p)) zones.set(z, (zones.get(z) ?? 0) + 1);
      }
      const counts = [...zones].map(([z, n]) => `${z}: ${n}`).join(', ');
      return { ok: zones.size > 0 && [...zones.values()].every((n) => n >= min), observed: counts || 'no zones' };
    },
  };
}

/**
 * A workload's ready replicas: as its controller reports them (status.readyReplicas /
 * numberReady), and no more than the Ready live pods the scenario's pod watch shows. The
 * status lags a kill by a moment; without the pods' side, "has 3 ready replicas" right after
 * a kill would hold at once and time nothing.
 */
export function readyReplicas(tl: Timeline, w: WorkloadRef, amount: Amount): Condition {
  return {
    description: `${describeWorkload(w)} has ${formatAmount(amount)} ready replica(s)`,
    sources: [tl.informer(w.kind), tl.pods],
    evaluate: () => {
      const obj = workloadObject(tl, w) as { status?: { readyReplicas?: number; numberReady?: number; replicas?: number; desiredNumberScheduled?: number } } | undefined;
      if (!obj) return { ok: false, observed: `${describeWorkload(w)} does not exist` };
      const reported = w.kind === 'DaemonSet' ? (obj.status?.numberReady ?? 0) : (obj.status?.readyReplicas ?? 0);
      const seen = (podsOf(tl, { workload: w }) ?? []).filter((p) => podInState(p, 'Ready')).length;
      const ready = Math.min(reported, seen);
      const of = w.kind === 'DaemonSet' ? obj.status?.desiredNumberScheduled : obj.status?.replicas;
      return { ok: compare(ready, amount), observed: `${ready} ready of ${of ?? '?'} ${w.kind === 'DaemonSet' ? 'wanted' : 'replicas'} (status says ${reported}, ${seen} Ready pod(s) seen)` };
    },
  };
}

/** Deployment rolled out: observed the latest generation, all replicas updated and available, no old ones left. */
export function rolloutComplete(tl: Timeline, name: string): Condition {
  return {
    description: `the rollout of deployment ${name} is complete`,
    sources: [tl.informer('Deployment')],
    evaluate: () => {
      const d = tl.informer('Deployment').get(name, tl.namespace) as Deployment | undefined;
      if (!d) return { ok: false, observed: `deployment ${name} does not exist` };
      const want = d.spec?.replicas ?? 1;
      const s = d.status ?? {};
      const ok =
        (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
        (s.updatedReplicas ?? 0) === want &&
        (s.replicas ?? 0) === want &&
        (s.availableReplicas ?? 0) === want;
      return { ok, observed: `generation ${d.metadata?.generation} observed ${s.observedGeneration}, ${s.updatedReplicas ?? 0} updated, ${s.availableReplicas ?? 0} available, ${s.replicas ?? 0} total of ${want}` };
    },
  };
}

/** Pods of the target are Pending and unschedulable, with the scheduler's message containing `reason`. */
export function pendingBecause(tl: Timeline, target: PodTarget, amount: Amount, reason: string): Condition {
  return {
    description: `${formatAmount(amount)} pod(s) of ${describeTarget(target)} Pending because "${reason}"`,
    sources: [tl.pods, ...workloadSource(tl, target)],
    evaluate: () => {
      const pods = podsOf(tl, target);
      if (!pods) return { ok: false, observed: `${describeTarget(target)} does not exist` };
      const why = (p: Pod) => {
        const c = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
        return c ? `${c.reason ?? ''}: ${c.message ?? ''}` : undefined;
      };
      const pending = pods.filter((p) => p.status?.phase === 'Pending' && why(p)?.toLowerCase().includes(reason.toLowerCase()));
      const seen = pods.map((p) => `${p.metadata?.name} ${p.status?.phase}${why(p) ? ` (${why(p)})` : ''}`).join('; ');
      return { ok: compare(pending.length, amount), observed: seen || 'no pods' };
    },
  };
}

/** A Kubernetes Event with this reason (and optionally message text / object name) was recorded since `since`. */
export function eventRecorded(tl: Timeline, reason: string, opts: { messageContains?: string; object?: string; since?: number } = {}): Condition {
  return {
    description: `an Event "${reason}"${opts.object ? ` for ${opts.object}` : ''}${opts.messageContains ? ` mentioning "${opts.messageContains}"` : ''}`,
    sources: [tl.events],
    evaluate: () => {
      const evs = tl.events.list().filter((e) => e.reason === reason);
      const hit = evs.find(
        (e) =>
          (!opts.object || (e.involvedObject?.name ?? '').startsWith(opts.object)) &&
          (!opts.messageContains || (e.message ?? '').toLowerCase().includes(opts.messageContains.toLowerCase())),
      );
      return { ok: Boolean(hit), observed: evs.length ? evs.map((e) => `${e.involvedObject?.name}: ${e.message}`).join('; ') : `no ${reason} events; recent: ${tl.recentEvents({ limit: 3 }).join(' | ') || 'none'}` };
    },
  };
}

export function jobFinished(tl: Timeline, name: string, outcome: 'Complete' | 'Failed'): Condition {
  return {
    description: `job ${name} is ${outcome}`,
    sources: [tl.informer('Job')],
    evaluate: () => {
      const j = tl.informer('Job').get(name, tl.namespace) as { status?: { conditions?: Array<{ type: string; status: string }>; succeeded?: number; failed?: number } } | undefined;
      if (!j) return { ok: false, observed: `job ${name} does not exist` };
      const ok = j.status?.conditions?.some((c) => c.type === outcome && c.status === 'True') ?? false;
      return { ok, observed: `succeeded ${j.status?.succeeded ?? 0}, failed ${j.status?.failed ?? 0}, conditions ${(j.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).join(',') || 'none'}` };
    },
  };
}

export function nodeReady(tl: Timeline, node: string, status: 'True' | 'False' | 'Unknown' | 'NotTrue'): Condition {
  return {
    description: `node ${node} Ready=${status === 'NotTrue' ? 'False or Unknown' : status}`,
    sources: [tl.nodes],
    evaluate: () => {
      const n = tl.nodes.get(node) as Node | undefined;
      const s = n?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      const ok = status === 'NotTrue' ? s === 'False' || s === 'Unknown' : s === status;
      return { ok, observed: n ? `Ready=${s ?? 'missing'}` : `node ${node} does not exist` };
    },
  };
}

/**
 * The watch cache shows an object at (or after) a resourceVersion a write returned. Steps
 * that change something return only once this holds, so the next condition reads the
 * changed object, not the one before it. (resourceVersions are etcd revisions: ordered
 * integers in practice, which is what this relies on.)
 */
export function observed(tl: Timeline, kind: string, name: string, namespace: string | undefined, resourceVersion: string): Condition {
  const want = BigInt(resourceVersion);
  return {
    description: `${kind} ${name} at resourceVersion ${resourceVersion} seen by the watch`,
    sources: [tl.informer(kind)],
    evaluate: () => {
      const o = tl.informer(kind).get(name, namespace);
      const rv = o?.metadata?.resourceVersion;
      return { ok: rv !== undefined && /^\d+$/.test(rv) && BigInt(rv) >= want, observed: rv ? `resourceVersion ${rv}` : 'not seen' };
    },
  };
}

/** A ResourceQuota is enforced once the quota controller has filled in its status. */
export function quotaEnforced(tl: Timeline, name: string): Condition {
  return {
    description: `ResourceQuota ${name} enforced`,
    sources: [tl.informer('ResourceQuota')],
    evaluate: () => {
      const q = tl.informer('ResourceQuota').get(name, tl.namespace) as { status?: { hard?: Record<string, string> } } | undefined;
      return { ok: Boolean(q?.status?.hard && Object.keys(q.status.hard).length), observed: q ? 'status not yet computed' : 'not seen' };
    },
  };
}
