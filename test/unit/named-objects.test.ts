/**
 * A step that names an object fails when the object never existed: "pod nope leaves the ready
 * endpoints of service web" is not true of a pod that is not there, nor "no pods of deployment
 * nope are Ready on node node-9". Objects that existed and went (a killed pod) still count.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { endpointsReady, podIdentity } from '../../src/expect/endpoints.js';
import { podCount, pendingBecause, readyReplicas, spreadOverZones } from '../../src/expect/conditions.js';
import { readyPodsOnNode } from '../../src/expect/placement.js';
import { expectEviction } from '../../src/expect/eviction.js';
import { expectEvictionDelay, expectMaxUnavailable } from '../../src/expect/faults.js';
import type { KubeObject } from '../../src/kube/types.js';

const node = (name: string, zone: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } } });
const service = (name: string, selector: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector } } as KubeObject);
const slice = (svc: string, endpoints: Array<[string, boolean]>): KubeObject =>
  ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-abc`, labels: { 'kubernetes.io/service-name': svc } },
    endpoints: endpoints.map(([p, ready]) => ({ addresses: ['10.0.0.1'], targetRef: { kind: 'Pod', name: p }, conditions: { ready } })),
  }) as KubeObject;

async function web() {
  const cluster = new FakeCluster();
  const s = await fakeScenario(cluster);
  cluster.apply(node('node-1', 'a'));
  cluster.apply(node('node-2', 'b'));
  cluster.apply(workload('Deployment', 'web', { replicas: 2 }, { observedGeneration: 1, replicas: 2, readyReplicas: 2 }));
  cluster.apply(pod('web-1', { app: 'web' }, { node: 'node-1' }));
  cluster.apply(pod('web-2', { app: 'web' }, { node: 'node-2', ready: false }));
  cluster.apply(pod('other-1', { app: 'other' }, { node: 'node-2' }));
  cluster.apply(service('web', { app: 'web' }));
  cluster.apply(slice('web', [['web-1', true], ['web-2', false]]));
  return { cluster, s, tl: s.timeline };
}

describe('a step naming an object that never existed fails', () => {
  it('pod P leaves / returns to the ready endpoints of service S', async () => {
    const { cluster, tl } = await web();
    assert.equal(endpointsReady(tl, 'web', ['web-2'], false).evaluate().ok, true, 'a real unready endpoint');
    const missingPod = endpointsReady(tl, 'web', ['nope'], false).evaluate();
    assert.deepEqual(missingPod, { ok: false, observed: 'pod(s) nope do not exist' });
    assert.match(endpointsReady(tl, 'nope', ['web-2'], false).evaluate().observed, /service nope does not exist/);
    assert.equal(endpointsReady(tl, 'nope', ['web-2'], false).evaluate().ok, false);
    assert.match(endpointsReady(tl, 'web', ['other-1'], false).evaluate().observed, /not selected by service web/);
    // A pod that existed and was deleted has left the endpoints: that stays true.
    cluster.apply(slice('web', [['web-1', true]]));
    cluster.remove('Pod', 'web-2');
    assert.equal(endpointsReady(tl, 'web', ['web-2'], false).evaluate().ok, true);
  });

  it('N pods of W are S on node N / in zone Z, every zone, Pending because, run on node', async () => {
    const { tl } = await web();
    const none = { op: 'exactly', n: 0 } as const;
    assert.equal(podCount(tl, { workload: { kind: 'Deployment', name: 'web' } }, 'Ready', none, { node: 'node-2' }).evaluate().ok, true);
    assert.deepEqual(podCount(tl, { workload: { kind: 'Deployment', name: 'web' } }, 'Ready', none, { node: 'node-9' }).evaluate(), { ok: false, observed: 'node node-9 does not exist' });
    assert.deepEqual(podCount(tl, { workload: { kind: 'Deployment', name: 'web' } }, 'Ready', none, { zone: 'z' }).evaluate(), { ok: false, observed: 'no node is in zone z' });
    assert.equal(podCount(tl, { workload: { kind: 'Deployment', name: 'nope' } }, 'Ready', none).evaluate().ok, false);
    assert.equal(spreadOverZones(tl, { workload: { kind: 'Deployment', name: 'nope' } }, 0).evaluate().ok, false);
    assert.equal(pendingBecause(tl, { workload: { kind: 'StatefulSet', name: 'nope' } }, none, 'Insufficient cpu').evaluate().ok, false);
    assert.equal(readyReplicas(tl, { kind: 'DaemonSet', name: 'nope' }, none).evaluate().ok, false);
    assert.equal(readyPodsOnNode(tl, { kind: 'Deployment', name: 'nope' }, 'node-1', 0).evaluate().ok, false);
    assert.equal(readyPodsOnNode(tl, { kind: 'Deployment', name: 'web' }, 'node-9', 0).evaluate().ok, false);
    assert.equal(readyPodsOnNode(tl, { kind: 'Deployment', name: 'web' }, 'node-1', 1).evaluate().ok, true);
  });

  it('pod P is neither restarted nor replaced; evicting a pod of W; the pods of W left node N; W unavailable', async () => {
    const { s } = await web();
    assert.throws(() => podIdentity(s, 'nope'), /pod nope does not exist/);
    assert.equal(podIdentity(s, 'web-1').uid, 'uid-web-1');
    await assert.rejects(expectEviction(s, { kind: 'Deployment', name: 'nope' }, 'Ready', 'refused'), /deployment nope does not exist/);
    s.fault('taint node');
    await assert.rejects(expectEvictionDelay(s, { kind: 'Deployment', name: 'nope' }, 'node-1', 0, 1000), /deployment nope does not exist/);
    assert.throws(() => expectMaxUnavailable(s, { kind: 'StatefulSet', name: 'nope' }, 3), /statefulset nope does not exist/);
  });
});
