/**
 * Finish a run that can no longer finish itself (its process died): undo its recorded faults
 * newest first, delete its namespaces and its Lease. Used by `kubeproof clean` and by the next
 * run against the same cluster.
 */
import type { Kube } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import { revertRun, RUN_LABEL, SYSTEM_NAMESPACE, type RevertReport } from './ledger.js';
import { leaseName } from './lease.js';

export interface FinishReport {
  runId: string;
  reverts: RevertReport[];
  namespacesDeleted: string[];
}

export async function finishRun(kube: Kube, runId: string): Promise<FinishReport> {
  const reverts = await revertRun(kube, runId);
  const namespaces = (await kube.list('Namespace', { labelSelector: `${RUN_LABEL}=${runId}` })).items.map((ns) => ns.metadata!.name!);
  await Promise.all(namespaces.map((ns) => kube.delete('Namespace', ns).catch(() => undefined)));
  if (reverts.every((r) => r.outcome.status !== 'failed')) {
    await kube.delete('Lease', leaseName(runId), SYSTEM_NAMESPACE).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
  return { runId, reverts, namespacesDeleted: namespaces };
}

export function describeRevert(r: RevertReport): string {
  return `${r.record.fault} of ${r.record.target.kind}/${r.record.target.name}: ${r.outcome.status} — ${r.outcome.detail}`;
}
