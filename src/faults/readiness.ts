/**
 * Readiness break: chosen pods of a workload (by count, percentage or name) report
 * Ready=False while their containers keep running, as a failing readiness probe makes the
 * kubelet report — no restart, no replacement. Their Service stops sending them traffic
 * and PodDisruptionBudgets count them unhealthy.
 *
 * Local cluster (KWOK): the label kubeproof.io/unready=true selects the project's stage
 * (scenarios/stages/pod-readiness.yaml), which flips Ready; removing the label flips it
 * back. The undo (in the ledger before the label is set) removes exactly that label, and
 * leaves it alone if someone else changed it. Clusters with real containers need the
 * breakable-app contract of scenarios/README.md, not implemented yet: a victim on a real node
 * (kind, existing, or a real node of the local cluster) makes the scenario not applicable.
 */
import type { Scenario } from '../scenario.js';
import { BadInputError } from '../errors.js';
import { NotApplicable } from '../not-applicable.js';
import { isConflict } from '../kube/errors.js';
import type { Pod } from '../kube/types.js';
import type { UndoRecord } from '../ledger/ledger.js';
import type { UndoOutcome } from '../ledger/undo.js';
import { podReady } from '../timeline/timeline.js';
import { describeWorkload, podsOf, type WorkloadRef } from '../workload/pods.js';
import { injectFault } from './fault.js';
import { choose, newSeed } from './random.js';
import type { HowMany } from './pod-kill.js';

export const UNREADY_LABEL = 'kubeproof.io/unready';

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

/** Set the label on one pod, written against the resourceVersion it was read at (KWOK may be writing status meanwhile). */
async function labelUnready(s: Scenario, name: string, annotations: Record<string, string>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const pod = await s.kube.get<Pod>('Pod', name, s.namespace);
    try {
      await s.kube.mergePatch('Pod', name, s.namespace, { metadata: { resourceVersion: pod.metadata?.resourceVersion, labels: { [UNREADY_LABEL]: 'true' }, annotations } });
      return;
    } catch (err) {
      if (!isConflict(err) || attempt >= 5) throw err;
    }
  }
}

/** Break the readiness of the target's pods (in plan mode: print the victims, change nothing). */
export async function breakReadiness(s: Scenario, target: ReadinessTarget): Promise<ReadinessBreak | undefined> {
  const plan = planReadinessBreak(s, target);
  const names = plan.victims.map((p) => p.metadata!.name!);
  if (s.planOnly) {
    s.plans.push(`break readiness of ${names.length} of ${plan.of} Ready pod(s) of ${describeReadinessTarget(target)}: ${names.join(', ')}${plan.seed !== undefined ? ` (seed ${plan.seed})` : ''}; they stay running, unready, until restored`);
    return undefined;
  }
  // The KWOK stage plays the kubelet only for simulated pods; a real kubelet runs real probes.
  const caps = s.cluster.capabilities;
  const real = plan.victims.filter((p) => caps.readinessMechanism !== 'kwok-stage' || caps.realNodes.includes(p.spec?.nodeName ?? ''));
  if (real.length) {
    throw new NotApplicable(
      `breaking the readiness of pod(s) with real containers (${real.map((p) => `${p.metadata?.name} on ${p.spec?.nodeName ?? '?'}`).join(', ')}) needs the breakable-app contract (scenarios/README.md), which kubeproof does not drive yet`,
    );
  }
  const brk: ReadinessBreak = { workload: plan.workload, victims: [], at: 0, seed: plan.seed };
  for (const p of plan.victims) {
    const name = p.metadata!.name!;
    const present = p.metadata?.labels?.[UNREADY_LABEL] === 'true';
    const injected = await injectFault(
      s,
      {
        fault: 'break readiness',
        target: { kind: 'Pod', name, namespace: s.namespace },
        undo: present ? undefined : { op: 'restore-label', key: UNREADY_LABEL, before: p.metadata?.labels?.[UNREADY_LABEL] ?? null, after: 'true' },
        detail: `label ${UNREADY_LABEL}=true: the KWOK stage reports Ready=False${plan.seed !== undefined ? ` (seed ${plan.seed})` : ''}${present ? ' (already there)' : ''}`,
      },
      async ({ annotations }) => {
        if (!present) await labelUnready(s, name, annotations);
      },
    );
    brk.at ||= injected.at;
    brk.victims.push({ name, uid: p.metadata?.uid ?? '', restarts: restartsOf(p), record: injected.record, ...(injected.revert ? { revert: injected.revert } : {}) });
  }
  s.readinessBreaks.push(brk);
  return brk;
}

/** The readiness breaks of a workload (or of every workload) in this scenario. */
export function readinessBreaksOf(s: Scenario, w?: WorkloadRef): ReadinessBreak[] {
  const out = s.readinessBreaks.filter((b) => !w || (b.workload?.kind === w.kind && b.workload.name === w.name));
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
  if (s.planOnly) {
    s.plans.push(`restore readiness${w ? ` of ${describeWorkload(w)}` : ''}`);
    return;
  }
  const breaks = readinessBreaksOf(s, w).filter((b) => b.restoredAt === undefined);
  const mark = s.timeline.mark('restore readiness', breaks.flatMap((b) => b.victims.map((v) => v.name)).join(', '));
  for (const b of breaks) {
    for (const v of b.victims) {
      if (!v.revert) continue;
      const outcome = await v.revert();
      if (outcome.status === 'conflict') throw new Error(`could not restore the readiness of pod ${v.name}: ${outcome.detail}`);
    }
    b.restoredAt = mark.at;
  }
}
