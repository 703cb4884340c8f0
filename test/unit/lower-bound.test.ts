/**
 * Lower bounds over the in-memory cluster: an HPA that scales down inside its window, a pod
 * evicted before its toleration (of a taint, of a node going down) and an expectation met too soon
 * each fail with what was seen; the same claims hold when the cluster waits.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { expectMetNoSooner, expectNoScaleDownBeforeWindow, expectNotEvictedBeforeToleration, tolerationSeconds } from '../../src/expect/lower-bound.js';
import { expectWithin } from '../../src/expect/expect.js';
import { readyReplicas } from '../../src/expect/conditions.js';
import { NODE_DOWNS } from '../../src/faults/node-down.js';
import type { Pod } from '../../src/kube/types.js';
import { BadInputError } from '../../src/errors.js';

const timings = { defaultUnreachableTolerationSeconds: 1, defaultNotReadyTolerationSeconds: 1, hpaDownscaleStabilizationSeconds: 1 };
const later = (ms: number, fn: () => void) => new Promise<void>((r) => setTimeout(() => (fn(), r()), ms));

async function scenario() {
  const cluster = new FakeCluster();
  const s = await fakeScenario(cluster);
  (s as unknown as { cluster: unknown }).cluster = { timings };
  return { cluster, s };
}

function tolerating(name: string, seconds: number | undefined, key = 'dedicated'): Pod {
  const p = pod(name, { app: name.replace(/-\d+$/, '') }, { node: 'node-1' });
  p.spec!.tolerations = [{ key, operator: key === 'dedicated' ? 'Equal' : 'Exists', ...(key === 'dedicated' ? { value: 'db' } : {}), effect: 'NoExecute', ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}) }];
  return p;
}

describe('lower bounds', () => {
  it('tolerationSeconds: no match 0, matching with seconds, for ever without', () => {
    assert.equal(tolerationSeconds(undefined, 'k', '', 'NoExecute'), 0);
    assert.equal(tolerationSeconds([{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 7 }], 'k', 'v', 'NoExecute'), 7);
    assert.equal(tolerationSeconds([{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute' }], 'k', 'v', 'NoExecute'), undefined);
    assert.equal(tolerationSeconds([{ key: 'k', operator: 'Equal', value: 'w', effect: 'NoExecute' }], 'k', 'v', 'NoExecute'), 0);
  });

  it('"no sooner than" fails for an expectation met sooner, and for one that already held', async () => {
    const { cluster, s } = await scenario();
    cluster.apply(workload('Deployment', 'web', { replicas: 2 }, { replicas: 2, readyReplicas: 1 }));
    cluster.apply(pod('web-1', { app: 'web' }));
    cluster.apply(pod('web-2', { app: 'web' }, { ready: false }));
    s.fault('kill pods');
    const met = expectWithin(s, readyReplicas(s.timeline, { kind: 'Deployment', name: 'web' }, { op: 'at least', n: 2 }), 5000);
    await later(50, () => {
      cluster.apply(pod('web-2', { app: 'web' }));
      cluster.apply(workload('Deployment', 'web', { replicas: 2 }, { replicas: 2, readyReplicas: 2 }));
    });
    await met;
    assert.throws(() => expectMetNoSooner(s, 2000), /"deployment web has at least 2 ready replica\(s\)" happened \d+ ms after "kill pods", sooner than 2\.00 s/);
    expectMetNoSooner(s, 10);
    await expectWithin(s, readyReplicas(s.timeline, { kind: 'Deployment', name: 'web' }, { op: 'at least', n: 2 }), 5000);
    assert.throws(() => expectMetNoSooner(s, 10), /already held when its step began/);
  });

  it('"no sooner than" with no "within" step, or one with no fault before it, is bad input (exit 2), not a failed claim', async () => {
    const { cluster, s } = await scenario();
    assert.throws(() => expectMetNoSooner(s, 10), (err: unknown) => err instanceof BadInputError && /no "within …" expectation was met/.test(err.message));
    cluster.apply(workload('Deployment', 'web', { replicas: 1 }, { replicas: 1, readyReplicas: 1 }));
    cluster.apply(pod('web-1', { app: 'web' }));
    await expectWithin(s, readyReplicas(s.timeline, { kind: 'Deployment', name: 'web' }, { op: 'at least', n: 1 }), 1000);
    assert.throws(() => expectMetNoSooner(s, 10), (err: unknown) => err instanceof BadInputError && /was not preceded by a fault/.test(err.message));
    await s.timeline.stop();
  });

  it('an HPA that scales down inside its window fails with the change; one that waits passes', async () => {
    const { cluster, s } = await scenario();
    cluster.apply({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'shop' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop' }, maxReplicas: 6, behavior: { scaleDown: { stabilizationWindowSeconds: 1 } } } } as never);
    cluster.apply(workload('Deployment', 'shop', { replicas: 4 }, {}));
    await assert.rejects(expectNoScaleDownBeforeWindow(s, 'shop'), /no load was removed/);
    s.timeline.mark('remove load', 'deployment shop');
    const held = expectNoScaleDownBeforeWindow(s, 'shop');
    await later(100, () => cluster.apply(workload('Deployment', 'shop', { replicas: 2 }, {})));
    await assert.rejects(held, /HPA shop does not scale down within its 1 s stabilization window .*: deployment shop went from 4 to 2 replicas \d+ ms after the fault, before 1\.00 s had passed/);

    s.timeline.mark('remove load', 'deployment shop');
    const waited = expectNoScaleDownBeforeWindow(s, 'shop');
    await later(1200, () => cluster.apply(workload('Deployment', 'shop', { replicas: 1 }, {})));
    await waited;
  });

  it('pods evicted before their toleration of a taint fail; after it, they pass', async () => {
    const { cluster, s } = await scenario();
    cluster.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
    cluster.apply(tolerating('slow-1', 1));
    cluster.apply(tolerating('never-1', undefined));
    s.timeline.mark('taint node', 'Node/node-1: dedicated=db:NoExecute');
    const early = expectNotEvictedBeforeToleration(s, 'node-1');
    await later(50, () => cluster.apply({ ...tolerating('slow-1', 1), metadata: { ...tolerating('slow-1', 1).metadata, deletionTimestamp: new Date().toISOString() } } as unknown as Pod));
    await assert.rejects(early, /slow-1 \(tolerates 1 s\) was evicted \d+ ms after the fault, before 1\.00 s had passed/);

    cluster.remove('Pod', 'slow-1');
    cluster.apply(tolerating('slow-2', 1));
    s.timeline.mark('taint node', 'Node/node-1: dedicated=db:NoExecute');
    const onTime = expectNotEvictedBeforeToleration(s, 'node-1');
    await later(1150, () => cluster.remove('Pod', 'slow-2'));
    await onTime;
  });

  it('after a node failure, measured from the node going down with the admission default', async () => {
    const { cluster, s } = await scenario();
    cluster.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
    cluster.apply(tolerating('web-1', 1, 'node.kubernetes.io/unreachable'));
    const at = s.timeline.mark('stop node', 'Node/node-1').at;
    s.state(NODE_DOWNS).set('node-1', { node: 'node-1', mode: 'heartbeats', silent: true, phase: 'heartbeats stopped', at, pods: ['web-1'], readyBefore: 1 });
    const early = expectNotEvictedBeforeToleration(s, 'node-1');
    await later(30, () => cluster.remove('Pod', 'web-1'));
    await assert.rejects(early, /the pods of node node-1 stay until their toleration of node node-1 going down \(node.kubernetes.io\/unreachable\) has passed \(web-1: 1 s\): web-1 \(tolerates 1 s\) was evicted/);
    await assert.rejects(expectNotEvictedBeforeToleration(s, 'node-2'), /neither tainted NoExecute nor taken down/);
  });
});
