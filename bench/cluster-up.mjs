#!/usr/bin/env node
// Local cluster benchmark: the cold build time (as recorded by the build in manifest.json),
// then N warm starts of `kubeproof cluster up --nodes 3` (wall time until the command exits,
// i.e. every node Ready), the memory (RSS) of each component of the running cluster right
// after it is up and after a minute at idle, and `cluster down`.
// With --real-nodes 1 (root and Debian's containerd, runc, CNI plugins, iptables): one more
// start with a real node beside the KWOK nodes, the time a test-app pod takes to become Ready
// on it through its HTTP readiness probe, and the real node's memory (containerd, kubelet,
// kube-proxy, containerd-shims).
// Usage: npx tsc -p . && node bench/cluster-up.mjs [--runs 3] [--idle 60] [--real-nodes 1] [--json FILE]
// (also the part "cluster-up" of `npm run bench`, which passes --json and keeps the figures in bench/results.json)
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { cpus, totalmem } from 'node:os';
import { clusterDir } from '../dist/src/cluster/paths.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, idle: { type: 'string', default: '60' }, 'real-nodes': { type: 'string', default: '0' }, json: { type: 'string' } } });
const realNodes = Number(values['real-nodes']);
const runs = Number(values.runs);
const idleSeconds = Number(values.idle);
const kp = (...args) => spawnSync(process.execPath, [join(root, 'bin/kubeproof.js'), ...args], { cwd: root, encoding: 'utf8' });

const dir = spawnSync(process.execPath, [join(root, 'scripts/build-binaries.mjs')], { encoding: 'utf8' }).stdout.trim();
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

function rssMiB(pid) {
  try {
    const kb = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return 0;
  }
}

function componentMemory(name) {
  const out = {};
  // The control plane's pid files (kwokctl), then the real node's ("<pid> <start time>").
  for (const pids of [join(clusterDir(name), 'pids'), join(clusterDir(name), 'real', 'pids')]) {
    if (!existsSync(pids)) continue;
    for (const f of readdirSync(pids).filter((f) => f.endsWith('.pid'))) out[f.replace(/\.pid$/, '')] = rssMiB(Number(readFileSync(join(pids, f), 'utf8').trim().split(/\s+/)[0]));
  }
  return out;
}

/** containerd-shim processes (one per pod on a real node) and their total RSS. */
function shimMemory() {
  let count = 0;
  let mib = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const comm = (() => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        return '';
      }
    })();
    if (comm.startsWith('containerd-shim')) {
      count++;
      mib += rssMiB(Number(pid));
    }
  }
  return { count, mib };
}

const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
for (let i = 0; i < runs; i++) {
  const name = `bench-${process.pid}-${i}`;
  const t0 = performance.now();
  const up = kp('cluster', 'up', '--name', name, '--nodes', '3');
  const upMs = performance.now() - t0;
  if (up.status !== 0) {
    process.stderr.write(up.stderr);
    kp('cluster', 'down', '--name', name);
    process.exit(1);
  }
  const atUp = componentMemory(name);
  // A sampling interval for the idle figure, not a wait for a condition.
  if (i === runs - 1 && idleSeconds > 0) await delay(idleSeconds * 1000);
  const idle = i === runs - 1 && idleSeconds > 0 ? componentMemory(name) : undefined;
  const t1 = performance.now();
  const down = kp('cluster', 'down', '--name', name);
  const downMs = performance.now() - t1;
  if (down.status !== 0) process.stderr.write(down.stderr);
  results.push({ upMs, downMs, atUp, idle });
  process.stderr.write(`run ${i + 1}/${runs}: up ${(upMs / 1000).toFixed(2)} s, down ${(downMs / 1000).toFixed(2)} s, RSS at up ${sum(atUp)} MiB\n`);
}

const last = results.at(-1);
const lines = [
  `machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; ${manifest.go?.version ?? manifest.go}`,
  `cold build (${manifest.builtAt}, recorded in manifest.json): ${Math.round(manifest.buildSeconds)} s — ${manifest.components.map((c) => `${c.name} ${Math.round(c.seconds)} s`).join(', ')}`,
  `cluster up --nodes 3 (warm cache, to every node Ready), ${runs} runs: ${results.map((r) => (r.upMs / 1000).toFixed(2)).join(' / ')} s (median ${(median(results.map((r) => r.upMs)) / 1000).toFixed(2)} s)`,
  `cluster down: ${results.map((r) => (r.downMs / 1000).toFixed(2)).join(' / ')} s`,
  `RSS right after up: ${sum(last.atUp)} MiB — ${Object.entries(last.atUp).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ...(last.idle ? [`RSS after ${idleSeconds} s idle: ${sum(last.idle)} MiB — ${Object.entries(last.idle).map(([k, v]) => `${k} ${v}`).join(', ')}`] : []),
];
if (realNodes > 0) {
  const name = `bench-real-${process.pid}`;
  const t0 = performance.now();
  const up = kp('cluster', 'up', '--name', name, '--nodes', '3', '--real-nodes', String(realNodes));
  const upMs = performance.now() - t0;
  if (up.status !== 0) {
    process.stderr.write(up.stderr);
    kp('cluster', 'down', '--name', name);
    process.exit(1);
  }
  const kubeconfig = up.stdout.trim().replace(/^KUBECONFIG=/, '');
  const kubectl = (...args) => spawnSync(join(dir, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' });
  const before = shimMemory();
  const t1 = performance.now();
  kubectl('apply', '-f', join(root, 'scenarios/real/app.yaml'));
  // kubectl wait is a watch: it returns when the Deployment reports every replica available.
  const wait = kubectl('wait', '--for=condition=Available', 'deployment/app', '--timeout=120s');
  const podsMs = performance.now() - t1;
  const shims = shimMemory();
  const mem = componentMemory(name);
  kp('cluster', 'down', '--name', name);
  lines.push(
    `cluster up --nodes 3 --real-nodes ${realNodes} (to every node Ready): ${(upMs / 1000).toFixed(2)} s`,
    `3 test-app pods on the real node, apply → Deployment Available (HTTP readiness probe, period 1 s): ${wait.status === 0 ? `${(podsMs / 1000).toFixed(2)} s` : `failed: ${wait.stderr.trim()}`}`,
    `RSS with a real node and 3 pods: ${sum(mem) + shims.mib} MiB — ${Object.entries(mem).map(([k, v]) => `${k} ${v}`).join(', ')}, ${shims.count - before.count} containerd-shim(s) ${shims.mib - before.mib}`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
if (values.json) {
  writeFileSync(
    values.json,
    JSON.stringify({
      lines,
      coldBuildS: Math.round(manifest.buildSeconds),
      upMs: results.map((r) => Math.round(r.upMs)),
      upMedianMs: Math.round(median(results.map((r) => r.upMs))),
      downMs: results.map((r) => Math.round(r.downMs)),
      rssAtUpMiB: sum(last.atUp),
      rssIdleMiB: last.idle ? sum(last.idle) : undefined,
      idleSeconds,
    }),
  );
}
