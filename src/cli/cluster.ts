/** `kubeproof cluster up | down | list` for local clusters, and kind clusters with --cluster kind. */
import { listLocalClusters } from '../cluster/providers/local.js';
import { listKindClusters } from '../cluster/providers/kind.js';
import { clusterDownFor, clusterUpFor, type MadeClusterKind } from '../cluster/providers/select.js';
import { DEFAULT_CLUSTER_NAME } from '../cluster/paths.js';
import { ExitCode } from '../errors.js';
import { stderrLog } from '../log.js';

export async function clusterUp(opts: { kind: MadeClusterKind; name?: string; nodes: number; zones: string[]; realNodes: number; upstreamTimings: boolean; kindImage?: string }): Promise<number> {
  const cluster = await clusterUpFor(opts.kind, { name: opts.name, nodes: opts.nodes, zones: opts.zones, realNodes: opts.realNodes, upstreamTimings: opts.upstreamTimings, kindImage: opts.kindImage, log: stderrLog });
  const t = cluster.timings;
  stderrLog(
    `timings (${t.source}): node-monitor-grace ${t.nodeMonitorGracePeriodSeconds}s, heartbeat ${t.nodeHeartbeatSeconds}s, ` +
      `not-ready/unreachable toleration ${t.defaultNotReadyTolerationSeconds}/${t.defaultUnreachableTolerationSeconds}s, HPA sync ${t.hpaSyncPeriodSeconds}s, downscale window ${t.hpaDownscaleStabilizationSeconds}s`,
  );
  process.stdout.write(`KUBECONFIG=${cluster.kubeconfigPath}\n`);
  return ExitCode.ok;
}

export async function clusterDown(opts: { kind: MadeClusterKind; name?: string; keep: boolean }): Promise<number> {
  const name = opts.name ?? DEFAULT_CLUSTER_NAME;
  await clusterDownFor(opts.kind, name, { keep: opts.keep, log: stderrLog });
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
  // kind's own clusters, where kind and a Docker engine answer (nothing is listed otherwise).
  const kind = await listKindClusters().catch(() => [] as string[]);
  const rows = [
    ['NAME', 'KIND', 'AGE', 'API SERVER', 'NODES', 'STATE'],
    ...clusters.map((c) => [c.name, 'local', age(c.createdAt), c.apiServerUrl ?? '?', `${c.nodes.length}${c.realNodes.length ? ` (${c.realNodes.length} real)` : ''}`, c.alive ? 'alive' : `dead (${c.dead.join(', ') || 'no processes'})`]),
    ...kind.map((n) => [n, 'kind', '?', '?', '?', 'see kind get nodes --name ' + n]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  return ExitCode.ok;
}
