// Part "suite": the shipped features (not @real: the one real node per machine may be another
// run's) on a fresh local cluster, --parallel 1 and --parallel 2; then the same features on a
// fresh kind cluster (3 workers), --parallel 1 only (scenarios that take nodes down share them),
// where a Docker engine answers. Cold cache: the build times the binary cache (and, for kind,
// the node image's cache) recorded in its manifest.json when it was built (the shared caches are
// not wiped); warm: cluster up + run + cluster down, measured here.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { kubeproof, clusterUp, clusterDown, manifest, log, workDir, round, run as sh, root } from './common.mjs';
import { cacheRoot } from '../../dist/src/cluster/paths.js';

/** The node image's own build record (scripts/build-kind-image.mjs), if it was built here. */
function kindImageManifest() {
  const dir = join(cacheRoot(), 'kind', 'node-image');
  const files = existsSync(dir) ? readdirSync(dir).map((d) => join(dir, d, 'manifest.json')).filter(existsSync) : [];
  return files.length ? JSON.parse(readFileSync(files.at(-1), 'utf8')) : undefined;
}

/** Why the suite cannot run on kind here, or false. */
async function kindSkipReason() {
  const info = await sh('docker', ['info', '--format', '{{.ServerVersion}}']);
  if (info.code !== 0) return `no Docker engine answers (\`docker info\`: ${(info.stderr || info.stdout).trim().split('\n').at(-1)}); here: sh scripts/docker-engine.sh start`;
  const img = await sh(process.execPath, [join(root, 'scripts/build-kind-image.mjs')]);
  if (img.code !== 0) return `the offline kind node image could not be built: ${img.stderr.trim().split('\n').at(-1)}`;
  return false;
}

/** One `kubeproof run` of the features on a cluster made for it, measured; the row of the table. */
async function measured(label, parallel, up, runArgs, down, coldS) {
  const reports = join(workDir, `kp-suite-${label}`);
  rmSync(reports, { recursive: true, force: true });
  log(`suite: ${label}: run`);
  const r = await kubeproof(['run', ...runArgs, '--tags', 'not @real', '--parallel', String(parallel), '--reports', reports], { sample: true });
  const downMs = await down();
  let summary;
  try {
    summary = JSON.parse(readFileSync(join(reports, 'latest', 'summary.json'), 'utf8'));
  } catch {
    summary = undefined;
  }
  const byFeature = {};
  for (const sc of summary?.scenarios ?? []) byFeature[sc.feature] = round((byFeature[sc.feature] ?? 0) + sc.durationMs);
  const warmMs = up.ms + r.ms + downMs;
  return {
    cluster: label.startsWith('kind') ? 'kind' : 'local',
    parallel,
    exit: r.code,
    ...(summary ? {} : { stderrTail: r.stderr.slice(-800) }),
    totals: summary?.totals,
    failed: (summary?.scenarios ?? []).filter((sc) => sc.status === 'failed').map((sc) => `${sc.location}: ${sc.error?.split('\n')[0]}`),
    clusterUpMs: round(up.ms),
    runMs: round(r.ms),
    clusterDownMs: round(downMs),
    warmTotalMs: round(warmMs),
    coldTotalMs: round(coldS * 1000 + warmMs),
    scenarioSumMs: round((summary?.scenarios ?? []).reduce((a, sc) => a + sc.durationMs, 0)),
    byFeatureMs: byFeature,
    peakRssMiB: round(r.peakRssKiB / 1024),
    cpuS: round(r.cpuMs / 1000, 1),
  };
}

export async function suite({ parallels = [1, 2] } = {}) {
  const m = manifest();
  const out = { coldBuildS: round(m.buildSeconds), builtAt: m.builtAt, components: m.components?.map((c) => ({ name: c.name, s: round(c.seconds) })), runs: [] };
  for (const p of parallels) {
    const name = `bench-suite-p${p}`;
    log(`suite: --parallel ${p}: cluster up`);
    await clusterDown(name);
    const up = await clusterUp(name, 3);
    out.runs.push(await measured(`p${p}`, p, up, ['--name', name], () => clusterDown(name), m.buildSeconds));
  }
  const [a, b] = out.runs;
  if (a && b) out.speedupParallel2 = round(a.runMs / b.runMs, 2);
  const why = await kindSkipReason();
  if (why) out.kind = `not run: ${why}`;
  else {
    const name = 'bench-suite-kind';
    const img = kindImageManifest();
    out.kindImage = img ? { buildSeconds: round(img.buildSeconds), builtAt: img.builtAt } : undefined;
    const kindArgs = ['--cluster', 'kind', '--name', name];
    await kubeproof(['cluster', 'down', ...kindArgs]);
    log('suite: kind: cluster up');
    const up = await kubeproof(['cluster', 'up', ...kindArgs, '--nodes', '3', '--kind-image', process.env.KUBEPROOF_KIND_IMAGE ?? 'offline']);
    if (up.code !== 0) out.kind = `not run: kind cluster up failed (exit ${up.code}): ${up.stderr.trim().split('\n').slice(-2).join(' | ')}`;
    else {
      // Cold for kind: the Kubernetes binaries are not what kind runs; its node image's build is.
      const row = await measured('kind-p1', 1, up, kindArgs, async () => (await kubeproof(['cluster', 'down', ...kindArgs])).ms, img?.buildSeconds ?? 0);
      out.runs.push(row);
      out.kind = 'run (--parallel 1 only: the scenarios that take nodes down share the nodes)';
      const local = out.runs.find((r) => r.cluster === 'local' && r.parallel === 1);
      if (local) out.kindVsLocal = round(row.runMs / local.runMs, 2);
    }
  }
  return out;
}
