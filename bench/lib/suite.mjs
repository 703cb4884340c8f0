// Part "suite": the shipped features (not @real: the one real node per machine may be another
// run's) on a fresh local cluster, --parallel 1 and --parallel 2. Cold cache: the build times the
// binary cache recorded in its manifest.json when it was built (the shared cache is not wiped);
// warm: cluster up + run + cluster down, measured here.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { kubeproof, clusterUp, clusterDown, manifest, log, workDir, round } from './common.mjs';

export async function suite({ parallels = [1, 2] } = {}) {
  const m = manifest();
  const out = { coldBuildS: round(m.buildSeconds), builtAt: m.builtAt, components: m.components?.map((c) => ({ name: c.name, s: round(c.seconds) })), runs: [] };
  for (const p of parallels) {
    const name = `bench-suite-p${p}`;
    log(`suite: --parallel ${p}: cluster up`);
    await clusterDown(name);
    const up = await clusterUp(name, 3);
    const reports = join(workDir, `kp-suite-p${p}`);
    rmSync(reports, { recursive: true, force: true });
    log(`suite: --parallel ${p}: run`);
    const r = await kubeproof(['run', '--name', name, '--tags', 'not @real', '--parallel', String(p), '--reports', reports], { sample: true });
    const downMs = await clusterDown(name);
    let summary;
    try {
      summary = JSON.parse(readFileSync(join(reports, 'latest', 'summary.json'), 'utf8'));
    } catch {
      summary = undefined;
    }
    const byFeature = {};
    for (const s of summary?.scenarios ?? []) byFeature[s.feature] = round((byFeature[s.feature] ?? 0) + s.durationMs);
    const warmMs = up.ms + r.ms + downMs;
    out.runs.push({
      parallel: p,
      exit: r.code,
      ...(summary ? {} : { stderrTail: r.stderr.slice(-800) }),
      totals: summary?.totals,
      failed: (summary?.scenarios ?? []).filter((s) => s.status === 'failed').map((s) => `${s.location}: ${s.error?.split('\n')[0]}`),
      clusterUpMs: round(up.ms),
      runMs: round(r.ms),
      clusterDownMs: round(downMs),
      warmTotalMs: round(warmMs),
      coldTotalMs: round(m.buildSeconds * 1000 + warmMs),
      scenarioSumMs: round((summary?.scenarios ?? []).reduce((a, s) => a + s.durationMs, 0)),
      byFeatureMs: byFeature,
      peakRssMiB: round(r.peakRssKiB / 1024),
      cpuS: round(r.cpuMs / 1000, 1),
    });
  }
  const [a, b] = out.runs;
  if (a && b) out.speedupParallel2 = round(a.runMs / b.runMs, 2);
  out.kind = 'not run: kind needs a Docker engine and node images from a registry, which this machine has not';
  return out;
}
