/**
 * What every fault does around its action: write the undo to the ledger first, mark the
 * timeline, act (the action's write also annotates the target with the fault's id), and
 * register the revert to run when the scenario ends, passed or failed.
 */
import type { Scenario } from '../scenario/scenario.js';
import { now } from '../kube/informer.js';
import { faultAnnotation, type UndoRecord } from '../ledger/ledger.js';
import type { UndoAction, UndoOutcome } from '../ledger/undo.js';
import type { ScenarioData } from '../report/schema.js';

export interface FaultSpec {
  fault: string;
  target: { kind: string; name: string; namespace?: string };
  /** What will undo it; undefined when the fault changes nothing that needs undoing (e.g. the taint was already there). */
  undo?: UndoAction;
  detail: string;
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

/** Record, mark, then run `act(annotations)`. The revert is registered before `act` runs. */
export async function injectFault(s: Scenario, spec: FaultSpec, act: (injected: Injected) => Promise<void>): Promise<Injected> {
  let record: UndoRecord | undefined;
  if (spec.undo) {
    const id = s.ledger.newId(spec.fault);
    record = await s.ledger.record({ id, fault: spec.fault, target: spec.target, undo: spec.undo });
  }
  const target = `${spec.target.kind}/${spec.target.name}`;
  const mark = s.timeline.mark(spec.fault, `${target}: ${spec.detail}`);
  const entry: ScenarioData['faults'][number] = { id: record?.id ?? `${spec.fault}-${s.faults.length + 1}`, type: spec.fault, target, injectedAt: mark.at, revert: record ? 'pending' : 'reverted', detail: record ? spec.detail : `${spec.detail} (nothing to undo)` };
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
