/**
 * The one pipeline every change the harness makes to something it did not create goes
 * through (a fault, a node's label or patch): plan (resolve the exact victims; plan mode
 * reports the plan and stops here — `unlessPlanning` is the one place it is decided), then per target: write the undo to the
 * ledger first, mark the timeline, act (the action's write also annotates the target with the
 * fault's id), and register the revert — shared by a step that restores early and by the
 * scenario's end, passed or failed.
 */
import type { Scenario } from '../scenario/scenario.js';
import { unlessPlanning, type PlanText } from '../scenario/plan.js';
import { now } from '../kube/informer.js';
import { faultAnnotation, type UndoRecord } from '../ledger/ledger.js';
import type { UndoAction, UndoOutcome } from '../ledger/undo-ops.js';
import type { ScenarioData } from '../report/schema.js';

/**
 * Every fault's name: what `inject` marks on the timeline and the type in the fault list. A
 * FaultSpec names one of these (a new fault that is not listed does not compile), so the
 * actions that open an "at no moment" window (expect/window.ts) follow from this list.
 */
export const FAULT_NAMES = ['kill pods', 'kill container', 'drain node', 'taint node', 'stop node', 'break readiness', 'apply load', 'label', 'patch'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** Changes that are not faults but change what the workloads do (a restore, a scale, a new image, a patch of the scenario's own objects): they open a window too. */
export const CHANGE_NAMES = ['restore readiness', 'remove load', 'scale', 'set image', 'patch'] as const;
export type ChangeName = (typeof CHANGE_NAMES)[number];

/** Mark a change on the timeline under its listed name. */
export function markChange(s: Scenario, action: ChangeName, detail: string) {
  return s.timeline.mark(action, detail);
}

export { unlessPlanning, type PlanText } from '../scenario/plan.js';

/** Records one target's fault (ledger, timeline, fault list), then runs its action: handed to `injectFault`'s `act` only, so no fault is injected past the plan. */
export type Inject = (spec: FaultSpec, act: (injected: Injected) => Promise<void>) => Promise<Injected>;

/**
 * The fault pipeline: resolve the plan (the exact victims), describe it; in plan mode that
 * description is reported and nothing acts. Otherwise `act` runs with `inject`, which for each
 * target writes the undo to the ledger first, marks the timeline, acts, and registers the revert
 * (see `inject` below). Resolves with what `act` returned (undefined in plan mode).
 */
export async function injectFault<P, R>(s: Scenario, plan: P | Promise<P>, describe: (plan: P) => PlanText, act: (plan: P, inject: Inject) => Promise<R>): Promise<R | undefined> {
  const p = await plan;
  return unlessPlanning(s, () => describe(p), () => act(p, (spec, a) => s.ledger.injecting(() => inject(s, spec, a))));
}

export interface FaultSpec {
  fault: FaultName;
  target: { kind: string; name: string; namespace?: string };
  /**
   * What will undo it; undefined when nothing needs undoing: the change was already there, or
   * undoing is the cluster's job and what the scenario asserts (a killed pod, a killed container).
   */
  undo?: UndoAction;
  /** Why there is nothing to undo, for the report (default: "nothing to undo"). */
  noUndo?: string;
  detail: string;
  /** A node's heartbeat when the fault is recorded: its undo (here or in `kubeproof clean`) waits for the next one. */
  awaitHeartbeat?: string;
  /** After a successful revert: wait for the cluster to show it (e.g. the node Ready again). */
  recovered?: () => Promise<void>;
}

export interface Injected {
  record?: UndoRecord;
  at: number;
  /** Annotation to set on the target in the same write as the fault ({} when nothing is recorded). */
  annotations: Record<string, string>;
  /** Undo now rather than when the scenario ends (a step that restores); the scenario's cleanup then has nothing left to do. */
  revert?: () => Promise<UndoOutcome>;
}

/**
 * Record, mark, then run `act(annotations)`. The revert is registered before `act` runs. The
 * whole is one unit the run's undo waits for (Ctrl-C mid-fault undoes it after it landed).
 */
async function inject(s: Scenario, spec: FaultSpec, act: (injected: Injected) => Promise<void>): Promise<Injected> {
  let record: UndoRecord | undefined;
  if (spec.undo) {
    const id = s.ledger.newId(spec.fault);
    record = await s.ledger.record({ id, fault: spec.fault, target: spec.target, undo: spec.undo, ...(spec.awaitHeartbeat !== undefined ? { awaitHeartbeat: spec.awaitHeartbeat } : {}) });
  }
  const target = `${spec.target.kind}/${spec.target.name}`;
  const mark = s.timeline.mark(spec.fault, `${target}: ${spec.detail}`);
  const entry: ScenarioData['faults'][number] = { id: record?.id ?? `${spec.fault}-${s.faults.length + 1}`, type: spec.fault, target, injectedAt: mark.at, revert: record ? 'pending' : 'none', detail: record ? spec.detail : `${spec.detail} (${spec.noUndo ?? 'nothing to undo'})` };
  s.faults.push(entry);
  // One revert, shared by the scenario's cleanup and a step that restores early (idempotent).
  let reverting: Promise<UndoOutcome> | undefined;
  const rec = record;
  const revert = rec
    ? (): Promise<UndoOutcome> =>
        (reverting ??= (async () => {
          const { outcome } = await s.ledger.revert(rec);
          entry.revertedAt = now();
          entry.revert = outcome.status === 'failed' ? 'failed' : 'reverted';
          entry.detail = `${spec.detail}; undo: ${outcome.detail}`;
          s.timeline.mark('revert', `${target}: ${outcome.detail}`);
          if (outcome.status === 'failed') throw new Error(outcome.detail);
          if (outcome.status === 'reverted') await spec.recovered?.();
          return outcome;
        })())
    : undefined;
  if (revert) s.onCleanup(`revert ${spec.fault} of ${target}`, async () => void (await revert()));
  const injected: Injected = { record, at: mark.at, annotations: record ? { [faultAnnotation(record.id)]: s.runId } : {}, ...(revert ? { revert } : {}) };
  await act(injected);
  return injected;
}
