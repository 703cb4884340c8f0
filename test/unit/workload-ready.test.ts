/**
 * "Given <kind> W from … is ready" returns only when the controller reports the workload
 * ready for its current generation and the scenario's pod watch has its Ready pods, for every
 * kind: the next step (a kill, say) reads that pod watch.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { workloadReady } from '../../src/workload/deploy.js';
import { until } from '../../src/wait/until.js';
import { podsOf, type WorkloadKind } from '../../src/workload/pods.js';

/** The status the API server gives each kind on creation, before its controller has synced. */
const AS_CREATED: Record<Exclude<WorkloadKind, 'Job'>, Record<string, unknown>> = {
  // DaemonSetStatus's counts are not omitempty: a new DaemonSet says "0 of 0 ready".
  DaemonSet: { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 },
  StatefulSet: { replicas: 0, availableReplicas: 0 },
  ReplicaSet: { replicas: 0 },
  Deployment: {},
};

function synced(kind: WorkloadKind, n: number) {
  switch (kind) {
    case 'DaemonSet':
      return workload(kind, 'w', {}, { observedGeneration: 1, desiredNumberScheduled: n, currentNumberScheduled: n, updatedNumberScheduled: n, numberReady: n, numberAvailable: n });
    case 'Deployment':
      return workload(kind, 'w', { replicas: n }, { observedGeneration: 1, replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n });
    default:
      return workload(kind, 'w', { replicas: n }, { observedGeneration: 1, replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n });
  }
}

for (const kind of ['DaemonSet', 'StatefulSet', 'ReplicaSet', 'Deployment'] as const) {
  describe(`${kind} ready`, () => {
    it('not as created, not before the pod watch has its Ready pods, then at once', async () => {
      const cluster = new FakeCluster();
      const s = await fakeScenario(cluster);
      const w = { kind, name: 'w' };
      const ready = workloadReady(s, w);
      assert.equal(ready.evaluate().ok, false, 'a workload that does not exist yet');
      cluster.apply(workload(kind, 'w', kind === 'DaemonSet' ? {} : { replicas: 3 }, AS_CREATED[kind]));
      assert.equal(ready.evaluate().ok, false, `as created: ${ready.evaluate().observed}`);
      const waited = until(ready, { within: 5_000 });
      // The controller reports 3 ready before the pod watch has delivered them.
      cluster.apply(synced(kind, 3));
      assert.equal(ready.evaluate().ok, false, `status ready, pods unseen: ${ready.evaluate().observed}`);
      cluster.apply(pod('w-1', { app: 'w' }, { node: 'node-1' }));
      cluster.apply(pod('w-2', { app: 'w' }, { node: 'node-2' }));
      assert.equal(ready.evaluate().ok, false, '2 of 3 pods seen');
      cluster.apply(pod('w-3', { app: 'w' }, { node: 'node-3' }));
      await waited;
      assert.equal(podsOf(s.timeline, { workload: w })?.length, 3, 'the next step sees every pod');
    });

    it('not while the status is of an older generation', async () => {
      const cluster = new FakeCluster();
      const s = await fakeScenario(cluster);
      for (const i of [1, 2, 3]) cluster.apply(pod(`w-${i}`, { app: 'w' }, { node: `node-${i}` }));
      const stale = synced(kind, 3);
      stale.metadata!.generation = 2;
      cluster.apply(stale);
      assert.equal(workloadReady(s, { kind, name: 'w' }).evaluate().ok, false);
    });
  });
}

describe('Job ready', () => {
  it('when it has completed', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    const ready = workloadReady(s, { kind: 'Job', name: 'w' });
    cluster.apply(workload('Job', 'w', {}, { active: 1 }));
    assert.equal(ready.evaluate().ok, false);
    cluster.apply(workload('Job', 'w', {}, { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }));
    assert.equal(ready.evaluate().ok, true);
  });
});
