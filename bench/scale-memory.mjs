#!/usr/bin/env node
// Where kubeproof's memory goes at scale, without a cluster: an API server in this process serves
// 1,000 nodes and 10,000 pods (20 namespaces × 500, one ReplicaSet and one PodDisruptionBudget
// each, pods spread over the nodes) in the shapes the local cluster serves them
// (bench/lib/scale-shapes.json, managedFields included); a child process runs kubeproof's own code
// from a build (`--dist DIR`, default this checkout's dist/) the way the scale drain does: a Node
// informer over every node (as each scenario's timeline keeps), then the drain plan of the 50
// nodes of one zone at once. The child samples process.memoryUsage() every 20 ms; its peak RSS and
// heap, and the heap retained afterwards (after a GC), are what kubeproof itself costs, apart from
// the control plane's load and from other processes on the machine.
//
//   npx tsc -p . && node bench/scale-memory.mjs [--dist DIR] [--nodes 1000] [--pods-per-ns 500] [--namespaces 20] [--json FILE]
import http from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]));
else await parent();

async function parent() {
  const dist = resolve(arg('dist', join(here, '..', 'dist')));
  const nodes = Number(arg('nodes', 1000));
  const perNs = Number(arg('pods-per-ns', 500));
  const namespaces = Number(arg('namespaces', 20));
  const shapes = JSON.parse(readFileSync(join(here, 'lib', 'scale-shapes.json'), 'utf8'));
  const zoneOf = (i) => `z${String(Math.floor(i / (nodes / 20)) + 1).padStart(2, '0')}`;

  // The objects, as JSON text per object (the API server serves bytes; nothing is shared with the child).
  const nodeList = [];
  for (let i = 1; i <= nodes; i++) {
    const n = structuredClone(shapes.node);
    n.metadata.name = `node-${i}`;
    n.metadata.uid = `node-uid-${i}`;
    n.metadata.labels = { ...n.metadata.labels, 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': zoneOf(i - 1) };
    nodeList.push(n);
  }
  const podsByNs = new Map();
  const podsByNode = new Map();
  let k = 0;
  for (let n = 1; n <= namespaces; n++) {
    const ns = `bench-scale-${String(n).padStart(2, '0')}`;
    const list = [];
    for (let i = 0; i < perNs; i++) {
      const p = structuredClone(shapes.pod);
      // Spread as a scheduler would, not in runs: the 50 nodes of a zone hold pods of every namespace.
      const node = `node-${((k++ * 397) % nodes) + 1}`;
      p.metadata.name = `w${n}-${i}`;
      p.metadata.namespace = ns;
      p.metadata.uid = `pod-uid-${n}-${i}`;
      p.metadata.labels = { ...p.metadata.labels, app: `w${n}` };
      p.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `w${n}-rs`, uid: `rs-${n}`, controller: true, blockOwnerDeletion: true }];
      p.spec.nodeName = node;
      list.push(p);
      if (!podsByNode.has(node)) podsByNode.set(node, []);
      podsByNode.get(node).push(p);
    }
    podsByNs.set(ns, list);
  }
  const pdbOf = (ns, n) => ({ metadata: { name: `w${n}`, namespace: ns, resourceVersion: '5' }, spec: { maxUnavailable: '5%', selector: { matchLabels: { app: `w${n}` } } }, status: { disruptionsAllowed: 25, currentHealthy: perNs, desiredHealthy: perNs - 25, expectedPods: perNs } });
  const requests = {};
  const listOf = (kind, items, url) => {
    const limit = Number(url.searchParams.get('limit') ?? 0);
    const from = Number(url.searchParams.get('continue') ?? 0);
    const page = limit ? items.slice(from, from + limit) : items;
    const next = limit && from + limit < items.length ? String(from + limit) : undefined;
    return JSON.stringify({ kind: `${kind}List`, apiVersion: 'v1', metadata: { resourceVersion: '1000', ...(next ? { continue: next } : {}) }, items: page });
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const key = `${req.method} ${url.pathname.replace(/bench-scale-\d+/, 'NS').replace(/node-\d+/, 'NODE')}${url.searchParams.get('watch') ? ' watch' : ''}`;
    requests[key] = (requests[key] ?? 0) + 1;
    if (url.searchParams.get('watch')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      return; // open, and quiet
    }
    const send = (body, code = 200) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(body);
    };
    let m;
    if (url.pathname === '/api/v1/nodes') return send(listOf('Node', nodeList, url));
    if ((m = url.pathname.match(/^\/api\/v1\/nodes\/([^/]+)$/))) {
      const n = nodeList.find((x) => x.metadata.name === m[1]);
      return n ? send(JSON.stringify(n)) : send(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' }), 404);
    }
    if (url.pathname === '/api/v1/pods') {
      const node = url.searchParams.get('fieldSelector')?.match(/spec\.nodeName=(.*)/)?.[1];
      return send(listOf('Pod', node ? (podsByNode.get(node) ?? []) : [...podsByNs.values()].flat(), url));
    }
    if ((m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods$/))) return send(listOf('Pod', podsByNs.get(m[1]) ?? [], url));
    if ((m = url.pathname.match(/^\/apis\/policy\/v1\/namespaces\/([^/]+)\/poddisruptionbudgets$/))) {
      const n = Number(m[1].split('-').at(-1));
      return send(listOf('PodDisruptionBudget', podsByNs.has(m[1]) ? [pdbOf(m[1], n)] : [], url));
    }
    send(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: `no ${url.pathname}` }), 404);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'kubeproof-scale-memory-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${server.address().port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n`);
  const victims = nodeList.filter((n) => n.metadata.labels['topology.kubernetes.io/zone'] === 'z01').map((n) => n.metadata.name);
  const out = await new Promise((resolveOut, reject) => {
    const c = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', JSON.stringify({ dist, kubeconfig, victims })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    c.stdout.on('data', (d) => (text += d));
    c.on('close', (code) => (code === 0 ? resolveOut(JSON.parse(text)) : reject(new Error(`child exited ${code}: ${text}`))));
  });
  server.close();
  rmSync(dir, { recursive: true, force: true });
  let commit = '';
  try {
    commit = (await new Promise((r) => {
      const g = spawn('git', ['-C', dirname(dist), 'log', '-1', '--format=%h'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let t = '';
      g.stdout.on('data', (d) => (t += d));
      g.on('close', () => r(t.trim()));
    }));
  } catch {}
  const result = { dist, commit, nodes, pods: namespaces * perNs, namespaces, drainedAtOnce: victims.length, objectBytes: { node: JSON.stringify(shapes.node).length, pod: JSON.stringify(shapes.pod).length, nodeManagedFields: JSON.stringify(shapes.node.metadata.managedFields).length, podManagedFields: JSON.stringify(shapes.pod.metadata.managedFields).length }, ...out, requests };
  const mib = (b) => `${Math.round(b / 2 ** 20)} MiB`;
  process.stderr.write(`kubeproof @ ${commit || dist}: ${nodes} nodes, ${result.pods} pods; ${victims.length} nodes planned at once\n`);
  process.stderr.write(`  at start: rss ${mib(out.start.rss)}, heap ${mib(out.start.heapUsed)}\n`);
  process.stderr.write(`  node informer synced (${nodes} nodes) in ${out.informerMs} ms: heap retained ${mib(out.afterInformer.heapUsed)} (+${mib(out.afterInformer.heapUsed - out.start.heapUsed)})\n`);
  process.stderr.write(`  drain plans of ${victims.length} nodes at once in ${out.planMs} ms: ${out.evictions} evictions planned; peak rss ${mib(out.peak.rss)}, peak heap ${mib(out.peak.heapUsed)}; heap retained after ${mib(out.afterPlan.heapUsed)}\n`);
  process.stderr.write(`  requests: ${Object.entries(requests).map(([k2, v]) => `${k2} ${v}`).join(', ')}\n`);
  const json = arg('json');
  if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
  else process.stdout.write(JSON.stringify(result) + '\n');
}

async function child({ dist, kubeconfig, victims }) {
  const url = (p) => pathToFileURL(join(dist, p)).href;
  const { Kube } = await import(url('src/kube/client.js'));
  const { Informer } = await import(url('src/kube/informer.js'));
  const drain = await import(url('src/faults/drain.js'));
  const mem = () => {
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers };
  };
  const settle = () => {
    globalThis.gc();
    globalThis.gc();
    return mem();
  };
  const peak = { rss: 0, heapUsed: 0 };
  const sample = () => {
    const m = mem();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  };
  const timer = setInterval(sample, 20);
  const kube = Kube.fromKubeconfig(kubeconfig);
  const start = settle();
  let t = performance.now();
  const nodes = new Informer(kube, 'Node');
  await nodes.start();
  const informerMs = Math.round(performance.now() - t);
  const afterInformer = settle();
  peak.rss = 0;
  peak.heapUsed = 0;
  const s = { kube };
  t = performance.now();
  // As drain() plans nodes drained at once: together when the build knows how (PlanReads), else each alone.
  const reads = drain.PlanReads ? new drain.PlanReads(kube) : undefined;
  const plans = await Promise.all(victims.map((n) => drain.planDrain(s, n, {}, reads)));
  const planMs = Math.round(performance.now() - t);
  sample();
  clearInterval(timer);
  const afterPlan = settle();
  await nodes.stop();
  process.stdout.write(JSON.stringify({ start, informerMs, afterInformer, planMs, peak, afterPlan, evictions: plans.reduce((a, p) => a + p.evict.length, 0), planner: reads ? 'PlanReads' : 'per node' }));
  process.exit(0);
}
