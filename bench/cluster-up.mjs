#!/usr/bin/env node
// Benchmark: warm start of a local cluster (binaries cached) to N Ready nodes, and the resident
// memory of its processes. Usage: node bench/cluster-up.mjs [runs=3] [nodes=3]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalProvider, clusterDir } from '../dist/src/cluster/local.js';
import { findBinaries } from '../dist/src/cluster/binaries.js';

const runs = Number(process.argv[2] ?? 3);
const nodes = Number(process.argv[3] ?? 3);
const bins = await findBinaries();
if (!bins) {
  console.error('binaries are not cached: run `node scripts/build-binaries.mjs` first (its output states the cold build time)');
  process.exit(3);
}
const manifest = JSON.parse(readFileSync(join(bins.dir, 'manifest.json'), 'utf8'));
console.log(`binaries ${bins.versionSetId}: last build took ${manifest.buildSeconds} s (cold ≈ 13 min on 2 cores; this figure is whatever the cache's build took)`);

function rssMiB(name) {
  const pids = join(clusterDir(name), 'pids');
  const out = {};
  for (const f of readdirSync(pids)) {
    const pid = readFileSync(join(pids, f), 'utf8').trim();
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    out[f.replace('.pid', '')] = Math.round(Number(status.match(/VmRSS:\s+(\d+)/)[1]) / 1024);
  }
  return out;
}

const times = [];
for (let i = 0; i < runs; i++) {
  const name = `bench-${process.pid}-${i}`;
  const t0 = performance.now();
  const c = await new LocalProvider().up({ name, nodes, zones: ['a', 'b', 'c'], log: () => {} });
  const ms = performance.now() - t0;
  times.push(ms);
  const mem = rssMiB(name);
  const total = Object.values(mem).reduce((a, b) => a + b, 0);
  console.log(`run ${i + 1}: ${nodes} nodes Ready in ${(ms / 1000).toFixed(2)} s; RSS MiB ${JSON.stringify(mem)} total ${total}`);
  const d0 = performance.now();
  await c.down();
  console.log(`        down in ${((performance.now() - d0) / 1000).toFixed(2)} s`);
}
times.sort((a, b) => a - b);
console.log(`warm start to ${nodes} Ready nodes: min ${(times[0] / 1000).toFixed(2)} s, median ${(times[Math.floor(times.length / 2)] / 1000).toFixed(2)} s, max ${(times.at(-1) / 1000).toFixed(2)} s`);
