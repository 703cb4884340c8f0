// Part `check`: `kubeproof check features/` with no cluster and no kubeconfig (KUBECONFIG names a
// file that does not exist, HOME an empty directory), N runs one after another. Per run: the wall
// time of the whole process (spawn to exit, Node's start included), its CPU time (user + system,
// from this process's cutime/cstime in /proc/self/stat: the children it has waited for), and the
// figures `check` prints of itself (after its imports started). CPU is the steadier figure on a
// shared machine; wall is what a user or a pre-commit hook waits.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { root, log } from './common.mjs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function childTicks() {
  // Fields after the command's closing parenthesis: state is field 3, cutime 16, cstime 17.
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return Number(f[13]) + Number(f[14]);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function check({ runs = 10 } = {}) {
  const home = mkdtempSync(join(tmpdir(), 'kubeproof-bench-check-'));
  const env = { ...process.env, KUBECONFIG: '/nonexistent/kubeconfig', HOME: home };
  const samples = [];
  let summary = '';
  try {
    for (let i = 0; i < runs; i++) {
      const ticks0 = childTicks();
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [join(root, 'bin/kubeproof.js'), 'check', 'features/'], { cwd: root, env, encoding: 'utf8' });
      const wallMs = performance.now() - t0;
      const cpuMs = (childTicks() - ticks0) * TICK_MS;
      if (r.status !== 0) throw new Error(`kubeproof check exited ${r.status}: ${r.stderr.slice(-800)}`);
      const line = r.stderr.trim().split('\n').at(-1);
      const own = line.match(/\((\d+) ms, (\d+) ms of CPU\)/);
      summary = line.replace(/ \(\d+ ms, \d+ ms of CPU\)$/, '');
      samples.push({ wallMs: Math.round(wallMs), cpuMs, ownWallMs: Number(own?.[1]), ownCpuMs: Number(own?.[2]), loadAvg1: Math.round(loadavg()[0] * 100) / 100 });
      log(`check run ${i + 1}/${runs}: ${Math.round(wallMs)} ms wall, ${cpuMs} ms CPU (load ${loadavg()[0].toFixed(2)})`);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const pick = (k) => ({ median: median(samples.map((s) => s[k])), min: Math.min(...samples.map((s) => s[k])), max: Math.max(...samples.map((s) => s[k])) });
  return { runs, summary, wallMs: pick('wallMs'), cpuMs: pick('cpuMs'), ownWallMs: pick('ownWallMs'), ownCpuMs: pick('ownCpuMs'), samples };
}
