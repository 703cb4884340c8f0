// Part "overhead": one pod-kill scenario (deploy 3 pods that take 2 s to become Ready, kill 2,
// wait for 3 Ready) run through `kubeproof run --name` on a running cluster, cut into what
// Kubernetes did (seen by the bench's watchers) and what the harness did around it.
import { readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { kubeproof, log, workDir, median, round } from './common.mjs';
import { RemoteWatcher as PodWatcher } from './watcher.mjs';

const FEATURE = 'bench/features/overhead.feature';

async function once({ kubeconfig, name }, i) {
  const pods = new PodWatcher(kubeconfig, { labelSelector: 'app=web' });
  const nss = new PodWatcher(kubeconfig, { base: '/api/v1/namespaces', labelSelector: 'kubeproof.io/run' });
  await Promise.all([pods.start(), nss.start()]);
  const reports = join(workDir, `kp-overhead-${i}`);
  rmSync(reports, { recursive: true, force: true });
  const r = await kubeproof(['run', '--name', name, FEATURE, '--reports', reports]);
  // the namespace's deletion may finish after the process exits; wait for it (bounded) to report it
  const t0 = Date.now();
  const sc0 = () => JSON.parse(readFileSync(join(reports, 'latest', 'summary.json'), 'utf8'));
  const summary = sc0();
  const sc = summary.scenarios[0];
  const ns = sc.data.namespace;
  while (!nss.log.some((e) => e.name === ns && e.type === 'DELETED') && Date.now() - t0 < 60_000) await new Promise((res) => setTimeout(res, 50));
  pods.stop();
  nss.stop();
  const e = sc.data.entries.filter((x) => x.source === 'harness');
  const applyAt = e.find((x) => x.action === 'apply')?.at;
  const killAt = e.find((x) => x.action === 'kill pods')?.at;
  const nsAdded = nss.log.find((x) => x.name === ns && (x.type === 'ADDED' || x.type === 'LISTED'))?.at;
  const nsDeleting = nss.log.find((x) => x.name === ns && (x.deleting || x.type === 'DELETED'))?.at;
  const nsDeleted = nss.log.find((x) => x.name === ns && x.type === 'DELETED')?.at;
  const readyAt = pods.series(ns).find((p) => p.at >= applyAt && p.available >= 3)?.at;
  const dis = pods.disruptions(ns, 3, killAt - 5)[0];
  const latest = join(reports, 'latest');
  const reportFiles = readdirSync(latest).map((f) => statSync(join(latest, f)).mtimeMs);
  const runStarted = Date.parse(summary.startedAt);
  const firstReport = Math.min(...reportFiles);
  const reportsWritten = Math.max(...reportFiles);
  const lines = [
    ['process start-up (node, CLI, step library) until the run starts', r.start, runStarted, 'harness'],
    ['cluster attach (kubeconfig, server version, guard, Lease, ledger, node baseline) until the namespace exists', runStarted, nsAdded, 'harness'],
    ['namespace create → first step acts (informers listed)', nsAdded, applyAt, 'harness'],
    ['Kubernetes: apply → 3 pods Ready (watcher)', applyAt, readyAt, 'kubernetes'],
    ['"is ready" seen and the next step starts', readyAt, killAt, 'harness'],
    ['Kubernetes: kill → 3 pods Ready again (watcher)', killAt, dis?.to, 'kubernetes'],
    ['recovery seen → scenario ends, undo, residue check, namespace delete requested', dis?.to, nsDeleting, 'harness'],
    ['namespace delete requested → first report file written', nsDeleting, firstReport, 'harness'],
    ['report writing (timeline.html, summary.json, …): first to last file written', firstReport, reportsWritten, 'harness'],
    ['exit after the reports', reportsWritten, r.end, 'harness'],
  ].map(([what, from, to, side]) => ({ what, side, ms: from !== undefined && to !== undefined ? round(to - from) : undefined }));
  return {
    exit: r.code,
    status: sc.status,
    wallMs: round(r.ms),
    lines,
    kubernetesMs: round(lines.filter((l) => l.side === 'kubernetes').reduce((a, l) => a + (l.ms ?? 0), 0)),
    namespaceDeletionAfterExitMs: nsDeleted !== undefined ? round(nsDeleted - r.end) : undefined,
    peakRssMiB: round(r.peakRssKiB / 1024),
  };
}

export async function overhead(ctx, runs = 3) {
  const all = [];
  for (let i = 0; i < runs; i++) {
    log(`overhead: run ${i + 1}/${runs}`);
    all.push(await once(ctx, i));
  }
  const med = (f) => round(median(all.map(f).filter((x) => x !== undefined)));
  return {
    runs,
    feature: FEATURE,
    wallMs: med((x) => x.wallMs),
    kubernetesMs: med((x) => x.kubernetesMs),
    ratio: round(med((x) => x.wallMs) / med((x) => x.kubernetesMs), 2),
    lines: all[0].lines.map((l, j) => ({ what: l.what, side: l.side, ms: med((x) => x.lines[j].ms) })),
    namespaceDeletionAfterExitMs: med((x) => x.namespaceDeletionAfterExitMs),
    statuses: all.map((x) => x.status),
    each: all,
  };
}
