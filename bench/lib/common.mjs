// Shared helpers of the bench parts: child processes (async, so the in-process watcher keeps
// stamping events while a tool runs), the kubeproof CLI, local clusters, kubectl, statistics.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { homedir } from 'node:os';
import { now } from './watcher.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const benchDir = join(root, 'bench');
export const cacheDir = process.env.KUBEPROOF_CACHE ?? join(homedir(), '.cache', 'kubeproof');
export const workDir = join(benchDir, '.work');
mkdirSync(workDir, { recursive: true });

export const log = (...a) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);

/**
 * Run a command; resolves with { code, stdout, stderr, ms, start, end, peakRssKiB, cpuMs }.
 * With `sample`, polls /proc/<pid> (and its children) every 100 ms for RSS and CPU time.
 */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const start = now();
    const child = spawn(cmd, args, { cwd: opts.cwd ?? root, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (opts.echo) process.stderr.write(d);
    });
    let peakRssKiB = 0;
    let cpuTicks = 0;
    const timer = opts.sample
      ? setInterval(() => {
          const t = treeStats(child.pid);
          peakRssKiB = Math.max(peakRssKiB, t.rssKiB);
          cpuTicks = Math.max(cpuTicks, t.ticks);
        }, 100)
      : undefined;
    const killer = opts.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs) : undefined;
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      if (killer) clearTimeout(killer);
      const end = now();
      resolve({ code, stdout, stderr, ms: end - start, start, end, peakRssKiB, cpuMs: cpuTicks * 10 });
    });
  });
}

/** RSS (KiB) and utime+stime (clock ticks) of a process and its descendants. */
export function treeStats(pid) {
  let rssKiB = 0;
  let ticks = 0;
  const children = new Map();
  for (const d of safeReaddir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = safeRead(`/proc/${d}/stat`);
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(f[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(d));
  }
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    const status = safeRead(`/proc/${p}/status`);
    const stat = safeRead(`/proc/${p}/stat`);
    if (status) rssKiB += Number(status.match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0);
    if (stat) {
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    }
    stack.push(...(children.get(p) ?? []));
  }
  return { rssKiB, ticks };
}

function safeRead(p) {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}
function safeReaddir(p) {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}

export const kubeproof = (args, opts = {}) => run(process.execPath, [join(root, 'bin/kubeproof.js'), ...args], opts);

/** The binary cache directory (waits for a build in progress). */
export function binDir() {
  const r = spawnSync(process.execPath, [join(root, 'scripts/build-binaries.mjs')], { encoding: 'utf8', cwd: root });
  if (r.status !== 0) throw new Error(`build-binaries failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1);
}

export function manifest() {
  return JSON.parse(readFileSync(join(binDir(), 'manifest.json'), 'utf8'));
}

export const clusterDir = (name) => join(cacheDir, 'kwok', 'clusters', name);

export async function clusterUp(name, nodes = 3, extra = []) {
  const r = await kubeproof(['cluster', 'up', '--name', name, '--nodes', String(nodes), ...extra], { sample: false });
  if (r.code !== 0) throw Object.assign(new Error(`cluster up ${name} failed (${r.code}) after ${Math.round(r.ms / 100) / 10} s: ${r.stderr.length > 1400 ? `${r.stderr.slice(0, 1000)} … ${r.stderr.slice(-400)}` : r.stderr}`), { ms: r.ms });
  const kubeconfig = r.stdout.trim().split('\n').at(-1).replace(/^KUBECONFIG=/, '');
  return { kubeconfig, ms: r.ms };
}

export async function clusterDown(name) {
  const r = await kubeproof(['cluster', 'down', '--name', name]);
  return r.ms;
}

export function kubectlFor(kubeconfig) {
  const bin = existsSync(join(binDir(), 'kubectl')) ? join(binDir(), 'kubectl') : 'kubectl';
  return (...args) => run(bin, ['--kubeconfig', kubeconfig, ...args]);
}

export function quantile(xs, q) {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  // nearest rank
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
export const median = (xs) => quantile(xs, 0.5);
export const sum = (xs) => xs.reduce((a, b) => a + b, 0);
export const round = (x, d = 0) => (x === undefined || x === null || Number.isNaN(x) ? x : Math.round(x * 10 ** d) / 10 ** d);

/** Resolve once `pred()` is true, re-checked every `everyMs` (the bench's own set-up waits; not a measured figure). */
export async function waitFor(pred, { timeoutMs = 60_000, everyMs = 20, what = 'condition' } = {}) {
  const t0 = now();
  while (!(await pred())) {
    if (now() - t0 > timeoutMs) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Apiserver request counts from /metrics, summed by verb+resource (apiserver_request_total). */
export function parseRequestTotals(metrics) {
  const out = {};
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    out[key] = (out[key] ?? 0) + v;
  }
  return out;
}
