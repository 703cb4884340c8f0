/**
 * Rollouts that fail, each claim made false on the in-memory cluster: a rollout that
 * completes does not "stall" nor report ProgressDeadlineExceeded, and old pods that leave the
 * Service do not "keep serving"; the step fails with the ReplicaSets and endpoints it saw.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod } from './fake-cluster.js';
import { ConditionBroken, holds, until } from '../../src/wait/until.js';
import { expectRolloutStalls, oldPodsServing, progressDeadlineExceeded, RolloutOutcomeError } from '../../src/expect/rollout.js';
import { neverReadyPatch } from '../../src/workload/rollout.js';
import { NotApplicable } from '../../src/not-applicable.js';
import { BadInputError } from '../../src/errors.js';
import { TESTAPP_IMAGE } from '../../src/cluster/build/images.js';
import type { Deployment, KubeObject, Pod } from '../../src/kube/types.js';

const REV = 'deployment.kubernetes.io/revision';

function deployment(status: Record<string, unknown>, progressing: { status: string; reason: string }): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'checkout', uid: 'd1', generation: 2, annotations: { [REV]: '2' } },
    spec: { replicas: 3, progressDeadlineSeconds: 5, selector: { matchLabels: { app: 'checkout' } } },
    status: { observedGeneration: 2, ...status, conditions: [{ type: 'Progressing', ...progressing }] },
  } as KubeObject;
}

function replicaSet(hash: string, revision: string, replicas: number, available: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `checkout-${hash}`, uid: `rs-${hash}`, labels: { app: 'checkout', 'pod-template-hash': hash }, annotations: { [REV]: revision }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout', uid: 'd1', controller: true }] },
    spec: { replicas },
    status: { replicas, availableReplicas: available },
  } as KubeObject;
}

function rsPod(name: string, hash: string, ready: boolean): Pod {
  const p = pod(name, { app: 'checkout', 'pod-template-hash': hash }, { ready });
  p.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `checkout-${hash}`, uid: `rs-${hash}`, controller: true }];
  return p;
}

function slice(endpoints: Array<[string, boolean]>): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'checkout-abc', labels: { 'kubernetes.io/service-name': 'checkout' } },
    endpoints: endpoints.map(([name, ready], i) => ({ addresses: [`10.0.0.${i + 1}`], targetRef: { kind: 'Pod', name }, conditions: { ready } })),
  } as KubeObject;
}

/** A rollout under way: 3 old pods Ready, 1 new pod never Ready (maxSurge 1, maxUnavailable 0). */
async function stalledRollout() {
  const cluster = new FakeCluster();
  const s = await fakeScenario(cluster);
  cluster.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'checkout' }, spec: { selector: { app: 'checkout' } } } as KubeObject);
  cluster.apply(deployment({ replicas: 4, updatedReplicas: 1, availableReplicas: 3 }, { status: 'True', reason: 'ReplicaSetUpdated' }));
  cluster.apply(replicaSet('old', '1', 3, 3));
  cluster.apply(replicaSet('new', '2', 1, 0));
  for (const i of [1, 2, 3]) cluster.apply(rsPod(`checkout-old-${i}`, 'old', true));
  cluster.apply(rsPod('checkout-new-1', 'new', false));
  cluster.apply(slice([['checkout-old-1', true], ['checkout-old-2', true], ['checkout-old-3', true], ['checkout-new-1', false]]));
  return { cluster, s };
}

/** The same rollout, completed: the new version became Ready after all. */
function complete(cluster: FakeCluster) {
  for (const i of [1, 2, 3]) cluster.apply(rsPod(`checkout-new-${i}`, 'new', true));
  cluster.apply(replicaSet('new', '2', 3, 3));
  cluster.apply(replicaSet('old', '1', 0, 0));
  for (const i of [1, 2, 3]) cluster.remove('Pod', `checkout-old-${i}`);
  cluster.apply(deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, { status: 'True', reason: 'NewReplicaSetAvailable' }));
}

describe('a rollout that stalls', () => {
  it('holds while nothing moves', async () => {
    const { s } = await stalledRollout();
    await expectRolloutStalls(s, 'checkout', 100);
  });

  it('fails when the new version becomes Ready and the rollout completes, with what it saw', async () => {
    const { cluster, s } = await stalledRollout();
    const stall = expectRolloutStalls(s, 'checkout', 5_000);
    await new Promise((r) => setImmediate(r));
    complete(cluster);
    await assert.rejects(stall, (err: Error) => err instanceof ConditionBroken && /new checkout-new \(revision 2\): \d pod\(s\), [1-3] Ready/.test(err.message));
  });

  it('fails when the old ReplicaSet loses Ready pods', async () => {
    const { cluster, s } = await stalledRollout();
    const stall = expectRolloutStalls(s, 'checkout', 5_000);
    await new Promise((r) => setImmediate(r));
    cluster.apply(rsPod('checkout-old-2', 'old', false));
    await assert.rejects(stall, /old checkout-old \(revision 1\): 3 pod\(s\), 2 Ready/);
  });

  it('fails at once for a rollout already complete', async () => {
    const { cluster, s } = await stalledRollout();
    complete(cluster);
    await assert.rejects(expectRolloutStalls(s, 'checkout', 1_000), /rollout complete/);
  });
});

describe('ProgressDeadlineExceeded', () => {
  it('holds on Progressing=False with that reason; times out on a rollout still progressing, with what it saw', async () => {
    const { cluster, s } = await stalledRollout();
    await assert.rejects(until(progressDeadlineExceeded(s.timeline, 'checkout'), { within: 30 }), /Progressing=True \(ReplicaSetUpdated\); progressDeadlineSeconds 5/);
    cluster.apply(deployment({ replicas: 4, updatedReplicas: 1, availableReplicas: 3 }, { status: 'False', reason: 'ProgressDeadlineExceeded' }));
    assert.equal(progressDeadlineExceeded(s.timeline, 'checkout').evaluate().ok, true);
  });

  it('fails at once when the rollout completes', async () => {
    const { cluster, s } = await stalledRollout();
    const wait = until(progressDeadlineExceeded(s.timeline, 'checkout'), { within: 5_000 });
    complete(cluster);
    await assert.rejects(wait, (err: Error) => err instanceof RolloutOutcomeError && /completed/.test(err.message));
  });
});

describe('the old pods keep serving', () => {
  it('fails when an old pod stops being a ready endpoint, naming the endpoints', async () => {
    const { cluster, s } = await stalledRollout();
    const serving = holds(oldPodsServing(s.timeline, 'checkout', 'checkout', 3), { forMs: 5_000 });
    await new Promise((r) => setImmediate(r));
    cluster.apply(slice([['checkout-old-1', true], ['checkout-old-2', false], ['checkout-old-3', true], ['checkout-new-1', false]]));
    await assert.rejects(serving, /2 old pod\(s\) ready endpoints: checkout-old-1, checkout-old-3; other endpoints: checkout-new-1 ready:false/);
  });

  it('counts no old pod without a rollout: a new pod serving is not an old one', async () => {
    const { cluster, s } = await stalledRollout();
    complete(cluster);
    cluster.apply(slice([['checkout-new-1', true], ['checkout-new-2', true], ['checkout-new-3', true]]));
    const v = oldPodsServing(s.timeline, 'checkout', 'checkout', 1).evaluate();
    assert.equal(v.ok, false);
    assert.match(v.observed, /0 old pod\(s\)/);
  });
});

describe('rolling out a version that never becomes ready', () => {
  const base = (image: string, env?: Array<{ name: string; value: string }>): Deployment =>
    ({ metadata: { name: 'checkout' }, spec: { template: { metadata: { labels: { app: 'checkout' } }, spec: { containers: [{ name: 'app', image, ...(env ? { env } : {}) }] } } } }) as unknown as Deployment;

  it('labels the template on KWOK, and switches the test app off at start on real containers', () => {
    assert.deepEqual(neverReadyPatch(base('agnhost'), true).ops, [{ op: 'add', path: '/spec/template/metadata/labels/kubeproof.io~1unready', value: 'true' }]);
    const real = neverReadyPatch(base(TESTAPP_IMAGE.ref, [{ name: 'POD_NAME', value: 'x' }]), false);
    assert.deepEqual(real.ops, [{ op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'READY_AT_START', value: 'false' } }]);
  });

  it('is not applicable to real containers of another image, and refuses a second time', () => {
    assert.throws(() => neverReadyPatch(base('agnhost'), false), NotApplicable);
    const labelled = base('agnhost');
    labelled.spec!.template!.metadata!.labels!['kubeproof.io/unready'] = 'true';
    assert.throws(() => neverReadyPatch(labelled, true), BadInputError);
  });
});
