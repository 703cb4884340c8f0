/**
 * "within D HPA H scales from N to at least M": N is what the step sees — the replicas when the
 * load began, or, when the target was scaled by hand after the load, the replicas at the step's
 * start. A wrong N fails saying which moment it was read at.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, workload } from './fake-cluster.js';
import { expectScaleUp } from '../../src/expect/hpa.js';
import { patchObject } from '../../src/workload/change.js';

async function shop() {
  const cluster = new FakeCluster();
  const s = await fakeScenario(cluster);
  cluster.apply({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'shop' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop' }, minReplicas: 2, maxReplicas: 6 } } as never);
  cluster.apply(workload('Deployment', 'shop', { replicas: 2 }, {}));
  return { cluster, s };
}

const later = (ms: number, fn: () => void) => setTimeout(fn, ms);

describe('HPA scale-up anchored to what the step sees', () => {
  it('after the load: N is the replicas when the load began, even if the HPA already acted', async () => {
    const { cluster, s } = await shop();
    s.timeline.mark('apply load', 'deployment shop: 0.4 cores');
    cluster.apply(workload('Deployment', 'shop', { replicas: 4 }, {}));
    await expectScaleUp(s, 'shop', 2, 4, 1000);
    await assert.rejects(expectScaleUp(s, 'shop', 4, 4, 1000), /deployment shop had 2 replicas when the load began, not 4/);
  });

  it('scaled by hand after the load: N is the replicas at the step\'s start, not at the load', async () => {
    const { cluster, s } = await shop();
    s.timeline.mark('apply load', 'deployment shop: 0.4 cores');
    s.timeline.mark('scale', 'deployment shop to 3');
    cluster.apply(workload('Deployment', 'shop', { replicas: 3 }, {}));
    await assert.rejects(expectScaleUp(s, 'shop', 2, 4, 1000), /deployment shop had 3 replicas when the step began \(after it was scaled by hand\), not 2/);
    const up = expectScaleUp(s, 'shop', 3, 5, 2000);
    later(50, () => cluster.apply(workload('Deployment', 'shop', { replicas: 5 }, {})));
    await up;
  });

  it('a patch of spec.replicas after the load is a scale by hand too: N is read at the step\'s start', async () => {
    const { cluster, s } = await shop();
    Object.assign(s, { kube: { ...s.kube, mergePatch: async (_k: string, _n: string, _ns: string, patch: { spec: { replicas: number } }) => cluster.apply(workload('Deployment', 'shop', { replicas: patch.spec.replicas }, {})) } });
    s.timeline.mark('apply load', 'deployment shop: 0.4 cores');
    await patchObject(s, 'deployment', 'shop', { spec: { replicas: 3 } });
    await assert.rejects(expectScaleUp(s, 'shop', 2, 4, 1000), /deployment shop had 3 replicas when the step began \(after it was scaled by hand\), not 2/);
    // A patch of anything else is not a scale: N is still read when the load began.
    const { cluster: c2, s: s2 } = await shop();
    Object.assign(s2, { kube: { ...s2.kube, mergePatch: async () => c2.apply(workload('Deployment', 'shop', { replicas: 2, paused: false }, {})) } });
    s2.timeline.mark('apply load', 'deployment shop: 0.4 cores');
    await patchObject(s2, 'deployment', 'shop', { spec: { paused: false } });
    c2.apply(workload('Deployment', 'shop', { replicas: 3 }, {}));
    await expectScaleUp(s2, 'shop', 2, 3, 1000);
    await assert.rejects(expectScaleUp(s2, 'shop', 3, 4, 100), /deployment shop had 2 replicas when the load began, not 3/);
  });

  it('the scale-up never comes: times out with what the HPA said', async () => {
    const { s } = await shop();
    s.timeline.mark('apply load', 'deployment shop: 0.4 cores');
    await assert.rejects(expectScaleUp(s, 'shop', 2, 4, 100), /timed out after 100 ms waiting for: HorizontalPodAutoscaler shop has scaled deployment shop from 2 to at least 4 replicas\n {2}last seen: deployment shop at 2 replicas/);
  });
});
