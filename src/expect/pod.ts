/**
 * What one pod does (see workload/pod-designator.ts for how a step names it). A name means whichever pod has that name
 * now for its state (a StatefulSet's member comes back under it), and the pod that had it when
 * first named for its identity (replaced, same name, stays).
 */
import type { Scenario } from '../scenario/scenario.js';
import type { Condition } from '../wait/until.js';
import type { Pod, KubeObject } from '../kube/types.js';
import { describePod, namedPod, restartsOf, type PodDesignator } from '../workload/pod-designator.js';
import { podReady } from '../timeline/timeline.js';
import { compare, formatAmount, type Amount } from './amount.js';
import { describePods, describeWorkload, podInState, workloadObject, type PodState, type WorkloadRef } from '../workload/pods.js';
import { matches, requirementsOf, type LabelSelector } from '../workload/selector.js';

/** The pod a designator means for its state: by name, whichever pod has the name now; by place, the remembered one (same UID). */
function podNow(s: Scenario, d: PodDesignator): Pod | undefined {
  if ('name' in d) return s.timeline.pods.get(d.name, s.namespace);
  const n = namedPod(s, d);
  const p = s.timeline.pods.get(n.name, s.namespace);
  return p?.metadata?.uid === n.uid ? p : undefined;
}

function words(p: Pod | undefined): string {
  if (!p) return 'no such pod';
  const c = p.status?.containerStatuses ?? [];
  const waiting = c.map((x) => x.state?.waiting?.reason).filter(Boolean);
  return `${describePods([p])}${p.metadata?.deletionTimestamp ? ' (terminating)' : ''}, ${restartsOf(p)} restart(s)${waiting.length ? `, waiting: ${waiting.join(', ')}` : ''}, uid ${p.metadata?.uid ?? '?'}`;
}

/** The pod is Ready / NotReady / Running / Pending, or has ended Succeeded / Failed. */
export function podIs(s: Scenario, d: PodDesignator, state: PodState): Condition {
  const tl = s.timeline;
  return {
    description: `${describePod(d)} is ${state}`,
    sources: [tl.pods],
    evaluate: () => {
      if ('name' in d && !tl.everSeen('Pod', d.name)) return { ok: false, observed: `pod ${d.name} does not exist` };
      const p = podNow(s, d);
      return { ok: Boolean(p && podInState(p, state) && (state === 'NotReady' || !p.metadata?.deletionTimestamp)), observed: words(p) };
    },
  };
}

/** The pod runs on this node. */
export function podOnNode(s: Scenario, d: PodDesignator, node: string): Condition {
  const tl = s.timeline;
  return {
    description: `${describePod(d)} runs on node ${node}`,
    sources: [tl.pods, tl.nodes],
    evaluate: () => {
      if (!tl.everSeen('Node', node)) return { ok: false, observed: `node ${node} does not exist` };
      const p = podNow(s, d);
      return { ok: Boolean(p && !p.metadata?.deletionTimestamp && p.spec?.nodeName === node), observed: words(p) };
    },
  };
}

/** The pod's containers restarted this many times in all (restartCount, summed). */
export function podRestarts(s: Scenario, d: PodDesignator, amount: Amount): Condition {
  return {
    description: `${describePod(d)} has ${formatAmount(amount)} restart(s)`,
    sources: [s.timeline.pods],
    evaluate: () => {
      const p = podNow(s, d);
      return { ok: Boolean(p && compare(restartsOf(p), amount)), observed: words(p) };
    },
  };
}

/** The same pod (same UID) as when first named, not terminating, in the state: for "stays Running for D". */
export function podStays(s: Scenario, d: PodDesignator, state: PodState): Condition {
  const n = namedPod(s, d);
  const tl = s.timeline;
  return {
    description: `${describePod(d)} (uid ${n.uid}) stays ${state}`,
    sources: [tl.pods],
    evaluate: () => {
      const p = tl.pods.get(n.name, s.namespace);
      if (!p || p.metadata?.uid !== n.uid) return { ok: false, observed: p ? `replaced: ${words(p)}` : `gone (was uid ${n.uid})` };
      if (p.metadata?.deletionTimestamp) return { ok: false, observed: `terminating: ${words(p)}` };
      return { ok: podInState(p, state), observed: words(p) };
    },
  };
}

function selectorOfWorkload(s: Scenario, w: WorkloadRef) {
  const o = workloadObject(s.timeline, w) as (KubeObject & { spec?: { selector?: LabelSelector } }) | undefined;
  return o ? requirementsOf(o.spec?.selector) : undefined;
}

/**
 * The pod is replaced: the pod first named (its UID) is gone, and its workload has a Ready pod
 * that was not there when it was named. `sameName`: the replacement has the name (a
 * StatefulSet's member), else any name (a Deployment's replacement has a new one).
 */
export function podReplaced(s: Scenario, d: PodDesignator, sameName: boolean): Condition {
  const n = namedPod(s, d);
  const tl = s.timeline;
  return {
    description: sameName ? `${describePod(d)} comes back with the same name (${n.name}, a new uid, Ready)` : `${describePod(d)} (${n.name}, uid ${n.uid}) is replaced by a new Ready pod`,
    sources: [tl.pods, ...(n.workload ? [tl.informer(n.workload.kind)] : [])],
    evaluate: () => {
      const old = tl.pods.list().find((p) => p.metadata?.uid === n.uid);
      const oldWords = old ? `${n.name} (uid ${n.uid}) still ${old.metadata?.deletionTimestamp ? 'terminating' : 'there'}` : `${n.name} (uid ${n.uid}) gone`;
      if (sameName) {
        const p = tl.pods.get(n.name, s.namespace);
        const back = Boolean(p && p.metadata?.uid !== n.uid && podReady(p) && !p.metadata?.deletionTimestamp);
        return { ok: !old && back, observed: `${oldWords}; named ${n.name} now: ${p ? words(p) : 'none'}` };
      }
      if (!n.workload) return { ok: false, observed: `${oldWords}; pod ${n.name} has no controller, so nothing replaces it` };
      const reqs = selectorOfWorkload(s, n.workload);
      if (!reqs) return { ok: false, observed: `${oldWords}; ${describeWorkload(n.workload)} does not exist` };
      const fresh = tl.pods.list().filter((p) => matches(p.metadata?.labels, reqs) && !n.siblings.includes(p.metadata?.uid ?? '') && !p.metadata?.deletionTimestamp);
      const ready = fresh.filter((p) => podReady(p));
      return { ok: !old && ready.length > 0, observed: `${oldWords}; new pods of ${describeWorkload(n.workload)}: ${describePods(fresh)}` };
    },
  };
}

/** A pod's life as the timeline saw it (its first incarnation): when first seen and first Ready, with the order of those watch events. */
export interface PodLife {
  name: string;
  createdAt: number;
  readyAt?: number;
  /** Positions on the pod watch: one stream, so they order the events exactly where timestamps tie. */
  createdSeq: number;
  readySeq?: number;
}

/** The first incarnation of each pod of a StatefulSet (name-0, name-1, …), in ordinal order. */
export function statefulSetLives(s: Scenario, name: string): PodLife[] {
  const lives = new Map<string, PodLife>();
  const done = new Set<string>();
  s.timeline.watchEntries('Pod').forEach((e, seq) => {
    const m = e.name.match(/^(.*)-(\d+)$/);
    if (!m || m[1] !== name || done.has(e.name)) return;
    const life = lives.get(e.name) ?? { name: e.name, createdAt: e.at, createdSeq: seq };
    lives.set(e.name, life);
    if (e.type === 'deleted' || e.state.startsWith('Terminating')) done.add(e.name);
    else if (life.readyAt === undefined && e.figures?.available === 1) Object.assign(life, { readyAt: e.at, readySeq: seq });
  });
  const ordinal = (p: PodLife) => Number(p.name.slice(name.length + 1));
  return [...lives.values()].sort((a, b) => ordinal(a) - ordinal(b));
}

/** Where ordered start-up broke: a pod created before the one before it was Ready (undefined: none was). */
export function orderBroken(lives: PodLife[]): { pod: PodLife; before: PodLife } | undefined {
  for (let i = 1; i < lives.length; i++) {
    const before = lives[i - 1]!;
    const pod = lives[i]!;
    if (before.readySeq === undefined || pod.createdSeq < before.readySeq) return { pod, before };
  }
  return undefined;
}

function describeLives(s: Scenario, lives: PodLife[]): string {
  const t0 = lives[0]?.createdAt ?? s.startedAt;
  const at = (t: number | undefined) => (t === undefined ? 'never' : `+${((t - t0) / 1000).toFixed(2)} s`);
  return lives.map((l) => `${l.name} created ${at(l.createdAt)}, Ready ${at(l.readyAt)}`).join('; ') || 'no pod seen';
}

function livesOf(s: Scenario, name: string): PodLife[] {
  const sts = s.timeline.informer('StatefulSet').get(name, s.namespace) as { spec?: { replicas?: number } } | undefined;
  if (!sts && !s.timeline.everSeen('StatefulSet', name)) throw new Error(`statefulset ${name} does not exist in namespace ${s.namespace}`);
  const lives = statefulSetLives(s, name);
  const want = sts?.spec?.replicas ?? lives.length;
  const ready = lives.filter((l) => l.readyAt !== undefined).length;
  if (lives.length < want || ready < want) throw new Error(`statefulset ${name}: ${ready} of ${want} pods were created and Ready, so their order is not known yet (${describeLives(s, lives)})`);
  return lives;
}

/** OrderedReady: each pod n was Ready before pod n+1 was created. */
export function expectOrderedStart(s: Scenario, name: string): void {
  const lives = livesOf(s, name);
  const broken = orderBroken(lives);
  if (broken) throw new Error(`statefulset ${name}: ${broken.pod.name} was created before ${broken.before.name} was Ready (${describeLives(s, lives)})`);
}

/** The opposite claim (podManagementPolicy: Parallel): some pod was created before the one before it was Ready. */
export function expectUnorderedStart(s: Scenario, name: string): void {
  const lives = livesOf(s, name);
  if (!orderBroken(lives)) throw new Error(`statefulset ${name} started its pods one at a time, each Ready before the next was created (${describeLives(s, lives)})`);
}
