/**
 * "The pods of W left node N between A and B after the taint" waits on pod watch events, up to
 * B after the taint, before it judges: an eviction that is decided but not yet seen is not a
 * failure. Here the fake controller acts after the step has begun.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { expectEvictionDelay } from '../../src/expect/faults.js';
import { now } from '../../src/kube/informer.js';

async function tainted() {
  const cluster = new FakeCluster();
  const s = await fakeScenario(cluster);
  cluster.apply(workload('Deployment', 'web', { replicas: 2 }, { observedGeneration: 1, replicas: 2, readyReplicas: 2 }));
  cluster.apply(pod('web-1', { app: 'web' }, { node: 'node-1' }));
  cluster.apply(pod('web-2', { app: 'web' }, { node: 'node-2' }));
  cluster.apply(pod('db-1', { app: 'db' }, { node: 'node-1' }));
  const at = s.fault('taint node');
  return { cluster, s, at, w: { kind: 'Deployment' as const, name: 'web' } };
}

/** The controller's move, some time after the step began (a timer plays the taint manager). */
const later = (ms: number, act: () => void) => setTimeout(act, ms);

describe('the pods of W left node N between A and B after the taint', () => {
  it('waits for the pod to leave, then measures from the taint', async () => {
    const { cluster, s, at, w } = await tainted();
    const judged = expectEvictionDelay(s, w, 'node-1', 100, 5_000);
    // Another workload's pod leaving the node is not the one asked about.
    later(20, () => cluster.apply(pod('db-1', { app: 'db' }, { node: 'node-1', terminating: true })));
    later(200, () => cluster.apply(pod('web-1', { app: 'web' }, { node: 'node-1', terminating: true })));
    await judged;
    const m = s.timeline.measurements.find((x) => x.name === 'deployment web evicted from node node-1 after the taint');
    // The figure is rounded to the millisecond: compare with the elapsed time rounded up.
    assert.ok(m && m.value >= 190 && m.value <= Math.ceil(now() - at), `measured ${m?.value} ms`);
  });

  it('fails once B after the taint has passed with no pod gone, saying what is still there', async () => {
    const { s, at, w } = await tainted();
    await assert.rejects(expectEvictionDelay(s, w, 'node-1', 0, 300), /no pod of deployment web left node node-1 within 300 ms of the taint \(on node-1 now: web-1 Running Ready on node-1\)/);
    assert.ok(now() - at >= 300, 'judged only at the bound');
  });

  it('fails at once when the pod left sooner than A', async () => {
    const { cluster, s, w } = await tainted();
    cluster.remove('Pod', 'web-1');
    const started = now();
    await assert.rejects(expectEvictionDelay(s, w, 'node-1', 4_000, 12_000), /left node node-1 .* after the taint, not between 4\.0+ s and 12\.0+ s/);
    assert.ok(now() - started < 1_000);
  });
});
