/**
 * A killed StatefulSet member comes back under its own name: with a grace period of 0 its
 * replacement can reach the watch cache before the killed pod was ever seen terminating. The
 * kill waits for the victims by UID, so it returns once the pod under that name is a new one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod } from './fake-cluster.js';
import { killPods } from '../../src/faults/pod-kill.js';

describe('pod kill of a pod replaced under the same name', () => {
  it('returns once the name holds a new pod (new UID), not after its 30 s deadline', async () => {
    const c = new FakeCluster();
    c.apply(pod('ordered-1', { app: 'ordered' }));
    const s = await fakeScenario(c);
    Object.assign(s, {
      ledger: { injecting: <T>(f: () => Promise<T>) => f() },
      kube: { ...s.kube, delete: async (_kind: string, name: string) => void c.apply({ ...pod(name, { app: 'ordered' }), metadata: { ...pod(name, { app: 'ordered' }).metadata, uid: 'uid-new' } }) },
    });
    const t0 = performance.now();
    await killPods(s, { selector: 'app=ordered' }, { victims: ['ordered-1'], seed: 1, of: 1 });
    assert.ok(performance.now() - t0 < 5_000, 'the kill waited for a pod that was already replaced');
    assert.equal(s.timeline.pods.get('ordered-1', s.namespace)?.metadata?.uid, 'uid-new');
    await s.timeline.stop();
  });
});
