/**
 * "At no moment were more than N pods of W unavailable" and "at one moment at least N were",
 * for every workload kind the step accepts: each kind's own number of pods it wants
 * available (a DaemonSet's desiredNumberScheduled, the others' spec.replicas), replayed from
 * the timeline's watch events; a Job is refused; a workload that never existed fails.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { expectMaxUnavailable, expectUnavailableReached } from '../../src/expect/faults.js';
import { BadInputError } from '../../src/errors.js';
import type { WorkloadKind } from '../../src/workload/pods.js';

/** A workload of `kind` with 3 Ready pods, as its controller reports it once settled. */
function settled(kind: WorkloadKind, name: string) {
  return kind === 'DaemonSet'
    ? workload(kind, name, {}, { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, numberAvailable: 3, observedGeneration: 1 })
    : workload(kind, name, { replicas: 3 }, { replicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
}

async function threePods(kind: WorkloadKind) {
  const cluster = new FakeCluster();
  const s = await fakeScenario(cluster);
  cluster.apply(settled(kind, 'w'));
  for (const i of [1, 2, 3]) cluster.apply(pod(`w-${i}`, { app: 'w' }, { node: `node-${i}` }));
  return { cluster, s, w: { kind, name: 'w' } };
}

for (const kind of ['Deployment', 'StatefulSet', 'ReplicaSet', 'DaemonSet'] as const) {
  describe(`pods of a ${kind} unavailable`, () => {
    it('counts every pod killed at once, and fails "at no moment were more than" below that', async () => {
      const { cluster, s, w } = await threePods(kind);
      s.fault('kill pods');
      for (const i of [1, 2, 3]) cluster.remove('Pod', `w-${i}`);
      // The controller's status catches up later; the pods were gone meanwhile.
      for (const i of [4, 5, 6]) cluster.apply(pod(`w-${i}`, { app: 'w' }));
      assert.throws(() => expectMaxUnavailable(s, w, 0), /3 pods of .* w were unavailable at once, .* after the first fault \(kill pods\)/);
      assert.throws(() => expectMaxUnavailable(s, w, 2), /3 pods/);
      expectMaxUnavailable(s, w, 3);
      expectUnavailableReached(s, w, 3);
      assert.throws(() => expectUnavailableReached(s, w, 4), /at most 3 pod\(s\) .* were unavailable at any moment \(expected at least 4/);
      const figures = s.timeline.measurements.filter((m) => m.name === `most pods of ${kind.toLowerCase()} w unavailable at once`);
      assert.deepEqual(figures.map((m) => m.value), [3], 'one figure, however many steps asked');
    });

    it('counts a pod that is terminating or NotReady as unavailable, one at a time', async () => {
      const { cluster, s, w } = await threePods(kind);
      s.fault('drain node');
      cluster.apply(pod('w-1', { app: 'w' }, { node: 'node-1', terminating: true }));
      cluster.remove('Pod', 'w-1');
      cluster.apply(pod('w-4', { app: 'w' }, { node: 'node-2', ready: false }));
      cluster.apply(pod('w-4', { app: 'w' }, { node: 'node-2' }));
      cluster.apply(pod('w-2', { app: 'w' }, { node: 'node-2', ready: false }));
      cluster.apply(pod('w-2', { app: 'w' }, { node: 'node-2' }));
      expectMaxUnavailable(s, w, 1);
      assert.throws(() => expectMaxUnavailable(s, w, 0), /1 pods of .* w were unavailable at once/);
      assert.throws(() => expectUnavailableReached(s, w, 2), /at most 1 pod/);
    });
  });
}

describe('what "unavailable" means per kind', () => {
  it("reads a DaemonSet's desiredNumberScheduled (it has no spec.replicas)", async () => {
    const { cluster, s, w } = await threePods('DaemonSet');
    // A fourth node: the DaemonSet wants 4 and has 3.
    cluster.apply(workload('DaemonSet', 'w', {}, { desiredNumberScheduled: 4, currentNumberScheduled: 3, numberReady: 3, observedGeneration: 1 }));
    s.fault('add node');
    cluster.apply(pod('w-4', { app: 'w' }, { node: 'node-4', ready: false }));
    assert.throws(() => expectMaxUnavailable(s, w, 0), /1 pods of daemonset w were unavailable/);
  });

  it('refuses a Job, whose pods are meant to finish, with a clear message', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(workload('Job', 'migrate', { parallelism: 2 }, { active: 2 }));
    s.fault('kill pods');
    for (const check of [() => expectMaxUnavailable(s, { kind: 'Job', name: 'migrate' }, 0), () => expectUnavailableReached(s, { kind: 'Job', name: 'migrate' }, 1)]) {
      assert.throws(check, (err: unknown) => err instanceof BadInputError && /Job's pods run to completion/.test(err.message) && /job … completes/.test(err.message));
    }
  });

  it('fails for a workload that never existed, instead of reporting 0 unavailable', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(pod('x-1', { app: 'nothing' }));
    s.fault('kill pods');
    for (const kind of ['Deployment', 'StatefulSet', 'ReplicaSet', 'DaemonSet'] as const) {
      assert.throws(() => expectMaxUnavailable(s, { kind, name: 'nothing' }, 5), /does not exist/);
      assert.throws(() => expectUnavailableReached(s, { kind, name: 'nothing' }, 0), /does not exist/);
    }
  });
});
