/**
 * Rollouts that fail: a Deployment whose new ReplicaSet's pods never become Ready. The
 * Deployment controller keeps the old ReplicaSet's pods (within maxUnavailable), makes no
 * further progress, and after progressDeadlineSeconds sets its Progressing condition to False
 * with reason ProgressDeadlineExceeded — it does not roll back. Conditions over the Deployment,
 * ReplicaSet, Pod and EndpointSlice watches; the new ReplicaSet is the one whose revision is
 * the Deployment's, the old ones every other ReplicaSet it owns.
 */
import type { Scenario } from '../scenario/scenario.js';
import type { Timeline } from '../timeline/timeline.js';
import { podReady } from '../timeline/timeline.js';
import type { Deployment, Pod, ReplicaSet } from '../kube/types.js';
import { holds, until, type Condition } from '../wait/until.js';
import { expectWithin } from './expect.js';
import { serviceEndpoints } from '../probes/availability.js';
import { AVAILABILITY_PROBES } from '../probes/availability.js';
import { formatDuration } from '../log.js';

const REVISION = 'deployment.kubernetes.io/revision';
const HASH = 'pod-template-hash';

interface RolloutView {
  d: Deployment;
  desired: number;
  current?: ReplicaSet;
  old: ReplicaSet[];
  /** Live (not terminating) pods of the Deployment's ReplicaSets, by ReplicaSet name. */
  pods: Map<string, Pod[]>;
  newReady: number;
  newAvailable: number;
  oldReady: number;
}

function hashOf(rs: ReplicaSet): string | undefined {
  return rs.metadata?.labels?.[HASH];
}

function view(tl: Timeline, name: string): RolloutView | string {
  const d = tl.informer('Deployment').get(name, tl.namespace) as Deployment | undefined;
  if (!d) return `deployment ${name} does not exist${tl.everSeen('Deployment', name) ? ' any more' : ''}`;
  const owned = (tl.informer('ReplicaSet').list() as ReplicaSet[]).filter((rs) => rs.metadata?.namespace === tl.namespace && rs.metadata?.ownerReferences?.some((o) => o.uid === d.metadata?.uid));
  const revision = d.metadata?.annotations?.[REVISION];
  const current = revision ? owned.find((rs) => rs.metadata?.annotations?.[REVISION] === revision) : undefined;
  const old = owned.filter((rs) => rs !== current);
  const pods = new Map<string, Pod[]>();
  for (const rs of owned) {
    const h = hashOf(rs);
    pods.set(
      rs.metadata!.name!,
      tl.pods.list().filter((p) => p.metadata?.namespace === tl.namespace && !p.metadata?.deletionTimestamp && h !== undefined && p.metadata?.labels?.[HASH] === h && p.metadata?.ownerReferences?.some((o) => o.uid === rs.metadata?.uid)),
    );
  }
  const ready = (rs: ReplicaSet) => (pods.get(rs.metadata!.name!) ?? []).filter(podReady).length;
  return {
    d,
    desired: d.spec?.replicas ?? 1,
    current,
    old,
    pods,
    newReady: current ? ready(current) : 0,
    newAvailable: current?.status?.availableReplicas ?? 0,
    oldReady: old.reduce((n, rs) => n + ready(rs), 0),
  };
}

function progressing(d: Deployment) {
  return d.status?.conditions?.find((c) => c.type === 'Progressing');
}

/** "new web-7d9 (revision 2): 1 pod, 0 Ready, 0 available of 3 desired; old web-5f6: 3 Ready; Progressing=True (ReplicaSetUpdated)" */
function describeRollout(v: RolloutView): string {
  const rsWords = (rs: ReplicaSet) => {
    const pods = v.pods.get(rs.metadata!.name!) ?? [];
    return `${rs.metadata?.name} (revision ${rs.metadata?.annotations?.[REVISION] ?? '?'}): ${pods.length} pod(s), ${pods.filter(podReady).length} Ready`;
  };
  const p = progressing(v.d);
  const cur = v.current ? `new ${rsWords(v.current)}, ${v.newAvailable} available of ${v.desired} desired` : `no ReplicaSet of revision ${v.d.metadata?.annotations?.[REVISION] ?? '?'} yet`;
  const old = v.old.length ? `old ${v.old.map(rsWords).join(', ')}` : 'no old ReplicaSet';
  return `${cur}; ${old}; Progressing=${p?.status ?? '?'}${p?.reason ? ` (${p.reason})` : ''}`;
}

function complete(v: RolloutView): boolean {
  const st = v.d.status ?? {};
  return (st.observedGeneration ?? 0) >= (v.d.metadata?.generation ?? 0) && (st.updatedReplicas ?? 0) === v.desired && (st.availableReplicas ?? 0) === v.desired && (st.replicas ?? 0) === v.desired;
}

/** The Deployment controller has acted on the latest generation and every ReplicaSet has the pods it wants: what a stall is then judged against. */
function settled(tl: Timeline, name: string): Condition {
  return {
    description: `deployment ${name}'s ReplicaSets have the pods the Deployment controller set them to`,
    sources: [tl.informer('Deployment'), tl.informer('ReplicaSet'), tl.pods],
    evaluate: () => {
      const v = view(tl, name);
      if (typeof v === 'string') return { ok: false, observed: v };
      const synced = (v.d.status?.observedGeneration ?? 0) >= (v.d.metadata?.generation ?? 0) && v.current !== undefined;
      const steady = [...(v.current ? [v.current] : []), ...v.old].every((rs) => (v.pods.get(rs.metadata!.name!) ?? []).length === (rs.spec?.replicas ?? 0));
      return { ok: synced && steady, observed: describeRollout(v) };
    },
  };
}

/**
 * For `forMs`, the rollout makes no progress: the new ReplicaSet stays below the desired
 * replicas available and gains no Ready pod, while the old ReplicaSets keep the Ready pods
 * they had when the window began (judged once the controller has settled the ReplicaSets).
 */
export async function expectRolloutStalls(s: Scenario, name: string, forMs: number): Promise<void> {
  const tl = s.timeline;
  await until(settled(tl, name), { within: 15_000 });
  const start = view(tl, name);
  if (typeof start === 'string') throw new Error(start);
  const base = { newReady: start.newReady, oldReady: start.oldReady };
  await holds(
    {
      description: `the rollout of deployment ${name} stalls (fewer than ${start.desired} new pods available, no new pod Ready beyond ${base.newReady}, the old ReplicaSets keep their ${base.oldReady} Ready pod(s))`,
      sources: [tl.informer('Deployment'), tl.informer('ReplicaSet'), tl.pods],
      evaluate: () => {
        const v = view(tl, name);
        if (typeof v === 'string') return { ok: false, observed: v };
        const ok = !complete(v) && v.current !== undefined && v.newAvailable < v.desired && v.newReady <= base.newReady && v.oldReady >= base.oldReady;
        return { ok, observed: `${complete(v) ? 'rollout complete: ' : ''}${describeRollout(v)}` };
      },
    },
    { forMs },
  );
  s.timeline.mark('held', `the rollout of deployment ${name} stalled for ${formatDuration(forMs)}: ${describeRollout(view(tl, name) as RolloutView)}`);
}

/** A rollout that completes will never report ProgressDeadlineExceeded: the wait stops at once. */
export class RolloutOutcomeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RolloutOutcomeError';
  }
}

/** The Deployment's Progressing condition turns False with reason ProgressDeadlineExceeded. */
export function progressDeadlineExceeded(tl: Timeline, name: string): Condition {
  return {
    description: `the rollout of deployment ${name} reports ProgressDeadlineExceeded`,
    sources: [tl.informer('Deployment'), tl.informer('ReplicaSet'), tl.pods],
    evaluate: () => {
      const v = view(tl, name);
      if (typeof v === 'string') return { ok: false, observed: v };
      const p = progressing(v.d);
      const observed = `${describeRollout(v)}${p?.message ? `: ${p.message}` : ''}; progressDeadlineSeconds ${v.d.spec?.progressDeadlineSeconds ?? 600}`;
      if (p?.status === 'False' && p.reason === 'ProgressDeadlineExceeded') return { ok: true, observed };
      if (complete(v) && p?.reason === 'NewReplicaSetAvailable') throw new RolloutOutcomeError(`the rollout of deployment ${name} completed: ${observed}`);
      return { ok: false, observed };
    },
  };
}

export async function expectProgressDeadlineExceeded(s: Scenario, name: string, withinMs: number): Promise<void> {
  await expectWithin(s, progressDeadlineExceeded(s.timeline, name), withinMs);
}

/** Ready endpoints of the Service that are pods of the Deployment's old ReplicaSets. */
export function oldPodsServing(tl: Timeline, name: string, service: string, min: number): Condition {
  return {
    description: `at least ${min} old pod(s) of deployment ${name} are ready endpoints of service ${service}`,
    sources: [tl.informer('Deployment'), tl.informer('ReplicaSet'), tl.pods, tl.endpointSlices, tl.informer('Service')],
    evaluate: () => {
      if (!tl.everSeen('Service', service)) return { ok: false, observed: `service ${service} does not exist` };
      const v = view(tl, name);
      if (typeof v === 'string') return { ok: false, observed: v };
      const oldPods = new Set(v.old.flatMap((rs) => (v.pods.get(rs.metadata!.name!) ?? []).map((p) => p.metadata!.name!)));
      const eps = [...serviceEndpoints(tl, service)];
      const oldReady = eps.filter(([pod, e]) => e.ready && oldPods.has(pod)).map(([pod]) => pod);
      const others = eps.filter(([pod]) => !oldPods.has(pod)).map(([pod, e]) => `${pod} ready:${e.ready}`);
      const none = v.old.length === 0 ? ' (no old ReplicaSet: no rollout under way)' : '';
      return { ok: oldReady.length >= min, observed: `${oldReady.length} old pod(s) ready endpoints: ${oldReady.join(', ') || 'none'}${none}; other endpoints: ${others.join(', ') || 'none'}` };
    },
  };
}

/**
 * For `forMs` (from when the controller has settled the ReplicaSets), the old pods of the
 * Deployment keep at least `min` ready endpoints in the Service; and where the Service's availability is measured by HTTP requests, none of the
 * requests sent in that window failed.
 */
export async function expectOldPodsKeepServing(s: Scenario, name: string, service: string, min: number, forMs: number): Promise<void> {
  // Right after the template changed, the Deployment controller may not have made the new ReplicaSet yet: every pod would look current.
  await until(settled(s.timeline, name), { within: 15_000 });
  const http = s.state(AVAILABILITY_PROBES).get(service)?.http;
  const before = http?.figures();
  await holds(oldPodsServing(s.timeline, name, service, min), { forMs });
  if (http && before) {
    const after = http.figures();
    const failed = after.requests - after.succeeded - (before.requests - before.succeeded);
    if (failed > 0) throw new Error(`the old pods of deployment ${name} kept ${min}+ ready endpoints, but ${failed} of ${after.requests - before.requests} HTTP request(s) through service ${service} failed in those ${formatDuration(forMs)} (first failures: ${after.errors.join(', ') || 'none recorded'})`);
  }
  s.timeline.mark('held', `old pods of deployment ${name} served service ${service} for ${formatDuration(forMs)}`);
}
