/**
 * A run's Lease in kubeproof-system: renewed while the run lives, so another process can
 * tell a dead run's ledger (safe to revert) from a live one's (never touched).
 */
import { hostname } from 'node:os';
import { processAlive } from '../host.js';
import type { Kube } from '../kube/client.js';
import { isConflict, isNotFound } from '../kube/errors.js';
import { Ledger, RUN_LABEL, SYSTEM_NAMESPACE, duringRun, ledgerRuns, runUndoing } from './ledger.js';
import type { KubeObject } from '../kube/types.js';

const DURATION_SECONDS = 30;
const RENEW_EVERY_MS = 10_000;

export function leaseName(runId: string): string {
  return `run-${runId.toLowerCase()}`;
}

function microTime(d = new Date()): string {
  return d.toISOString().replace('Z', '000Z');
}

export class RunLease {
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly kube: Kube,
    readonly runId: string,
  ) {}

  static async acquire(kube: Kube, runId: string): Promise<RunLease> {
    await Ledger.ensureNamespace(kube);
    const lease = new RunLease(kube, runId);
    // One unit the run's undo waits for: a Ctrl-C while the Lease is being created finds it made and gone, not left for good.
    await duringRun(runId, async () => {
      try {
        await kube.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: leaseName(runId), namespace: SYSTEM_NAMESPACE, labels: { [RUN_LABEL]: runId } },
          spec: { holderIdentity: `${hostname()}/${process.pid}`, leaseDurationSeconds: DURATION_SECONDS, renewTime: microTime(), acquireTime: microTime() },
        } as never);
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      if (runUndoing(runId)) {
        await lease.release();
        throw new Error(`run ${runId} is being undone: its Lease is released`);
      }
    });
    // A heartbeat, not a wait: the Lease must show this run alive while it runs.
    lease.timer = setInterval(() => void lease.renew(), RENEW_EVERY_MS);
    lease.timer.unref();
    return lease;
  }

  private async renew(): Promise<void> {
    await this.kube.mergePatch('Lease', leaseName(this.runId), SYSTEM_NAMESPACE, { spec: { renewTime: microTime() } }).catch(() => undefined);
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.kube.delete('Lease', leaseName(this.runId), SYSTEM_NAMESPACE).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}

/** Whether the Lease's holder is a process on this machine that no longer exists. */
function holderIsDeadHere(holder: string | undefined): boolean {
  const m = holder?.match(/^(.*)\/(\d+)$/);
  return Boolean(m && m[1] === hostname() && !processAlive(Number(m[2])));
}

/**
 * Every run the cluster shows a trace of: a ledger, a Lease, or a namespace (not already
 * going). A run killed after taking its Lease and before its first fault has no ledger, yet
 * its Lease and namespace stay until someone finishes it.
 */
export async function tracedRuns(kube: Kube): Promise<string[]> {
  const runs = new Set(await ledgerRuns(kube));
  if (await kube.find('Namespace', SYSTEM_NAMESPACE)) {
    for (const l of (await kube.list('Lease', { namespace: SYSTEM_NAMESPACE, labelSelector: RUN_LABEL })).items) runs.add(l.metadata!.labels![RUN_LABEL]!);
  }
  for (const ns of (await kube.list('Namespace', { labelSelector: RUN_LABEL })).items) if (!ns.metadata?.deletionTimestamp) runs.add(ns.metadata!.labels![RUN_LABEL]!);
  return [...runs].filter(Boolean).sort();
}

/**
 * Runs whose process died, with whatever they left (records, a Lease, namespaces): their
 * Lease is gone or expired, or its holder was a process on this machine that no longer exists
 * (so `kubeproof clean` right after a SIGKILL need not wait out the Lease). A run takes its
 * Lease before it writes anything else, so a run without one is not running.
 */
export async function orphanedRuns(kube: Kube, now = Date.now()): Promise<string[]> {
  const out: string[] = [];
  for (const runId of await tracedRuns(kube)) {
    const lease = await kube.find<KubeObject & { spec?: { renewTime?: string; leaseDurationSeconds?: number; holderIdentity?: string } }>('Lease', leaseName(runId), SYSTEM_NAMESPACE);
    const renewed = lease?.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
    const duration = (lease?.spec?.leaseDurationSeconds ?? DURATION_SECONDS) * 1000;
    if (!lease || renewed + duration < now || holderIsDeadHere(lease.spec?.holderIdentity)) out.push(runId);
  }
  return out;
}
