/**
 * What a HorizontalPodAutoscaler did under load: scaled its target up within a deadline,
 * never past its maximum, and back down once the load went and its stabilization window
 * passed. Read from the watch (the target's spec.replicas is the HPA's decision in force).
 */
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';
import type { HorizontalPodAutoscaler } from '../kube/types.js';
import type { WatchEntry } from '../timeline/timeline.js';
import type { Condition } from '../wait/until.js';
import { expectWithin } from './expect.js';
import { unlessPlanning } from '../scenario/plan.js';
import { scaleDownWindow } from '../report/figures.js';
import { formatDuration } from '../log.js';
import type { Window } from './window.js';
import { lastScaleByHand } from '../workload/change.js';
import type { WorkloadKind } from '../workload/pods.js';

interface Target {
  hpa: HorizontalPodAutoscaler;
  kind: string;
  name: string;
}

function targetOf(s: Scenario, hpa: string): Target {
  const h = s.timeline.hpas.get(hpa, s.namespace);
  if (!h) throw new BadInputError(`HorizontalPodAutoscaler ${hpa} does not exist in namespace ${s.namespace}`);
  const ref = h.spec?.scaleTargetRef;
  if (!ref || !s.timeline.watches(ref.kind)) throw new BadInputError(`HorizontalPodAutoscaler ${hpa} scales ${ref?.kind ?? '?'}/${ref?.name ?? '?'}, which kubeproof does not watch`);
  return { hpa: h, kind: ref.kind, name: ref.name };
}

function replicasNow(s: Scenario, t: Target): number | undefined {
  return (s.timeline.informer(t.kind).get(t.name, s.namespace) as { spec?: { replicas?: number } } | undefined)?.spec?.replicas;
}

function hpaWords(s: Scenario, hpa: string): string {
  const h = s.timeline.hpas.get(hpa, s.namespace);
  const st = h?.status;
  const cpu = st?.currentMetrics?.[0]?.resource?.current?.averageUtilization;
  const reasons = (st?.conditions ?? []).map((c) => `${c.type}=${c.status}(${c.reason})`).join(' ');
  return `HPA ${hpa}: current ${st?.currentReplicas ?? '?'}, desired ${st?.desiredReplicas ?? '?'}${cpu !== undefined ? `, cpu ${cpu}%` : ''}${reasons ? `, ${reasons}` : ''}`;
}

function replicasCondition(s: Scenario, hpa: string, t: Target, test: (n: number) => boolean, words: string): Condition {
  return {
    description: `HorizontalPodAutoscaler ${hpa} has scaled ${t.kind.toLowerCase()} ${t.name} ${words}`,
    sources: [s.timeline.informer(t.kind), s.timeline.hpas],
    evaluate: () => {
      const n = replicasNow(s, t);
      return { ok: n !== undefined && test(n), observed: `${t.kind.toLowerCase()} ${t.name} at ${n ?? '?'} replicas; ${hpaWords(s, hpa)}` };
    },
  };
}

/** The target's replicas as the timeline had them at `at`. */
function replicasAt(s: Scenario, t: Target, at: number): number | undefined {
  let n: number | undefined;
  for (const e of s.timeline.watchEntries(t.kind)) {
    if (e.at > at) break;
    if (e.name === t.name && e.figures?.replicas !== undefined) n = e.figures.replicas;
  }
  return n;
}

/**
 * The HPA's target had `from` replicas at the start of what the step sees, and reaches at least
 * `to` within the deadline. That start is the load's beginning (the HPA may already have acted
 * on it by the time the step runs) — unless the target was scaled by hand after the load began
 * (a scale, or a patch of spec.replicas): then it is the step's own start.
 */
export async function expectScaleUp(s: Scenario, hpa: string, from: number, to: number, withinMs: number): Promise<void> {
  const t = targetOf(s, hpa);
  const load = s.timeline.lastAction('apply load');
  const byHand = lastScaleByHand(s.timeline, { kind: t.kind as WorkloadKind, name: t.name });
  const anchor = load && !(byHand && byHand.at > load.at) ? load : undefined;
  const before = anchor ? replicasAt(s, t, anchor.at) : replicasNow(s, t);
  const when = anchor ? 'when the load began' : byHand ? 'when the step began (after it was scaled by hand)' : 'when the step began';
  if (before !== from) throw new Error(`${t.kind.toLowerCase()} ${t.name} had ${before ?? '?'} replicas ${when}, not ${from}`);
  await expectWithin(s, replicasCondition(s, hpa, t, (n) => n >= to, `from ${from} to at least ${to} replicas`), withinMs);
}

/** Back down to `to` replicas; records how long after the load was removed, with the window in force. */
export async function expectScaleDown(s: Scenario, hpa: string, to: number, withinMs: number): Promise<void> {
  const t = targetOf(s, hpa);
  const outcome = await expectWithin(s, replicasCondition(s, hpa, t, (n) => n === to, `back down to ${to} replicas`), withinMs);
  const removed = s.timeline.lastAction('remove load');
  const window = scaleDownWindow(t.hpa, s.cluster.timings);
  if (removed) {
    s.timeline.measure({
      name: `HPA ${hpa} scale-down to ${to} replicas after the load was removed`,
      value: Math.round(outcome.at - removed.at),
      unit: 'ms',
      detail: { stabilizationWindowSeconds: window.seconds, stabilizationWindowFrom: window.source === 'hpa-behavior' ? "the HPA's behavior.scaleDown" : 'kube-controller-manager --horizontal-pod-autoscaler-downscale-stabilization', hpaSyncPeriodSeconds: s.cluster.timings.hpaSyncPeriodSeconds },
    });
  }
}

/** At no moment since the HPA appeared did it want, or its target have, more than maxReplicas. */
/**
 * The HPA (its desired and current replicas) and its target (spec.replicas) never above
 * maxReplicas: since the HPA appeared, or over a window ("from now on"), counting the values in
 * force when it opened.
 */
export function expectNeverAboveMax(s: Scenario, hpa: string, window?: Window): void {
  const t = targetOf(s, hpa);
  const max = t.hpa.spec?.maxReplicas;
  if (max === undefined) throw new Error(`HorizontalPodAutoscaler ${hpa} has no maxReplicas`);
  const entries = s.timeline.watchEntries();
  const first = window?.at ?? entries.find((e) => e.kind === 'HorizontalPodAutoscaler' && e.name === hpa)?.at ?? s.startedAt;
  const since = window ? ` after ${window.what}` : ' after it appeared';
  let peak: WatchEntry | undefined;
  let peakValue = 0;
  const inForce = new Map<string, WatchEntry>();
  const valueOf = (e: WatchEntry) => (e.kind === 'HorizontalPodAutoscaler' && e.name === hpa ? Math.max(e.figures?.desired ?? 0, e.figures?.current ?? 0) : e.kind === t.kind && e.name === t.name ? (e.figures?.replicas ?? 0) : -1);
  const consider = (e: WatchEntry) => {
    const v = valueOf(e);
    if (v > peakValue) {
      peakValue = v;
      peak = e;
    }
  };
  for (const e of entries) {
    if (e.type === 'deleted' || valueOf(e) < 0) continue;
    if (e.at < first) inForce.set(e.kind, e);
    else consider(e);
  }
  for (const e of inForce.values()) consider(e);
  s.timeline.measure({ name: `peak replicas under HPA ${hpa}`, value: peakValue, unit: 'replicas', detail: { maxReplicas: max } });
  if (peakValue > max) throw new Error(`HPA ${hpa} went to ${peakValue} replicas, above its maximum ${max} (${peak?.kind} ${peak?.name}: ${peak?.state}, ${formatDuration(Math.max(0, (peak?.at ?? first) - first))}${since})`);
}

/** The HPA reads a CPU metric (metrics-server answers for its pods). */
export function hpaHasMetrics(s: Scenario, hpa: string): Condition {
  return {
    description: `HorizontalPodAutoscaler ${hpa} reads its CPU metric`,
    sources: [s.timeline.hpas],
    evaluate: () => {
      const h = s.timeline.hpas.get(hpa, s.namespace);
      const cpu = h?.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization;
      const active = h?.status?.conditions?.find((c) => c.type === 'ScalingActive');
      return { ok: cpu !== undefined && active?.status === 'True', observed: h ? hpaWords(s, hpa) : `HPA ${hpa} does not exist` };
    },
  };
}

/** Wait until the HPA reads its metric, so the load that follows is what it reacts to (plan mode: no wait, nothing is loaded). */
export async function awaitHpaMetrics(s: Scenario, hpa: string, withinMs: number): Promise<void> {
  await unlessPlanning(s, () => [], () => expectWithin(s, hpaHasMetrics(s, hpa), withinMs));
}
