/**
 * "Evicting a Ready pod of W is refused with 429" works in any scenario — whatever exhausted
 * the budget (minAvailable = replicas, a drain, unready pods) — not only after a readiness
 * break; and "evicting an unready pod" takes any unready pod when the scenario broke none.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { expectEviction } from '../../src/expect/eviction.js';
import type { KubeObject } from '../../src/kube/types.js';

/** A budget as the disruption controller reports it, and an Eviction API that answers by it. */
function budget(cluster: FakeCluster, healthy: number, allowed: number): void {
  cluster.apply({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web', generation: 1 },
    spec: { minAvailable: 3, selector: { matchLabels: { app: 'web' } } },
    status: { observedGeneration: 1, currentHealthy: healthy, desiredHealthy: 3, disruptionsAllowed: allowed, expectedPods: 3 },
  } as KubeObject);
  cluster.evictionAnswer = () => ((cluster.get<{ status: { disruptionsAllowed: number } } & KubeObject>('PodDisruptionBudget', 'web')?.status.disruptionsAllowed ?? 0) > 0 ? 201 : 429);
}

async function web(ready: boolean[]) {
  const cluster = new FakeCluster();
  const s = await fakeScenario(cluster);
  cluster.apply(workload('Deployment', 'web', { replicas: ready.length }, { observedGeneration: 1, replicas: ready.length, readyReplicas: ready.filter(Boolean).length }));
  ready.forEach((r, i) => cluster.apply(pod(`web-${i + 1}`, { app: 'web' }, { node: `node-${i + 1}`, ready: r })));
  return { cluster, s, w: { kind: 'Deployment' as const, name: 'web' } };
}

describe('an eviction check in any scenario', () => {
  it('a budget with minAvailable = replicas refuses a Ready pod, with no readiness broken before', async () => {
    const { cluster, s, w } = await web([true, true, true]);
    budget(cluster, 3, 0);
    await expectEviction(s, w, 'Ready', 'refused');
    assert.deepEqual(cluster.evictions, [{ pod: 'web-1', status: 429 }], 'the API server was asked');
    await assert.rejects(expectEviction(s, w, 'Ready', 'allowed'), /the eviction of Ready pod web-1 was refused/);
  });

  it('a budget that allows a disruption: the claim "refused" fails', async () => {
    const { cluster, s, w } = await web([true, true, true]);
    budget(cluster, 3, 1);
    await assert.rejects(expectEviction(s, w, 'Ready', 'refused'), /the eviction of Ready pod web-1 was allowed, expected 429/);
  });

  it('an unready pod the scenario did not break (its probe fails by itself) is one to evict', async () => {
    const { cluster, s, w } = await web([true, false, true]);
    budget(cluster, 2, 0);
    await expectEviction(s, w, 'unready', 'refused');
    assert.deepEqual(cluster.evictions, [{ pod: 'web-2', status: 429 }]);
  });

  it('fails with the reason when no budget governs the pods, or no pod is in the state asked', async () => {
    const { cluster, s, w } = await web([true, true]);
    await assert.rejects(expectEviction(s, w, 'Ready', 'refused'), /no PodDisruptionBudget governs the pods of deployment web/);
    budget(cluster, 2, 0);
    await assert.rejects(expectEviction(s, w, 'unready', 'refused'), /no unready pod of deployment web to evict \(pods: web-1 Ready, web-2 Ready\)/);
    assert.deepEqual(cluster.evictions, []);
  });
});
