/**
 * Freezing the local real node's kubelet: SIGSTOP only to the process its pid file proves (pid
 * and start time), SIGCONT on thaw, "not frozen" for a kubelet that runs, and the ledger's op
 * does the same from any process (what `kubeproof clean` runs after a SIGKILL mid-freeze).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processStartTime } from '../../src/host.js';
import { realNodeLayout } from '../../src/cluster/real-node/layout.js';
import { freezeKubelet, stopKubelet, thawKubelet } from '../../src/cluster/real-node/kubelet.js';
import { localParts } from '../../src/cluster/providers/local-parts.js';
import { isRefusal } from '../../src/cluster/providers/provider.js';
import type { Node } from '../../src/kube/types.js';

const cache = mkdtempSync(join(tmpdir(), 'kubeproof-freeze-'));
process.env.KUBEPROOF_CACHE = cache;
after(() => rmSync(cache, { recursive: true, force: true }));

const state = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
};

async function fakeKubelet(cluster: string) {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  await sleep(50);
  const l = realNodeLayout(cluster);
  mkdirSync(l.pids, { recursive: true });
  writeFileSync(join(l.pids, 'kubelet.pid'), `${child.pid} ${await processStartTime(child.pid!)}\n`);
  return child;
}

describe('freezing the real node\'s kubelet', () => {
  it('SIGSTOPs the recorded kubelet and SIGCONTs it on thaw; a running kubelet is "not frozen"', async () => {
    const child = await fakeKubelet('fz1');
    try {
      assert.equal(await freezeKubelet('fz1'), child.pid);
      await sleep(50);
      assert.equal(state(child.pid!), 'T');
      assert.deepEqual(await thawKubelet('fz1'), { how: 'thawed', pid: child.pid });
      await sleep(50);
      assert.notEqual(state(child.pid!), 'T');
      assert.deepEqual(await thawKubelet('fz1'), { how: 'running', pid: child.pid });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('signals nothing when the pid file names another process (its start time differs)', async () => {
    const child = await fakeKubelet('fz2');
    try {
      const l = realNodeLayout('fz2');
      writeFileSync(join(l.pids, 'kubelet.pid'), `${child.pid} 1\n`);
      await assert.rejects(freezeKubelet('fz2'), /not running: nothing to freeze/);
      assert.notEqual(state(child.pid!), 'T');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('stops no process whose pid the pid file names but that started at another time, and says so', async () => {
    const child = await fakeKubelet('fz4');
    try {
      const l = realNodeLayout('fz4');
      writeFileSync(join(l.pids, 'kubelet.pid'), `${child.pid} 1\n`);
      assert.equal(await stopKubelet('fz4'), `left alone: pid ${child.pid} is no longer this kubelet (another process has that pid now)`);
      assert.equal(child.exitCode, null);
      assert.equal(child.signalCode, null);
      assert.equal(await stopKubelet('fz4'), 'not running');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('is the freeze mechanism of the real node only; a KWOK node is refused with the reason', () => {
    const parts = localParts({ name: 'fz3', realNodes: ['real-1'] });
    const node = (name: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: name === 'real-1' ? {} : { 'kwok.x-k8s.io/node': 'fake' } } });
    const real = parts.nodeControl.mechanism('freeze', node('real-1'));
    assert.ok(!isRefusal(real));
    assert.deepEqual(real.undo, { op: 'thaw-kubelet', cluster: 'fz3' });
    assert.equal(real.silent, true);
    const kwok = parts.nodeControl.mechanism('freeze', node('node-1'));
    assert.ok(isRefusal(kwok) && /KWOK node has no process to freeze/.test(kwok.refused));
  });
});
