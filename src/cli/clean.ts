/**
 * `kubeproof clean`: finish what an interrupted run left — undo its recorded faults and delete
 * its namespaces — from any process. Without --run/--all it takes only runs whose Lease has
 * expired (their process is dead), so a live run is never touched.
 */
import { Kube } from '../kube/client.js';
import { ExitCode } from '../errors.js';
import { revertRun, ledgerRuns } from '../ledger/ledger.js';
import { orphanedRuns } from '../ledger/lease.js';
import { RUN_LABEL } from '../workload/manifests.js';
import { kubeconfigPathOf } from '../cluster/local.js';
import type { Log } from '../log.js';

export async function clean(opts: { run?: string; all: boolean; kubeconfig?: string; context?: string; name?: string; log: Log }): Promise<number> {
  const kube = Kube.fromKubeconfig(opts.name ? kubeconfigPathOf(opts.name) : opts.kubeconfig, opts.context);
  await kube.serverVersion();
  const runs = opts.run ? [opts.run] : opts.all ? await ledgerRuns(kube) : await orphanedRuns(kube);
  let failed = 0;
  for (const runId of runs) {
    for (const r of await revertRun(kube, runId)) {
      opts.log(`${runId}: ${r.record.fault} ${r.record.target.kind}/${r.record.target.name}: ${r.outcome.status} — ${r.outcome.detail}`);
      if (r.outcome.status === 'failed') failed++;
    }
    const nss = await kube.list('Namespace', { labelSelector: `${RUN_LABEL}=${runId}` });
    for (const ns of nss.items) {
      await kube.delete('Namespace', ns.metadata!.name!).catch(() => undefined);
      opts.log(`${runId}: deleted namespace ${ns.metadata!.name}`);
    }
  }
  opts.log(runs.length ? `cleaned ${runs.length} run(s)${failed ? `; ${failed} undo(s) failed` : ''}` : 'nothing to clean');
  return failed ? ExitCode.cleanupIncomplete : ExitCode.ok;
}
