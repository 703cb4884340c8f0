/** `kubeproof cluster up | down | list` for local clusters. */
import { LocalProvider, listLocalClusters, deleteLocalCluster } from '../cluster/providers/local.js';
import { DEFAULT_CLUSTER_NAME } from '../cluster/paths.js';
import { ExitCode } from '../errors.js';
import { stderrLog } from '../log.js';

export async function clusterUp(opts: { name?: string; nodes: number; zones: string[]; realNodes: number; upstreamTimings: boolean }): Promise<number> {
  const cluster = await new LocalProvider().up({ name: opts.name, nodes: opts.nodes, zones: opts.zones, realNodes: opts.realNodes, upstreamTimings: opts.upstreamTimings, log: stderrLog });
  const t = cluster.timings;
  stderrLog(
    `timings (${t.source}): node-monitor-grace ${t.nodeMonitorGracePeriodSeconds}s, heartbeat ${t.nodeHeartbeatSeconds}s, ` +
      `not-ready/unreachable toleration ${t.defaultNotReadyTolerationSeconds}/${t.defaultUnreachableTolerationSeconds}s, HPA sync ${t.hpaSyncPeriodSeconds}s, downscale window ${t.hpaDownscaleStabilizationSeconds}s`,
  );
  process.stdout.write(`KUBECONFIG=${cluster.kubeconfigPath}\n`);
  return ExitCode.ok;
}

export async function clusterDown(opts: { name?: string; keep: boolean }): Promise<number> {
  const name = opts.name ?? DEFAULT_CLUSTER_NAME;
  await deleteLocalCluster(name, { keep: opts.keep, log: stderrLog });
  stderrLog(opts.keep ? `cluster "${name}" stopped (work dir kept)` : `cluster "${name}" deleted`);
  return ExitCode.ok;
}

function age(d: Date | undefined): string {
  if (!d) return '?';
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

export async function clusterList(): Promise<number> {
  const clusters = await listLocalClusters();
  const rows = [['NAME', 'AGE', 'API SERVER', 'NODES', 'STATE'], ...clusters.map((c) => [c.name, age(c.createdAt), c.apiServerUrl ?? '?', `${c.nodes.length}${c.realNodes.length ? ` (${c.realNodes.length} real)` : ''}`, c.alive ? 'alive' : `dead (${c.dead.join(', ') || 'no processes'})`])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  return ExitCode.ok;
}
