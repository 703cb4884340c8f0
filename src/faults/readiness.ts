/**
 * Readiness break: chosen pods of a workload (by count, percentage or name) report
 * Ready=False while their containers keep running, as a failing readiness probe makes the
 * kubelet report — no restart, no replacement. Their Service stops sending them traffic
 * and PodDisruptionBudgets count them unhealthy.
 *
 * The mechanism is chosen per pod:
 * - a simulated pod (KWOK node of the local cluster): the label kubeproof.io/unready=true
 *   selects the project's stage (scenarios/stages/pod-readiness.yaml), which flips Ready;
 *   the undo removes exactly that label, and leaves it alone if someone else changed it;
 * - a real container (a real node, kind, existing) that runs kubeproof's test app: the app's
 *   readiness is switched off through the API's exec subresource (`/testapp ready off`), so
 *   the kubelet's own probe fails; the undo is `/testapp ready on` (scenarios/README.md,
 *   the breakable-app contract). A real container of any other image makes the scenario not
 *   applicable, with the reason.
 * Either undo is in the ledger before the pod is touched.
 */
import type { Scenario } from '../scenario/scenario.js';
import { Slot } from '../scenario/slot.js';
import { BadInputError } from '../errors.js';
import { NotApplicable } from '../not-applicable.js';
import { isConflict } from '../kube/errors.js';
import type { Pod } from '../kube/types.js';
import type { UndoRecord } from '../ledger/ledger.js';
import type { UndoOutcome } from '../ledger/undo-ops.js';
import { podReady } from '../timeline/timeline.js';
import { describeWorkload, podsOf, type WorkloadRef } from '../workload/pods.js';
import { injectFault, planThenAct } from './fault.js';
import { choose, newSeed } from './random.js';
import type { HowMany } from './pod-kill.js';
import { TESTAPP_IMAGE } from '../cluster/build/image-refs.js';

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

/** How a real container's readiness is switched: the test app's own toggle, run through exec. */
export interface AppReadinessSwitch {
  container: string;
  off: string[];
  on: string[];
}

/** The test app's readiness switch in this pod, if one of its containers runs the test app. */
export function appReadinessSwitch(p: Pod): AppReadinessSwitch | undefined {
  const c = (p.spec?.containers ?? []).find((x) => x.image === TESTAPP_IMAGE.ref);
  return c ? { container: c.name, off: [TESTAPP_IMAGE.entrypoint, 'ready', 'off'], on: [TESTAPP_IMAGE.entrypoint, 'ready', 'on'] } : undefined;
}

/** Whether the pod's containers really run (a real node, or a cluster without KWOK), so only a real probe can fail. */
export function runsRealContainers(s: Scenario, p: Pod): boolean {
  const caps = s.cluster.capabilities;
  return caps.readinessMechanism !== 'kwok-stage' || caps.realNodes.includes(p.spec?.nodeName ?? '');
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
  const planned = await planThenAct(s, plan, () => `break readiness of ${names.length} of ${plan.of} Ready pod(s) of ${describeReadinessTarget(target)}: ${names.join(', ')}${plan.seed !== undefined ? ` (seed ${plan.seed})` : ''}; they stay running, unready, until restored`, async () => true);
  if (!planned) return undefined;
  // The KWOK stage plays the kubelet only for simulated pods; a real kubelet runs real probes, which only the app can fail.
  const unbreakable = plan.victims.filter((p) => runsRealContainers(s, p) && !appReadinessSwitch(p));
  if (unbreakable.length) {
    throw new NotApplicable(
      `breaking the readiness of pod(s) with real containers (${unbreakable.map((p) => `${p.metadata?.name} on ${p.spec?.nodeName ?? '?'}`).join(', ')}) needs a container that follows the breakable-app contract (scenarios/README.md: kubeproof's test app, ${TESTAPP_IMAGE.ref}); these run ${[...new Set(unbreakable.flatMap((p) => (p.spec?.containers ?? []).map((c) => c.image)))].join(', ')}`,
    );
  }
  const brk: ReadinessBreak = { workload: plan.workload, victims: [], at: 0, seed: plan.seed };
  for (const p of plan.victims) {
    const name = p.metadata!.name!;
    const app = runsRealContainers(s, p) ? appReadinessSwitch(p)! : undefined;
    const present = !app && p.metadata?.labels?.[UNREADY_LABEL] === 'true';
    const seed = plan.seed !== undefined ? ` (seed ${plan.seed})` : '';
    const injected = await injectFault(
      s,
      app
        ? {
            fault: 'break readiness',
            target: { kind: 'Pod', name, namespace: s.namespace },
            undo: { op: 'exec', container: app.container, command: app.on },
            detail: `exec ${app.off.join(' ')} in container ${app.container}: its readiness probe fails${seed}`,
          }
        : {
            fault: 'break readiness',
            target: { kind: 'Pod', name, namespace: s.namespace },
            undo: present ? undefined : { op: 'restore-label', key: UNREADY_LABEL, before: p.metadata?.labels?.[UNREADY_LABEL] ?? null, after: 'true' },
            detail: `label ${UNREADY_LABEL}=true: the KWOK stage reports Ready=False${seed}${present ? ' (already there)' : ''}`,
          },
      async ({ annotations }) => {
        if (app) {
          // The annotation first (it names the ledger record, for `kubeproof clean`), then the switch.
          await s.kube.mergePatch('Pod', name, s.namespace, { metadata: { annotations } });
          const r = await s.kube.exec(s.namespace, name, app.container, app.off);
          if (r.exitCode !== 0) throw new Error(`${app.off.join(' ')} in pod ${name} exited ${r.exitCode}: ${r.stderr.trim()}`);
        } else if (!present) await labelUnready(s, name, annotations);
      },
    );
    brk.at ||= injected.at;
    brk.victims.push({ name, uid: p.metadata?.uid ?? '', restarts: restartsOf(p), record: injected.record, ...(injected.revert ? { revert: injected.revert } : {}) });
  }
  s.state(READINESS_BREAKS).push(brk);
  return brk;
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
  if (!(await planThenAct(s, w, () => `restore readiness${w ? ` of ${describeWorkload(w)}` : ''}`, async () => true))) return;
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
