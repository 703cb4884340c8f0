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
import { run, root, clusterUp, clusterDown, kubectlFor, log, workDir, round, sum, parseRequestTotals, treeStats } from './common.mjs';
import { getJSON, now, tlsOptions } from './watcher.mjs';
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

/** POST objects to a collection with `concurrency` requests in flight; resolves with how many were created. */
async function postAll(kubeconfig, path, objects, concurrency) {
  const https = await import('node:https');
  const { server, opts } = await tlsOptions(kubeconfig);
  const agent = new https.Agent({ ...opts, keepAlive: true, maxSockets: concurrency });
  let ok = 0;
  let i = 0;
  const one = (o) =>
    new Promise((resolve) => {
      const body = JSON.stringify(o);
      const req = https.request(new URL(path, server), { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 201 || res.statusCode === 409) ok++;
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end(body);
    });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (i < objects.length) await one(objects[i++]);
  }));
  agent.destroy();
  return ok;
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

export async function scale({ nodes = 1000, deployments = 20, replicas = Number(process.env.BENCH_SCALE_REPLICAS ?? 500), upstream = process.env.BENCH_SCALE_TIMINGS !== 'fast', podsWaitS = Number(process.env.BENCH_SCALE_PODS_WAIT_S ?? 900) } = {}) {
  // Kubernetes' own timings (--upstream-timings: heartbeat 10 s, grace 50 s) by default: with
  // kubeproof's fast ones (2 s / 10 s) kwok could not renew 1,000 nodes' heartbeats on this
  // machine, and nodes flapped Unknown/NotReady (see README). BENCH_SCALE_TIMINGS=fast for those.
  const timings = upstream ? ['--upstream-timings'] : [];
  const out = { nodes, zones: ZONES.length, pods: deployments * replicas, timings: upstream ? 'upstream' : 'kubeproof-fast' };
  await clusterDown(NAME);
  log(`scale: cluster up --nodes ${nodes} --zones ${ZONES.length} zones`);
  let kubeconfig;
  try {
    const up = await clusterUp(NAME, nodes, ['--zones', ZONES.join(','), ...timings]);
    kubeconfig = up.kubeconfig;
    out.clusterUpMs = round(up.ms);
  } catch (err) {
    // `cluster up` waits at most 60 s for every node to be Ready; report that, then build the same
    // cluster another way: up with 3 nodes, the other nodes created by the bench through the API
    // with kubeproof's own node template (dist/src/cluster/nodes.js), in the same zones.
    out.clusterUpError = String(err.message).slice(0, 1600);
    out.clusterUpFailedAfterMs = round(err.ms);
    await clusterDown(NAME);
    log(`scale: cluster up --nodes ${nodes} failed; fallback: 3 nodes by the CLI, ${nodes - 3} by the bench`);
    const t0 = now();
    const up = await clusterUp(NAME, 3, ['--zones', ZONES.join(','), ...timings]);
    kubeconfig = up.kubeconfig;
    const { kwokNode, nodeSpecsFor } = await import('../../dist/src/cluster/nodes.js');
    const specs = nodeSpecsFor(nodes, ZONES).slice(3);
    const created = await postAll(kubeconfig, '/api/v1/nodes', specs.map((sp) => kwokNode(sp)), 20);
    const kubectl0 = kubectlFor(kubeconfig);
    let ready = 0;
    while (now() - t0 < 300_000) {
      const items = JSON.parse((await kubectl0('get', 'nodes', '-o', 'json')).stdout).items;
      ready = items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !(n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/'))).length;
      if (ready >= nodes) break;
      await new Promise((r) => setTimeout(r, 10_000));
    }
    out.fallback = { cliUpMs: round(up.ms), createdByBench: created, allReadyMs: round(now() - t0), ready };
    out.clusterUpMs = undefined;
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
    while (now() - t0 < podsWaitS * 1000) {
      const d = JSON.parse((await kubectl('get', 'deployments', '-A', '-l', 'bench=scale', '-o', 'json')).stdout);
      readyPods = sum(d.items.map((x) => x.status?.readyReplicas ?? 0));
      if (readyPods >= out.pods) break;
      await new Promise((r) => setTimeout(r, 5000));
    }
    out.podsReadyMs = round(now() - t0);
    out.podsReady = readyPods;
    log(`scale: ${readyPods} pods Ready after ${round(out.podsReadyMs / 1000)} s`);

    // The drain, through the counting proxy, on the cluster as an existing one. With
    // BENCH_SCALE_COMPARE=<another checkout of kubeproof, built> that checkout first drains zone
    // z02 the same way (same cluster, same load, one run: a before/after of kubeproof's own cost).
    const proxyKubeconfig = join(workDir, 'scale-proxy.kubeconfig');
    const ctx = 'bench-scale-proxy';
    const proxy = await countingProxy(kubeconfig, ctx, proxyKubeconfig);
    try {
      const compare = process.env.BENCH_SCALE_COMPARE;
      if (compare) {
        const feature = join(workDir, 'scale-drain-z02.feature');
        writeFileSync(feature, readFileSync(join(root, 'bench/features/scale-drain.feature'), 'utf8').replaceAll('"z01"', '"z02"'));
        const git = await run('git', ['-C', compare, 'log', '-1', '--format=%h %s']);
        out.drainCompared = { checkout: compare, commit: git.stdout.trim().slice(0, 120), zone: 'z02', ...(await drainRun(kubeconfig, proxy, proxyKubeconfig, ctx, join(compare, 'bin/kubeproof.js'), feature, 'kp-scale-compared')) };
        log(`scale: compared checkout drained z02: ${out.drainCompared.status} in ${round(out.drainCompared.wallMs / 1000)} s; peak ${out.drainCompared.kubeproof.peakRssMiB} MiB`);
      }
      out.drain = { zone: 'z01', ...(await drainRun(kubeconfig, proxy, proxyKubeconfig, ctx, join(root, 'bin/kubeproof.js'), 'bench/features/scale-drain.feature', 'kp-scale')) };
      log(`scale: drain ${out.drain.status} in ${round(out.drain.wallMs / 1000)} s; kubeproof peak ${out.drain.kubeproof.peakRssMiB} MiB`);
    } finally {
      await proxy.close();
    }
  } catch (err) {
    out.error = String(err.stack ?? err).slice(0, 2000);
  } finally {
    out.clusterDownMs = round(await clusterDown(NAME));
  }
  return out;
}

/** One `kubeproof run` of a drain feature through the counting proxy: its verdict, wall time, peak RSS and CPU, API requests (its own and everyone's). */
async function drainRun(kubeconfig, proxy, proxyKubeconfig, ctx, bin, feature, reportsName) {
  const reports = join(workDir, reportsName);
  rmSync(reports, { recursive: true, force: true });
  proxy.reset();
  const idleBefore = await metricsTotals(kubeconfig);
  const cpBefore = controlPlaneTicks();
  const r = await run(process.execPath, [bin, 'run', '--cluster', 'existing', '--kubeconfig', proxyKubeconfig, '--context', ctx, '--allow-context', ctx, feature, '--reports', reports], { sample: true, env: { KUBECONFIG: proxyKubeconfig } });
  const cpAfter = controlPlaneTicks();
  const after = await metricsTotals(kubeconfig);
  let sc;
  try {
    sc = JSON.parse(readFileSync(join(reports, 'latest', 'summary.json'), 'utf8')).scenarios[0];
  } catch {
    sc = undefined;
  }
  const all = diff(after, idleBefore);
  const own = { ...proxy.counts };
  const drainMark = sc?.data?.entries?.filter((e) => e.source === 'harness' && /drain/.test(e.action));
  const drains = (sc?.data?.measurements ?? []).filter((m) => /^drain of node/.test(m.name));
  return {
    exit: r.code,
    status: sc?.status,
    error: sc?.error?.split('\n').slice(0, 3).join(' | ').slice(0, 1500) ?? (r.code !== 0 ? r.stderr.slice(-1500) : undefined),
    wallMs: round(r.ms),
    scenarioMs: sc?.durationMs,
    nodesDrained: drains.filter((m) => !/gave up/.test(m.name)).length,
    nodesGaveUp: drains.filter((m) => /gave up/.test(m.name)).length,
    drainMarks: drainMark?.slice(0, 3).map((e) => `${e.action}: ${e.detail}`.slice(0, 200)),
    measurements: sc?.data?.measurements?.map((m) => `${m.name}: ${m.value} ${m.unit}`).slice(0, 10),
    kubeproof: { peakRssMiB: round(r.peakRssKiB / 1024), cpuS: round(r.cpuMs / 1000, 1), avgCores: round(r.cpuMs / r.ms, 2) },
    controlPlaneCpuS: round((cpAfter - cpBefore) / 100, 1),
    apiRequests: { kubeproof: sum(Object.values(own)), kubeproofByVerb: top(own, 20), everyone: round(sum(Object.values(all))), everyoneTop: top(all) },
  };
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
