#!/usr/bin/env node
// kind beside the local cluster, one run each on this machine: the node image (warm now; cold
// from the build's own records), `cluster up` of a kind cluster (3 workers + real-1), memory
// per kind node (docker stats), every feature's wall time on a local and on a kind cluster (one
// `kubeproof run` per feature on a running cluster of each kind), and node-failure detection on
// kind by mechanism (bench/features/kind-detect.feature) with the timings in force, fast and,
// with --upstream, Kubernetes' own.
// Usage: npx tsc -p . && node bench/kind.mjs [--parts kind,local,upstream] [--features pod-kill,drain-under-pdb] [--json bench/results.json]
// (parts: kind = node image, cluster up, memory, features, fast detection; local = the features on a local
// cluster with a real node; upstream = detection on a kind cluster with --upstream-timings. Default kind,local.)
// Needs a Docker engine (here: sh scripts/docker-engine.sh start) and the cached node image
// (node scripts/build-kind-image.mjs). --json merges its figures into parts.kind of that file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpus, loadavg, totalmem } from 'node:os';
import { cacheRoot } from '../dist/src/cluster/paths.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { parts: { type: 'string', default: 'kind,local' }, features: { type: 'string' }, json: { type: 'string' } } });
const parts = new Set(values.parts.split(','));
const work = join(root, 'bench', '.work', `kind-${Date.now()}`);
mkdirSync(work, { recursive: true });
const log = (...a) => process.stderr.write(`[bench kind ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
const secs = (ms) => Math.round(ms / 100) / 10;
const load = () => loadavg().map((l) => l.toFixed(1)).join(' / ');

function kp(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin/kubeproof.js'), ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, ms: performance.now() - t0 };
}

const features = (values.features ? values.features.split(',') : readdirSync(join(root, 'features')).filter((f) => f.endsWith('.feature')).map((f) => f.replace(/\.feature$/, ''))).sort();

/** The node image: warm (cache hit) now; cold from what its build recorded in the cache. */
function nodeImage() {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'scripts/build-kind-image.mjs')], { cwd: root, encoding: 'utf8' });
  const warm = performance.now() - t0;
  if (r.status !== 0) throw new Error(`build-kind-image failed: ${r.stderr}`);
  const dir = join(cacheRoot(), 'kind', 'node-image');
  const manifests = existsSync(dir) ? readdirSync(dir).map((d) => join(dir, d, 'manifest.json')).filter(existsSync) : [];
  const m = manifests.length ? JSON.parse(readFileSync(manifests.at(-1), 'utf8')) : undefined;
  return { warmSeconds: secs(warm), how: r.stderr.trim().split('\n').at(-1), cold: m ? { buildSeconds: m.buildSeconds, steps: m.steps ?? m.seconds, builtAt: m.builtAt } : undefined };
}

/** docker stats of a kind cluster's node containers: MiB each. */
function kindMemory(name) {
  const r = spawnSync('docker', ['stats', '--no-stream', '--format', '{{.Name}}\t{{.MemUsage}}'], { encoding: 'utf8' });
  const out = {};
  for (const line of r.stdout.trim().split('\n')) {
    const [n, usage] = line.split('\t');
    if (!n?.startsWith(`${name}-`)) continue;
    const [v, unit] = usage.split('/')[0].trim().match(/^([\d.]+)(\w+)$/).slice(1);
    out[n.slice(name.length + 1)] = Math.round(Number(v) * ({ KiB: 1 / 1024, MiB: 1, GiB: 1024 }[unit] ?? 1));
  }
  return out;
}

function summaryOf(reports) {
  const p = join(reports, 'latest', 'summary.json');
  return existsSync(p) ? JSON.parse(readFileSync(realpathSync(p), 'utf8')) : undefined;
}

/** One `kubeproof run` per feature on a running cluster: wall time, statuses, and node-failure figures. */
function perFeature(label, clusterArgs) {
  const rows = {};
  for (const f of features) {
    const reports = join(work, `${label}-${f}`);
    const r = kp(['run', ...clusterArgs, `features/${f}.feature`, '--reports', reports, '--allow-not-applicable']);
    const s = summaryOf(reports);
    const count = (st) => s?.scenarios.filter((x) => x.status === st).length ?? 0;
    rows[f] = {
      seconds: secs(r.ms),
      exit: r.code,
      passed: count('passed'),
      failed: count('failed'),
      notApplicable: count('not-applicable'),
      failures: s?.scenarios.filter((x) => x.status === 'failed').map((x) => `${x.location}: ${(x.error ?? '').split('\n')[0].slice(0, 200)}`) ?? [`no summary (exit ${r.code}): ${r.out.trim().split('\n').slice(-3).join(' | ')}`],
      notApplicableReasons: s?.scenarios.filter((x) => x.status === 'not-applicable').map((x) => `${x.location}: ${x.data?.notApplicable ?? ''}`) ?? [],
    };
    log(`${label} ${f}: ${rows[f].seconds} s, ${rows[f].passed} passed, ${rows[f].failed} failed, ${rows[f].notApplicable} n/a (exit ${r.code}; load ${load()})`);
  }
  return rows;
}

/** Detection by mechanism: the "within … Unknown" figures (from the fault) and the way back to Ready. */
function detection(label, clusterArgs) {
  const reports = join(work, `${label}-detect`);
  const r = kp(['run', ...clusterArgs, 'bench/features/kind-detect.feature', '--reports', reports]);
  const s = summaryOf(reports);
  const out = {};
  for (const sc of s?.scenarios ?? []) {
    const ms = sc.data?.measurements ?? [];
    const unknown = ms.find((m) => /Ready=Unknown — after /.test(m.name));
    const ready = ms.find((m) => /Ready=True — after /.test(m.name));
    out[sc.name] = { status: sc.status, unknownAfterSeconds: unknown ? secs(unknown.value) : undefined, readyAfterBringBackSeconds: ready ? secs(ready.value) : undefined, mechanism: sc.data?.faults?.[0]?.detail, timings: sc.data?.cluster?.timings, error: sc.error?.split('\n')[0] };
  }
  log(`${label} detection (exit ${r.code}): ${JSON.stringify(out)}`);
  return out;
}

function kindCluster(name, extra = []) {
  const up = kp(['cluster', 'up', '--cluster', 'kind', '--name', name, '--nodes', '3', '--real-nodes', '1', '--kind-image', process.env.KUBEPROOF_KIND_IMAGE ?? 'offline', ...extra]);
  if (up.code !== 0) throw new Error(`kind cluster up failed (exit ${up.code}):\n${up.out}`);
  log(`kind cluster ${name} up in ${secs(up.ms)} s`);
  return secs(up.ms);
}

const result = { at: new Date().toISOString(), command: `node bench/kind.mjs ${process.argv.slice(2).join(' ')}`.trim(), machine: { cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), loadAtStart: load() } };
const K = `bk-${process.pid % 10000}`;
if (parts.has('kind')) try {
  result.nodeImage = nodeImage();
  log(`node image: warm ${result.nodeImage.warmSeconds} s; cold build ${result.nodeImage.cold?.buildSeconds ?? '?'} s`);
  result.kindUpSeconds = kindCluster(K);
  result.memoryIdleMiB = kindMemory(K);
  result.kind = perFeature('kind', ['--cluster', 'kind', '--name', K]);
  result.memoryAfterFeaturesMiB = kindMemory(K);
  result.detection = { fast: detection('kind-fast', ['--cluster', 'kind', '--name', K]) };
} finally {
  const down = kp(['cluster', 'down', '--cluster', 'kind', '--name', K]);
  result.kindDownSeconds = secs(down.ms);
}
if (parts.has('upstream')) {
  const U = `bu-${process.pid % 10000}`;
  try {
    result.kindUpUpstreamSeconds = kindCluster(U, ['--upstream-timings']);
    result.detectionUpstream = detection('kind-upstream', ['--cluster', 'kind', '--name', U]);
  } finally {
    kp(['cluster', 'down', '--cluster', 'kind', '--name', U]);
  }
}
if (parts.has('local')) {
  const L = `bl-${process.pid % 10000}`;
  const up = kp(['cluster', 'up', '--name', L, '--nodes', '3', '--real-nodes', '1']);
  result.localUpSeconds = secs(up.ms);
  try {
    if (up.code !== 0) throw new Error(`local cluster up failed:\n${up.out}`);
    result.local = perFeature('local', ['--name', L]);
  } finally {
    kp(['cluster', 'down', '--name', L]);
  }
}
result.loadAtEnd = load();
const text = JSON.stringify(result, null, 2);
writeFileSync(join(work, 'result.json'), text);
if (values.json) {
  const all = existsSync(values.json) ? JSON.parse(readFileSync(values.json, 'utf8')) : { parts: {} };
  // Parts run alone add to the figures of the others.
  all.parts = { ...all.parts, kind: { ...all.parts?.kind, ...result, runs: [...(all.parts?.kind?.runs ?? []), { at: result.at, command: result.command, loadAtStart: result.machine.loadAtStart, loadAtEnd: result.loadAtEnd }] } };
  writeFileSync(values.json, `${JSON.stringify(all, null, 2)}\n`);
}
process.stdout.write(`${text}\n`);
