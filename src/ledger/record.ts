/**
 * What the ledger keeps per fault, and the marks it leaves on touched objects. A leaf: the
 * ledger, the undo ops and the mechanisms that register ops all import it, it imports none.
 */
import type { UndoAction } from './undo-ops.js';

export const SYSTEM_NAMESPACE = 'kubeproof-system';
export const LEDGER_LABEL = 'kubeproof.io/ledger';
export const RUN_LABEL = 'kubeproof.io/run';
/** Annotation key prefix on touched objects: fault.kubeproof.io/<fault id> = <run id>. */
export const FAULT_ANNOTATION_PREFIX = 'fault.kubeproof.io/';

export interface UndoRecord {
  id: string;
  runId: string;
  fault: string;
  target: { kind: string; name: string; namespace?: string };
  undo: UndoAction;
  /** The target node's heartbeat (Lease renewTime) when the fault was recorded: its undo is done once the node heartbeats again. */
  awaitHeartbeat?: string;
  recordedAt: string;
  owner: { host: string; pid: number };
}

export function faultAnnotation(id: string): string {
  return `${FAULT_ANNOTATION_PREFIX}${id}`;
}
