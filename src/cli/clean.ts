/**
 * `kubeproof clean`: finish what an interrupted run left — undo its recorded faults, delete
 * its namespaces and Lease — from any process; a run killed before its first fault (a Lease,
 * no ledger) included. Without --run/--all it takes only runs whose process is dead (Lease expired, or its holder was a process on this machine that is gone),
 * so a live run is never touched.
 */
import { Kube } from '../kube/client.js';
import { EnvironmentError, ExitCode } from '../errors.js';
import { assertContextAllowed } from '../cluster/providers/guard.js';
import { orphanedRuns, tracedRuns } from '../ledger/lease.js';
import { finishRun, describeRevert } from '../ledger/finish.js';
import { kubeconfigPathOf } from '../cluster/paths.js';
// Registers the undo ops the providers' mechanisms make (a real node's kubelet), so this process can finish them.
import '../cluster/providers/handle.js';
import type { Log } from '../log.js';

/**
 * `--name` is a local cluster of this machine's (always allowed); otherwise the context (given,
 * or the kubeconfig's current one) must be allowed as for `run --cluster existing` — decided
 * from the kubeconfig alone, before any request reaches its server: undoing faults is a write.
 */
export async function clean(opts: { run?: string; all: boolean; kubeconfig?: string; context?: string; name?: string; allowContexts?: string[]; log: Log }): Promise<number> {
  const kube = Kube.fromKubeconfig(opts.name ? kubeconfigPathOf(opts.name) : opts.kubeconfig, opts.name ? undefined : opts.context);
  if (!opts.name) {
    const context = kube.contextName;
    if (!context) throw new EnvironmentError(`kubeconfig ${opts.kubeconfig ?? '(default)'} has no current context`, { hint: 'pass --context' });
    assertContextAllowed('existing', context, opts.allowContexts ?? []);
  }
  await kube.serverVersion();
  const runs = opts.run ? [opts.run] : opts.all ? await tracedRuns(kube) : await orphanedRuns(kube);
  let failed = 0;
  for (const runId of runs) {
    const report = await finishRun(kube, runId);
    for (const r of report.reverts) {
      opts.log(`${runId}: ${describeRevert(r)}`);
      if (r.outcome.status === 'failed') failed++;
    }
    for (const ns of report.namespacesDeleted) opts.log(`${runId}: deleted namespace ${ns}`);
  }
  const live = opts.run || opts.all ? [] : (await tracedRuns(kube)).filter((r) => !runs.includes(r));
  if (live.length) opts.log(`left alone: ${live.length} live run(s) (${live.join(', ')}); --run ID takes one anyway`);
  opts.log(runs.length ? `cleaned ${runs.length} run(s)${failed ? `; ${failed} undo(s) failed` : ''}` : 'nothing to clean');
  return failed ? ExitCode.cleanupIncomplete : ExitCode.ok;
}
