// Part "scale" (runs alone, last): a local cluster of 1,000 KWOK nodes in 20 zones of 50, with
// 10,000 pods (20 namespaces, each one Deployment × 500 under a PodDisruptionBudget
// maxUnavailable 5%: kubeproof's drain plan lists every pod of a victim's namespace once per
// owner, so one namespace of 10,000 pods would cost a 10,000-pod LIST per ReplicaSet per node), then
// kubeproof drains one zone — 50 nodes — at once. Measured: cluster up; the 10,000 pods to
// Ready; the drain scenario's wall time; kubeproof's peak RSS and CPU (its process tree,
// sampled every 100 ms from /proc); API requests: the API server's apiserver_request_total
// before/after the run (everyone's: the control plane's and kwok's too) and, through a counting
// proxy in front of the API server, kubeproof's own.
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { kubeproof, clusterUp, clusterDown, kubectlFor, log, workDir, round, sum, parseRequestTotals, treeStats } from './common.mjs';
import { getJSON, now } from './watcher.mjs';
import { countingProxy } from './proxy.mjs';

const NAME = 'bench-scale';
const ZONES = Array.from({ length: 20 }, (_, i) => `z${String(i + 1).padStart(2, '0')}`);

function workloads(deployments, replicas) {
  const docs = [];
  for (let i = 1; i <= deployments; i++) {
    const n = `w${String(i).padStart(2, '0')}`;
    const ns = `bench-scale-${String(i).padStart(2, '0')}`;
    docs.push(
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n  labels:\n    bench: scale`,
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${n}\n  namespace: ${ns}\n  labels:\n    bench: scale\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels:\n      app: ${n}\n  template:\n    metadata:\n      labels:\n        app: ${n}\n    spec:\n      containers:\n      - name: main\n        image: registry.k8s.io/e2e-test-images/agnhost:2.53\n        resources:\n          requests:\n            cpu: 10m\n            memory: 16Mi`,
      `apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: ${n}\n  namespace: ${ns}\nspec:\n  maxUnavailable: 5%\n  selector:\n    matchLabels:\n      app: ${n}`,
    );
  }
  return docs.join('\n---\n') + '\n';
}

async function metricsTotals(kubeconfig) {
  return parseRequestTotals(await getJSON(kubeconfig, '/metrics'));
}
function diff(after, before) {
  const out = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}
const top = (o, n = 12) => Object.fromEntries(Object.entries(o).sort((a, b) => b[1] - a[1]).slice(0, n));

export async function scale({ nodes = 1000, deployments = 20, replicas = 500 } = {}) {
  const out = { nodes, zones: ZONES.length, pods: deployments * replicas };
  await clusterDown(NAME);
  log(`scale: cluster up --nodes ${nodes} --zones ${ZONES.length} zones`);
  let kubeconfig;
  try {
    const up = await clusterUp(NAME, nodes, ['--zones', ZONES.join(',')]);
    kubeconfig = up.kubeconfig;
    out.clusterUpMs = round(up.ms);
  } catch (err) {
    out.clusterUpError = String(err.message).slice(0, 2000);
    await clusterDown(NAME);
    return out;
  }
  const kubectl = kubectlFor(kubeconfig);
  try {
    const ready = JSON.parse((await kubectl('get', 'nodes', '-o', 'json')).stdout).items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    out.readyNodes = ready;
    log(`scale: ${ready} Ready nodes; creating ${out.pods} pods`);
    const file = join(workDir, 'scale-workloads.yaml');
    writeFileSync(file, workloads(deployments, replicas));
    const t0 = now();
    const ap = await kubectl('apply', '-f', file);
    if (ap.code !== 0) throw new Error(ap.stderr);
    // set-up wait (not kubeproof): every 2 s, sum the Deployments' ready replicas
    let readyPods = 0;
    while (now() - t0 < 900_000) {
      const d = JSON.parse((await kubectl('get', 'deployments', '-A', '-l', 'bench=scale', '-o', 'json')).stdout);
      readyPods = sum(d.items.map((x) => x.status?.readyReplicas ?? 0));
      if (readyPods >= out.pods) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    out.podsReadyMs = round(now() - t0);
    out.podsReady = readyPods;
    log(`scale: ${readyPods} pods Ready after ${round(out.podsReadyMs / 1000)} s`);

    // The drain, through the counting proxy, on the cluster as an existing one.
    const proxyKubeconfig = join(workDir, 'scale-proxy.kubeconfig');
    const ctx = 'bench-scale-proxy';
    const proxy = await countingProxy(kubeconfig, ctx, proxyKubeconfig);
    const reports = join(workDir, 'kp-scale');
    rmSync(reports, { recursive: true, force: true });
    const idleBefore = await metricsTotals(kubeconfig);
    const cpBefore = controlPlaneTicks();
    const r = await kubeproof(['run', '--cluster', 'existing', '--kubeconfig', proxyKubeconfig, '--context', ctx, '--allow-context', ctx, 'bench/features/scale-drain.feature', '--reports', reports], { sample: true, env: { KUBECONFIG: proxyKubeconfig } });
    const cpAfter = controlPlaneTicks();
    const after = await metricsTotals(kubeconfig);
    await proxy.close();
    let sc;
    try {
      sc = JSON.parse(readFileSync(join(reports, 'latest', 'summary.json'), 'utf8')).scenarios[0];
    } catch {
      sc = undefined;
    }
    const all = diff(after, idleBefore);
    const own = { ...proxy.counts };
    const drainMark = sc?.data?.entries?.filter((e) => e.source === 'harness' && /drain/.test(e.action));
    out.drain = {
      exit: r.code,
      status: sc?.status,
      error: sc?.error?.split('\n').slice(0, 3).join(' | ') ?? (r.code !== 0 ? r.stderr.slice(-1500) : undefined),
      wallMs: round(r.ms),
      scenarioMs: sc?.durationMs,
      drainMarks: drainMark?.slice(0, 3).map((e) => `${e.action}: ${e.detail}`.slice(0, 200)),
      measurements: sc?.data?.measurements?.map((m) => `${m.name}: ${m.value} ${m.unit}`).slice(0, 10),
      kubeproof: { peakRssMiB: round(r.peakRssKiB / 1024), cpuS: round(r.cpuMs / 1000, 1), avgCores: round(r.cpuMs / r.ms, 2) },
      controlPlaneCpuS: round((cpAfter - cpBefore) / 100, 1),
      apiRequests: { kubeproof: sum(Object.values(own)), kubeproofByVerb: top(own, 20), everyone: round(sum(Object.values(all))), everyoneTop: top(all) },
    };
    log(`scale: drain ${sc?.status} in ${round(r.ms / 1000)} s; kubeproof peak ${out.drain.kubeproof.peakRssMiB} MiB`);
  } catch (err) {
    out.error = String(err.stack ?? err).slice(0, 2000);
  } finally {
    out.clusterDownMs = round(await clusterDown(NAME));
  }
  return out;
}

/** CPU ticks of the local cluster's components (every process whose command line names the cluster's directory). */
function controlPlaneTicks() {
  let ticks = 0;
  for (const d of readdirSafe('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.includes(`clusters/${NAME}/`)) ticks += treeStats(Number(d)).ticks;
  }
  return ticks;
}
import { readdirSync } from 'node:fs';
function readdirSafe(p) {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}
