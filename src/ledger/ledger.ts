/**
 * The undo ledger. Before a fault changes anything, its undo is written to the cluster: a
 * ConfigMap per run in the kubeproof-system namespace (one key per fault), and an annotation
 * on every object the fault touches. Any process can finish the undo from there: the run
 * itself after each scenario and on Ctrl-C, the next run against the cluster, or
 * `kubeproof clean` after a crash. A run's Lease (renewed while it lives) tells a live run's
 * faults from a dead run's, so two runs never undo each other's faults.
 */
import { hostname } from 'node:os';
import type { Kube } from '../kube/client.js';
import { isConflict, isNotFound } from '../kube/errors.js';
import type { KubeObject } from '../kube/types.js';
import { undoOne, type UndoOutcome } from './undo-ops.js';
import { LEDGER_LABEL, RUN_LABEL, SYSTEM_NAMESPACE, type UndoRecord } from './record.js';

export { FAULT_ANNOTATION_PREFIX, LEDGER_LABEL, RUN_LABEL, SYSTEM_NAMESPACE, faultAnnotation, type UndoRecord } from './record.js';


export interface RevertReport {
  record: UndoRecord;
  outcome: UndoOutcome;
}

function ledgerName(runId: string): string {
  return `ledger-${runId.toLowerCase()}`;
}

/**
 * Faults being injected now, per run (record, mark, act as one unit), and the runs being
 * undone. An undo that ran while a fault was between its record and its write would find
 * nothing to undo and forget the record — then the write lands and stays, with no record left:
 * so undoing a run first refuses new faults of it, then waits for those in flight.
 */
const injecting = new Map<string, Set<Promise<unknown>>>();
const undoing = new Set<string>();
/** How long an undo waits for faults in flight (an act is one or two writes, or a node's stop command). */
const IN_FLIGHT_WAIT_MS = 30_000;

/**
 * Run `work` — a fault, or anything else of the run its undo must find (its namespace, its
 * Lease) — as a unit the run's undo waits for; refused once the undo has begun.
 */
export async function duringRun<T>(runId: string, work: () => Promise<T>): Promise<T> {
  if (undoing.has(runId)) throw new Error(`run ${runId} is being undone: nothing new starts`);
  const set = injecting.get(runId) ?? new Set<Promise<unknown>>();
  injecting.set(runId, set);
  const p = work();
  set.add(p);
  try {
    return await p;
  } finally {
    set.delete(p);
  }
}

/** Whether the run's undo has begun (in this process). */
export function runUndoing(runId: string): boolean {
  return undoing.has(runId);
}

/** Fault ids are unique within the process: every scenario has a Ledger of the same run, and a shared id would make one scenario's forget erase another's record. */
let seq = 0;

export class Ledger {
  constructor(
    private readonly kube: Kube,
    readonly runId: string,
  ) {}

  /** Make sure the system namespace exists (idempotent). */
  static async ensureNamespace(kube: Kube): Promise<void> {
    try {
      await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE, labels: { 'kubeproof.io/system': 'true' } } });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  /** A new fault id, unique within the run and usable as an annotation name. */
  newId(fault: string): string {
    seq += 1;
    return `${this.runId.slice(-4).toLowerCase()}-${seq}-${fault}`.slice(0, 63).replace(/[^a-z0-9-]/g, '-');
  }

  /**
   * Inject one fault (`inject`: record, mark, act) as a unit the run's undo waits for. Refused
   * once the run is being undone (Ctrl-C, its end): no fault starts after its undo did.
   */
  injecting<T>(inject: () => Promise<T>): Promise<T> {
    return duringRun(this.runId, inject);
  }

  /** Write the undo record before the fault acts. Resolves once the API server has stored it. */
  async record(rec: Omit<UndoRecord, 'runId' | 'recordedAt' | 'owner'>): Promise<UndoRecord> {
    const full: UndoRecord = { ...rec, runId: this.runId, recordedAt: new Date().toISOString(), owner: { host: hostname(), pid: process.pid } };
    const name = ledgerName(this.runId);
    const data = { [rec.id]: JSON.stringify(full) };
    // The run's Lease made the system namespace; it is made again only if it is gone (a create
    // into a missing namespace is 404), not asked for before every record: one request per
    // record fewer (a drain of 50 nodes records a few hundred).
    for (let attempt = 1; ; attempt++) {
      try {
        await this.kube.mergePatch('ConfigMap', name, SYSTEM_NAMESPACE, { data });
        return full;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      try {
        await this.kube.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name, namespace: SYSTEM_NAMESPACE, labels: { [LEDGER_LABEL]: 'true', [RUN_LABEL]: this.runId } },
          data,
        } as KubeObject);
        return full;
      } catch (err) {
        if (isNotFound(err) && attempt < 3) await Ledger.ensureNamespace(this.kube);
        // Another scenario of this run created it between our patch and our create: patch it now.
        else if (!isConflict(err) || attempt >= 3) throw err;
      }
    }
  }

  /** Forget a record whose undo is done. The ConfigMap goes when it is empty. */
  async forget(id: string): Promise<void> {
    await forgetRecord(this.kube, this.runId, id);
  }

  /** Undo one recorded fault and forget it unless the undo failed. */
  async revert(rec: UndoRecord): Promise<RevertReport> {
    const outcome = await undoOne(this.kube, rec);
    if (outcome.status !== 'failed') await this.forget(rec.id);
    return { record: rec, outcome };
  }

  /** Every record of this run still in the ledger. */
  async records(): Promise<UndoRecord[]> {
    return recordsOf(this.kube, this.runId);
  }

  /** Undo everything left for this run, newest first. */
  async revertAll(): Promise<RevertReport[]> {
    const out: RevertReport[] = [];
    for (const rec of (await this.records()).reverse()) out.push(await this.revert(rec));
    // A process killed between forgetting its last record and deleting the emptied ConfigMap left it: nothing else would ever take it.
    await deleteIfEmpty(this.kube, this.runId);
    return out;
  }
}

type LedgerMap = KubeObject & { data?: Record<string, string> };

async function forgetRecord(kube: Kube, runId: string, id: string): Promise<void> {
  try {
    const cm = await kube.mergePatch<LedgerMap>('ConfigMap', ledgerName(runId), SYSTEM_NAMESPACE, { data: { [id]: null } });
    await deleteEmpty(kube, cm);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/**
 * Delete a ledger ConfigMap that holds no record — only the version read: a record written
 * since (another scenario of the run) makes the delete a 409, and the ConfigMap stays.
 */
async function deleteEmpty(kube: Kube, cm: LedgerMap): Promise<void> {
  if (cm.data && Object.keys(cm.data).length > 0) return;
  try {
    await kube.delete('ConfigMap', cm.metadata!.name!, SYSTEM_NAMESPACE, { preconditions: { resourceVersion: cm.metadata!.resourceVersion! } });
  } catch (err) {
    if (!isNotFound(err) && !isConflict(err)) throw err;
  }
}

async function deleteIfEmpty(kube: Kube, runId: string): Promise<void> {
  const cm = await kube.find<LedgerMap>('ConfigMap', ledgerName(runId), SYSTEM_NAMESPACE);
  if (cm) await deleteEmpty(kube, cm);
}

function parseRecords(cm: KubeObject & { data?: Record<string, string> }): UndoRecord[] {
  return Object.values(cm.data ?? {})
    .map((v) => JSON.parse(v) as UndoRecord)
    .sort((a, b) => a.recordedAt.localeCompare(b.recordedAt) || a.id.localeCompare(b.id, undefined, { numeric: true }));
}

export async function recordsOf(kube: Kube, runId: string): Promise<UndoRecord[]> {
  const cm = await kube.find<KubeObject & { data?: Record<string, string> }>('ConfigMap', ledgerName(runId), SYSTEM_NAMESPACE);
  return cm ? parseRecords(cm) : [];
}

/** Runs that have records in the ledger. */
export async function ledgerRuns(kube: Kube): Promise<string[]> {
  const ns = await kube.find('Namespace', SYSTEM_NAMESPACE);
  if (!ns) return [];
  const list = await kube.list('ConfigMap', { namespace: SYSTEM_NAMESPACE, labelSelector: `${LEDGER_LABEL}=true` });
  return list.items.map((cm) => cm.metadata?.labels?.[RUN_LABEL] ?? '').filter(Boolean);
}

/**
 * Undo every record of a run (from any process), newest first — after the faults this process
 * is injecting for it have landed (or failed), and with no new one let in.
 */
export async function revertRun(kube: Kube, runId: string): Promise<RevertReport[]> {
  undoing.add(runId);
  const inFlight = [...(injecting.get(runId) ?? [])];
  if (inFlight.length) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(inFlight), new Promise((resolve) => (timer = setTimeout(resolve, IN_FLIGHT_WAIT_MS)))]);
    clearTimeout(timer);
  }
  return new Ledger(kube, runId).revertAll();
}
