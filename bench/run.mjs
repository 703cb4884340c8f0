#!/usr/bin/env node
// kubeproof's benchmarks: `npm run bench` runs every part in order (scale last); `npm run bench --
// PART…` runs the parts named (check, cluster-up, peers, latency, overhead, suite, scale). Each part's
// figures go into bench/results.json (other parts' figures are kept), and the results section of
// bench/README.md is regenerated from that file.
// Needs `npx tsc -p .` first (bin/kubeproof.js runs dist/).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, totalmem, loadavg } from 'node:os';
import { run, root, benchDir, workDir, clusterUp, clusterDown, manifest, log } from './lib/common.mjs';
import { peers } from './lib/peers.mjs';
import { latency } from './lib/latency.mjs';
import { overhead } from './lib/overhead.mjs';
import { suite } from './lib/suite.mjs';
import { scale } from './lib/scale.mjs';
import { check } from './lib/check.mjs';
import { renderReadme } from './lib/readme.mjs';

const ORDER = ['check', 'cluster-up', 'peers', 'latency', 'overhead', 'suite', 'scale'];
const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = asked.filter((p) => !ORDER.includes(p));
if (unknown.length) {
  process.stderr.write(`unknown part(s): ${unknown.join(', ')}; parts: ${ORDER.join(', ')}\n`);
  process.exit(2);
}
const parts = asked.length ? ORDER.filter((p) => asked.includes(p)) : ORDER;
const resultsFile = join(benchDir, 'results.json');
const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : { parts: {} };

async function machine() {
  // `check` needs no cluster: it runs before (or without) the binaries being built.
  let m = {};
  try {
    m = manifest();
  } catch {}
  const git = await run('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = await run('git', ['status', '--porcelain', '--', 'src', 'steps']);
  return {
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    cpu: cpus()[0]?.model,
    node: process.version,
    go: m.go?.version ?? m.go,
    versionSet: m.versionSetId ?? undefined,
    kubernetes: m.components?.map((c) => `${c.name}${c.version ? ` ${c.version}` : ''}`).join(', '),
    kubeproof: `${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version} @ ${git.stdout.trim()}${dirty.stdout.trim() ? ' (src/ or steps/ had uncommitted edits by others during the run)' : ''}`,
    loadAvgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

const save = () => {
  writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
  const readme = join(benchDir, 'README.md');
  writeFileSync(readme, renderReadme(readFileSync(readme, 'utf8'), results));
};

/** A 3-node local cluster shared by peers, latency and overhead (one cluster at a time on 2 cores). */
let shared;
async function sharedCluster() {
  if (!shared) {
    await clusterDown('bench-peers');
    const up = await clusterUp('bench-peers', 3);
    shared = { name: 'bench-peers', kubeconfig: up.kubeconfig };
  }
  return shared;
}

const PARTS = {
  check: async () => check({ runs: 10 }),
  'cluster-up': async () => {
    const file = join(workDir, 'cluster-up.json');
    const r = await run(process.execPath, [join(benchDir, 'cluster-up.mjs'), '--runs', '3', '--idle', '30', '--json', file], { echo: true });
    if (r.code !== 0) throw new Error(`cluster-up.mjs exited ${r.code}`);
    return JSON.parse(readFileSync(file, 'utf8'));
  },
  peers: async () => peers(await sharedCluster()),
  latency: async () => latency(await sharedCluster()),
  overhead: async () => overhead(await sharedCluster()),
  suite: async () => {
    if (shared) await clusterDown(shared.name), (shared = undefined);
    return suite();
  },
  scale: async () => {
    if (shared) await clusterDown(shared.name), (shared = undefined);
    return scale();
  },
};

const m = await machine();
let failed = 0;
try {
  for (const p of parts) {
    if ((p === 'suite' || p === 'scale') && shared) {
      await clusterDown(shared.name);
      shared = undefined;
    }
    log(`part ${p}`);
    const t0 = Date.now();
    try {
      const data = await PARTS[p]();
      results.parts[p] = { at: new Date().toISOString(), command: `npm run bench -- ${p}`, invokedAs: `npm run bench${asked.length ? ` -- ${asked.join(' ')}` : ''}`, seconds: Math.round((Date.now() - t0) / 1000), machine: m, data };
    } catch (err) {
      failed++;
      log(`part ${p} failed: ${err.stack ?? err}`);
      results.parts[p] = { ...(results.parts[p] ?? {}), lastError: { at: new Date().toISOString(), message: String(err.stack ?? err).slice(0, 3000) } };
    }
    save();
  }
} finally {
  if (shared) await clusterDown(shared.name);
}
log(`done: ${parts.length - failed} part(s) ok, ${failed} failed; bench/results.json and bench/README.md updated`);
process.exit(failed ? 1 : 0);
