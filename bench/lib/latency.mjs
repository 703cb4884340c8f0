// Part "latency": how long after the API server has a state (the moment the bench's own watch
// receives it) kubeproof's expectation resolves on it. A generated feature kills 1 pod and
// waits for 3 Ready pods, SAMPLES times (in scenarios of PER_SCENARIO, so no timeline is capped);
// each "within" step records, in summary.json, the time from the kill to the watch event that
// satisfied it; kill mark + that figure is the resolution time, compared with the moment the
// bench's watcher saw the 3rd pod available again.
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { kubeproof, log, workDir, quantile, round } from './common.mjs';
import { RemoteWatcher as PodWatcher } from './watcher.mjs';

export async function latency({ kubeconfig, name, samples = 220, perScenario = 55 }) {
  const scenarios = Math.ceil(samples / perScenario);
  const lines = ['@bench', 'Feature: bench latency — kill 1 pod, wait for 3 Ready pods, many times', ''];
  for (let s = 0; s < scenarios; s++) {
    lines.push(`  Scenario: latency samples ${s + 1}`, '    Given deployment "web" from "bench/manifests/web-instant.yaml" is ready');
    for (let i = 0; i < perScenario; i++) lines.push('    When 1 pod of deployment "web" is killed', '    Then within 30 s 3 pods of deployment "web" are Ready');
    lines.push('');
  }
  const feature = join(workDir, 'latency.feature');
  writeFileSync(feature, lines.join('\n'));
  const w = new PodWatcher(kubeconfig, { labelSelector: 'app=web' });
  await w.start();
  const reports = join(workDir, 'kp-latency');
  rmSync(reports, { recursive: true, force: true });
  log(`latency: ${scenarios * perScenario} samples`);
  const r = await kubeproof(['run', '--name', name, feature, '--reports', reports]);
  w.stop();
  const summary = JSON.parse(readFileSync(join(reports, 'latest', 'summary.json'), 'utf8'));
  const samplesOut = [];
  const problems = [];
  for (const sc of summary.scenarios) {
    if (sc.status !== 'passed') problems.push(`${sc.name}: ${sc.status} ${sc.error?.split('\n')[0] ?? ''}`);
    const d = sc.data;
    if (d.entriesDropped) problems.push(`${sc.name}: ${d.entriesDropped} timeline entries dropped`);
    const kills = d.entries.filter((e) => e.source === 'harness' && e.action === 'kill pods');
    const ms = d.measurements.filter((m) => m.name.includes('after "kill pods"'));
    for (let i = 0; i < Math.min(kills.length, ms.length); i++) {
      if (ms[i].name.includes('upper bound')) {
        problems.push(`sample ${i}: already so when checked`);
        continue;
      }
      const resolvedAt = kills[i].at + ms[i].value;
      const dis = w.disruptions(d.namespace, 3, kills[i].at - 5)[0];
      if (!dis?.to) {
        problems.push(`sample ${i}: the watcher saw no recovery`);
        continue;
      }
      samplesOut.push({ latencyMs: resolvedAt - dis.to, recoveryMs: dis.to - dis.from, kpMs: ms[i].value, watcherFromMs: dis.from - kills[i].at, watcherToMs: dis.to - kills[i].at, min: dis.min });
    }
  }
  const lat = samplesOut.map((s) => s.latencyMs);
  return {
    samples: lat.length,
    exit: r.code,
    wallMs: round(r.ms),
    latencyMs: { p50: round(quantile(lat, 0.5), 1), p90: round(quantile(lat, 0.9), 1), p99: round(quantile(lat, 0.99), 1), min: round(Math.min(...lat), 1), max: round(Math.max(...lat), 1) },
    recoveryMs: { p50: round(quantile(samplesOut.map((s) => s.recoveryMs), 0.5), 1) },
    resolution: 'kill mark + the step\'s recorded figure = the arrival time (kubeproof\'s clock) of the watch event that made the condition true; summary.json has ms resolution (figures rounded to 1 ms)',
    problems: problems.slice(0, 20),
    // every sample, ms after the kill mark: [kubeproof's resolution, watcher: first <3 available, watcher: 3 again]
    perSample: samplesOut.map((x) => [x.kpMs, round(x.watcherFromMs, 1), round(x.watcherToMs, 1)]),
  };
}
