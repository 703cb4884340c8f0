/**
 * Which cluster holds this machine's one real node (realNodeHolder): only one whose real-node
 * processes still run, proven by their pid files' start times. A dead cluster's leftovers —
 * the record a failed teardown kept, pid files of processes that are gone, or whose pid a new
 * process now has — never hold it (issue 15: a dead cluster once made every later `@real`
 * scenario not applicable).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { setEnv } from './support.js';
import { realNodeHolder } from '../../src/cluster/real-node/teardown.js';
import { realNodeLayout } from '../../src/cluster/real-node/layout.js';
import { processStartTime } from '../../src/host.js';
import { deadPid } from './pids.js';


const cache = mkdtempSync(join(tmpdir(), 'kp-holder-'));
let live: ChildProcess;

/** A cluster dir with a real node's record and these pid files (name → file text). */
function cluster(name: string, pids: Record<string, string>, record = true): void {
  const l = realNodeLayout(name);
  mkdirSync(l.pids, { recursive: true });
  if (record) writeFileSync(l.record, JSON.stringify({ cluster: name, nodeName: 'real-1' }));
  for (const [d, text] of Object.entries(pids)) writeFileSync(join(l.pids, `${d}.pid`), text);
}

describe('realNodeHolder', () => {
  before(async () => {
    setEnv({ KUBEPROOF_CACHE: cache });
    // A process of this test's own, standing in for a live cluster's kubelet.
    live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await once(live, 'spawn');
  });

  after(async () => {
    live.kill('SIGKILL');
    rmSync(cache, { recursive: true, force: true });
  });

  it('no cluster dir at all: nobody holds the real node', async () => {
    setEnv({ KUBEPROOF_CACHE: cache });
    assert.equal(await realNodeHolder(), undefined);
  });

  it('a leftover real-node record with dead pid files (and a pid now reused by another process) is not returned', async () => {
    setEnv({ KUBEPROOF_CACHE: cache });
    cluster('c15-dead', {
      kubelet: `${deadPid()} 12345\n`,
      containerd: `${deadPid() - 1}\n`,
      // Alive, but not the process the file recorded: its start time differs.
      'kube-proxy': `${live.pid} 1\n`,
    });
    // Empty and garbled pid files are no process either.
    cluster('c15-garbled', { kubelet: '', containerd: 'not a pid\n' });
    assert.equal(await realNodeHolder(), undefined);
  });

  it('a cluster whose real-node process runs holds it, unless it is the one asking', async () => {
    setEnv({ KUBEPROOF_CACHE: cache });
    const started = await processStartTime(live.pid!);
    assert.ok(started, 'no start time for the stand-in process');
    cluster('c15-live', { kubelet: `${deadPid()} 1\n`, containerd: `${live.pid} ${started}\n` });
    assert.equal(await realNodeHolder(), 'c15-live');
    assert.equal(await realNodeHolder('c15-live'), undefined, 'a cluster asking for itself is not held by itself');
    // The dead leftovers beside it still do not count.
    assert.equal(await realNodeHolder('c15-other'), 'c15-live');
  });

  it('a live process without a real node dir does not count, and once it dies the cluster no longer holds it', async () => {
    setEnv({ KUBEPROOF_CACHE: cache });
    const started = await processStartTime(live.pid!);
    // Pid files outside clusters/<name>/real (no real node): not a real-node holder.
    mkdirSync(join(cache, 'kwok', 'clusters', 'c15-kwok-only', 'pids'), { recursive: true });
    writeFileSync(join(cache, 'kwok', 'clusters', 'c15-kwok-only', 'pids', 'kubelet.pid'), `${live.pid} ${started}\n`);
    assert.equal(await realNodeHolder('c15-live'), undefined);
    live.kill('SIGKILL');
    await once(live, 'exit');
    assert.equal(await realNodeHolder(), undefined, 'a dead cluster held the real node');
  });
});
