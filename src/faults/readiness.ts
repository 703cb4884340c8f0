/**
 * Readiness break: chosen pods of a workload (by count, percentage or name) report
 * Ready=False while their containers keep running, as a failing readiness probe makes the
 * kubelet report — no restart, no replacement. Their Service stops sending them traffic
 * and PodDisruptionBudgets count them unhealthy.
 *
 * The mechanism is the cluster's, per pod (`parts.readiness`, src/cluster/readiness.ts): on a
 * simulated (KWOK) pod a label that selects the project's stage, on a real container running
 * kubeproof's test app the app's own readiness switch through exec. A real container of any
 * other image makes the scenario not applicable, with the reason. The mechanism's undo is in
 * the ledger before the pod is touched.
 */
import type { Scenario } from '../scenario/scenario.js';
import { Slot } from '../scenario/slot.js';
import { BadInputError } from '../errors.js';
import { NotApplicable } from '../not-applicable.js';
import type { Pod } from '../kube/types.js';
import type { UndoRecord } from '../ledger/ledger.js';
import type { UndoOutcome } from '../ledger/undo-ops.js';
import { podReady } from '../timeline/timeline.js';
import { describeWorkload, podsOf, type WorkloadRef } from '../workload/pods.js';
import { injectFault, markChange, unlessPlanning } from './fault.js';
import { choose, newSeed } from './random.js';
import type { HowMany } from './pod-kill.js';
import { TESTAPP_IMAGE } from '../cluster/build/image-refs.js';
import { isRefusal, type ReadinessBreaker } from '../cluster/providers/provider.js';

export { UNREADY_LABEL, appReadinessSwitch, type AppReadinessSwitch } from '../cluster/readiness.js';

/** Which pods: some of a workload's Ready pods (seeded choice), or pods by name. */
export type ReadinessTarget = { workload: WorkloadRef; howMany: HowMany; seed?: number } | { pods: string[] };

export interface ReadinessVictim {
  name: string;
  /** Identity and restarts when the break began: the "not restarted, not replaced" check compares against these. */
  uid: string;
  restarts: number;
  record?: UndoRecord;
  /** Undo now (absent when nothing was recorded, e.g. the label was already there). */
  revert?: () => Promise<UndoOutcome>;
}

export interface ReadinessBreak {
  workload?: WorkloadRef;
  victims: ReadinessVictim[];
  at: number;
  seed?: number;
  restoredAt?: number;
}

/** Readiness breaks of this scenario, for the steps that assert on their victims. */
export const READINESS_BREAKS = new Slot('readiness breaks', (): ReadinessBreak[] => []);

export interface ReadinessPlan {
  workload?: WorkloadRef;
  victims: Pod[];
  seed?: number;
  /** Ready pods the choice was made from. */
  of: number;
}

export function restartsOf(p: Pod | undefined): number {
  return (p?.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

export function describeReadinessTarget(t: ReadinessTarget): string {
  return 'workload' in t ? describeWorkload(t.workload) : `pod(s) ${t.pods.join(', ')}`;
}

export function planReadinessBreak(s: Scenario, target: ReadinessTarget): ReadinessPlan {
  const tl = s.timeline;
  if ('pods' in target) {
    const victims = target.pods.map((name) => {
      const p = tl.pods.get(name, tl.namespace);
      if (!p || p.metadata?.deletionTimestamp) throw new BadInputError(`pod ${name} does not exist (or is terminating) in namespace ${tl.namespace}`);
      return p;
    });
    return { victims, of: victims.length };
  }
  const pods = podsOf(tl, { workload: target.workload });
  if (!pods) throw new BadInputError(`${describeWorkload(target.workload)} does not exist in namespace ${tl.namespace}`);
  const ready = pods.filter((p) => podReady(p));
  const n = 'count' in target.howMany ? target.howMany.count : Math.max(1, Math.ceil((target.howMany.percent / 100) * ready.length));
  if (n > ready.length) throw new Error(`cannot break readiness of ${n} pod(s) of ${describeWorkload(target.workload)}: only ${ready.length} Ready`);
  const seed = target.seed ?? newSeed();
  return { workload: target.workload, victims: choose(ready, n, seed), seed, of: ready.length };
}

/** Break the readiness of the target's pods (in plan mode: print the victims, change nothing). */
export async function breakReadiness(s: Scenario, target: ReadinessTarget): Promise<ReadinessBreak | undefined> {
  const plan = planReadinessBreak(s, target);
  const names = plan.victims.map((p) => p.metadata!.name!);
  const seed = plan.seed !== undefined ? ` (seed ${plan.seed})` : '';
  return injectFault(s, plan, () => `break readiness of ${names.length} of ${plan.of} Ready pod(s) of ${describeReadinessTarget(target)}: ${names.join(', ')}${seed}; they stay running, unready, until restored`, async (_, inject) => {
    const breakers = plan.victims.map((p) => ({ p, b: s.parts.readiness.breaker(p) }));
    const refused = breakers.map(({ b }) => b).filter(isRefusal);
    if (refused.length) {
      throw new NotApplicable(`breaking the readiness of pod(s) with real containers needs a container that follows the breakable-app contract (scenarios/README.md: kubeproof's test app, ${TESTAPP_IMAGE.ref}): ${refused.map((r) => r.refused).join('; ')}`);
    }
    const brk: ReadinessBreak = { workload: plan.workload, victims: [], at: 0, seed: plan.seed };
    for (const { p, b } of breakers as Array<{ p: Pod; b: ReadinessBreaker }>) {
      const name = p.metadata!.name!;
      const injected = await inject({ fault: 'break readiness', target: { kind: 'Pod', name, namespace: s.namespace }, ...(b.undo ? { undo: b.undo } : {}), detail: `${b.how}${seed}` }, ({ annotations }) => b.break(s.kube, annotations));
      brk.at ||= injected.at;
      brk.victims.push({ name, uid: p.metadata?.uid ?? '', restarts: restartsOf(p), record: injected.record, ...(injected.revert ? { revert: injected.revert } : {}) });
    }
    s.state(READINESS_BREAKS).push(brk);
    return brk;
  });
}

/** The readiness breaks of a workload (or of every workload) in this scenario. */
export function readinessBreaksOf(s: Scenario, w?: WorkloadRef): ReadinessBreak[] {
  const out = s.state(READINESS_BREAKS).filter((b) => !w || (b.workload?.kind === w.kind && b.workload.name === w.name));
  if (out.length === 0) throw new BadInputError(`no readiness was broken${w ? ` for ${describeWorkload(w)}` : ''} in this scenario`);
  return out;
}

/** The pods whose readiness this scenario broke: of one workload, or the named ones. */
export function unreadyVictims(s: Scenario, which: { workload: WorkloadRef } | { pods: string[] }): ReadinessVictim[] {
  if ('workload' in which) return readinessBreaksOf(s, which.workload).flatMap((b) => b.victims);
  const all = readinessBreaksOf(s).flatMap((b) => b.victims);
  return which.pods.map((n) => {
    const v = all.find((x) => x.name === n);
    if (!v) throw new BadInputError(`the readiness of pod ${n} was not broken in this scenario`);
    return v;
  });
}

/** Restore now (rather than when the scenario ends): undo each victim's ledger record; the scenario's cleanup then has nothing left. */
export async function restoreReadiness(s: Scenario, w?: WorkloadRef): Promise<void> {
  await unlessPlanning(s, () => `restore readiness${w ? ` of ${describeWorkload(w)}` : ''}`, async () => {
    const breaks = readinessBreaksOf(s, w).filter((b) => b.restoredAt === undefined);
    const mark = markChange(s, 'restore readiness', breaks.flatMap((b) => b.victims.map((v) => v.name)).join(', '));
    for (const b of breaks) {
      for (const v of b.victims) {
        if (!v.revert) continue;
        const outcome = await v.revert();
        if (outcome.status === 'conflict') throw new Error(`could not restore the readiness of pod ${v.name}: ${outcome.detail}`);
      }
      b.restoredAt = mark.at;
    }
  });
}
