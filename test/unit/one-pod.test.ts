/**
 * One pod, over the in-memory cluster: each claim true where Kubernetes makes it so, and false
 * (failing with what was seen) where it does not — a Deployment's replacement does not come back
 * with the same name, a bare pod is not replaced, a Parallel StatefulSet does not start in order.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { podIs, podOnNode, podReplaced, podRestarts, podStays, expectOrderedStart, expectUnorderedStart } from '../../src/expect/pod.js';
import { namedPod, renamePod } from '../../src/workload/pod-designator.js';
import { holds, ConditionBroken } from '../../src/wait/until.js';
import type { Pod } from '../../src/kube/types.js';

const owned = (p: Pod, kind: string, name: string, created: string): Pod => ({ ...p, metadata: { ...p.metadata, creationTimestamp: created, ownerReferences: [{ apiVersion: 'apps/v1', kind, name, uid: `uid-${name}`, controller: true }] } }) as unknown as Pod;

async function deployment() {
  const cluster = new FakeCluster();
  const s = await fakeScenario(cluster);
  cluster.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
  cluster.apply(workload('Deployment', 'web', { replicas: 2 }, { observedGeneration: 1, replicas: 2, readyReplicas: 2 }));
  cluster.apply({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-abc', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd', controller: true }] }, spec: { selector: { matchLabels: { app: 'web' } } } } as never);
  cluster.apply(owned(pod('web-old', { app: 'web' }), 'ReplicaSet', 'web-abc', '2026-01-01T00:00:00Z'));
  cluster.apply(owned(pod('web-new', { app: 'web' }), 'ReplicaSet', 'web-abc', '2026-01-01T00:01:00Z'));
  return { cluster, s };
}

describe('one pod', () => {
  it('the oldest pod of a Deployment is chosen by creation, and remembered', async () => {
    const { cluster, s } = await deployment();
    const d = { place: 'oldest' as const, workload: { kind: 'Deployment' as const, name: 'web' } };
    assert.equal(namedPod(s, d).name, 'web-old');
    cluster.remove('Pod', 'web-old');
    // Still the same pod: now gone, so it is not Ready.
    const v = podIs(s, d, 'Ready').evaluate();
    assert.deepEqual([v.ok, v.observed], [false, 'no such pod']);
  });

  it('a Deployment pod is replaced by a new pod with a new name, and does not come back with the same name', async () => {
    const { cluster, s } = await deployment();
    const d = { place: 'oldest' as const, workload: { kind: 'Deployment' as const, name: 'web' } };
    renamePod(s, d);
    assert.equal(podReplaced(s, d, false).evaluate().ok, false, 'nothing happened yet');
    cluster.remove('Pod', 'web-old');
    const before = podReplaced(s, d, false).evaluate();
    assert.equal(before.ok, false);
    assert.match(before.observed, /web-old \(uid uid-web-old\) gone; new pods of deployment web: no pods/);
    cluster.apply(owned(pod('web-xyz', { app: 'web' }), 'ReplicaSet', 'web-abc', '2026-01-01T00:02:00Z'));
    assert.equal(podReplaced(s, d, false).evaluate().ok, true);
    const same = podReplaced(s, d, true).evaluate();
    assert.equal(same.ok, false, 'the myth: it comes back with the same name');
    assert.match(same.observed, /named web-old now: none/);
  });

  it('a StatefulSet member comes back with the same name and a new uid; the same uid is not "back"', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(workload('StatefulSet', 'db', { replicas: 1 }, {}));
    cluster.apply(owned(pod('db-0', { app: 'db' }), 'StatefulSet', 'db', '2026-01-01T00:00:00Z'));
    const d = { name: 'db-0' };
    renamePod(s, d);
    assert.match(podReplaced(s, d, true).evaluate().observed, /db-0 \(uid uid-db-0\) still there/);
    cluster.remove('Pod', 'db-0');
    cluster.apply({ ...owned(pod('db-0', { app: 'db' }, { ready: false }), 'StatefulSet', 'db', '2026-01-01T00:01:00Z'), metadata: { name: 'db-0', uid: 'uid-db-0-b', labels: { app: 'db' } } } as Pod);
    assert.equal(podReplaced(s, d, true).evaluate().ok, false, 'back but not Ready');
    cluster.apply({ ...pod('db-0', { app: 'db' }), metadata: { name: 'db-0', uid: 'uid-db-0-b', labels: { app: 'db' } } } as Pod);
    assert.equal(podReplaced(s, d, true).evaluate().ok, true);
  });

  it('a bare pod is not replaced: the claim fails saying it has no controller', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(pod('solo', { run: 'solo' }));
    const d = { name: 'solo' };
    renamePod(s, d);
    cluster.remove('Pod', 'solo');
    const v = podReplaced(s, d, false).evaluate();
    assert.equal(v.ok, false);
    assert.match(v.observed, /solo \(uid uid-solo\) gone; pod solo has no controller, so nothing replaces it/);
  });

  it('phase, node and restarts of a named pod; a pod that never existed fails', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
    cluster.apply({ ...pod('solo', {}, { phase: 'Pending', ready: false }), status: { phase: 'Pending', containerStatuses: [{ name: 'c', restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }] } } as unknown as Pod);
    const running = podIs(s, { name: 'solo' }, 'Running').evaluate();
    assert.equal(running.ok, false);
    assert.match(running.observed, /solo Pending on node-1, 2 restart\(s\), waiting: CrashLoopBackOff/);
    assert.equal(podRestarts(s, { name: 'solo' }, { op: 'exactly', n: 0 }).evaluate().ok, false);
    assert.equal(podRestarts(s, { name: 'solo' }, { op: 'at least', n: 2 }).evaluate().ok, true);
    assert.equal(podOnNode(s, { name: 'solo' }, 'node-1').evaluate().ok, true);
    assert.deepEqual(podOnNode(s, { name: 'solo' }, 'node-9').evaluate(), { ok: false, observed: 'node node-9 does not exist' });
    assert.deepEqual(podIs(s, { name: 'nope' }, 'Pending').evaluate(), { ok: false, observed: 'pod nope does not exist' });
    assert.throws(() => namedPod(s, { name: 'nope' }), /pod nope does not exist/);
  });

  it('"stays Running" breaks at the event that replaces the pod, with what it saw', async () => {
    const { cluster, s } = await deployment();
    const d = { place: 'oldest' as const, workload: { kind: 'Deployment' as const, name: 'web' } };
    const held = holds(podStays(s, d, 'Running'), { forMs: 2000 });
    cluster.apply({ ...owned(pod('web-old', { app: 'web' }, { terminating: true }), 'ReplicaSet', 'web-abc', '2026-01-01T00:00:00Z') });
    await assert.rejects(held, (err: unknown) => err instanceof ConditionBroken && /terminating: web-old Terminating/.test(err.message));
  });

  it('OrderedReady: pod n Ready before pod n+1 exists; Parallel fails the ordered claim', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(workload('StatefulSet', 'db', { replicas: 2 }, {}));
    cluster.apply(pod('db-0', { app: 'db' }, { ready: false }));
    cluster.apply(pod('db-0', { app: 'db' }));
    cluster.apply(pod('db-1', { app: 'db' }, { ready: false }));
    cluster.apply(pod('db-1', { app: 'db' }));
    expectOrderedStart(s, 'db');
    assert.throws(() => expectUnorderedStart(s, 'db'), /started its pods one at a time, each Ready before the next was created \(db-0 created \+0\.00 s/);

    const c2 = new FakeCluster();
    const p = await fakeScenario(c2);
    c2.apply(workload('StatefulSet', 'par', { replicas: 2 }, {}));
    c2.apply(pod('par-0', { app: 'par' }, { ready: false }));
    c2.apply(pod('par-1', { app: 'par' }, { ready: false }));
    c2.apply(pod('par-0', { app: 'par' }));
    c2.apply(pod('par-1', { app: 'par' }));
    assert.throws(() => expectOrderedStart(p, 'par'), /statefulset par: par-1 was created before par-0 was Ready/);
    expectUnorderedStart(p, 'par');
  });

  it('the order is not judged before every pod was created and Ready', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(workload('StatefulSet', 'db', { replicas: 3 }, {}));
    cluster.apply(pod('db-0', { app: 'db' }));
    assert.throws(() => expectOrderedStart(s, 'db'), /1 of 3 pods were created and Ready, so their order is not known yet/);
    assert.throws(() => expectOrderedStart(s, 'nope'), /statefulset nope does not exist/);
  });

  it('a pod that ended: Succeeded or Failed by its phase, and the other claim fails with the phase it saw', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(workload('Job', 'task', { backoffLimit: 0 }, {}));
    cluster.apply(owned(pod('task-a1', { app: 'task' }, { phase: 'Failed', ready: false }), 'Job', 'task', '2026-01-01T00:00:00Z'));
    cluster.apply(owned(pod('task-b2', { app: 'task' }, { phase: 'Succeeded', ready: false }), 'Job', 'task', '2026-01-01T00:01:00Z'));
    const oldest = { place: 'oldest' as const, workload: { kind: 'Job' as const, name: 'task' } };
    assert.equal(podIs(s, oldest, 'Failed').evaluate().ok, true);
    const v = podIs(s, oldest, 'Succeeded').evaluate();
    assert.equal(v.ok, false);
    assert.match(v.observed, /^task-a1 Failed on node-1/);
    assert.equal(podIs(s, { name: 'task-b2' }, 'Succeeded').evaluate().ok, true);
    const running = podIs(s, { name: 'task-b2' }, 'Failed').evaluate();
    assert.deepEqual([running.ok, /^task-b2 Succeeded/.test(running.observed)], [false, true]);
    // Neither ended pod is Running any more.
    assert.equal(podIs(s, { name: 'task-b2' }, 'Running').evaluate().ok, false);
    await s.timeline.stop();
  });
});
