/**
 * The sentences that say what they check, false where Kubernetes makes them false: a pod that
 * never passes readiness does not become a ready endpoint; "none of the pods is Running" breaks
 * at the event a pod starts running.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario, pod, workload } from './fake-cluster.js';
import { endpointsReady } from '../../src/expect/endpoints.js';
import { podCount } from '../../src/expect/conditions.js';
import { holds, until, ConditionBroken, ConditionTimeout } from '../../src/wait/until.js';
import type { KubeObject } from '../../src/kube/types.js';

describe('wording', () => {
  it('"becomes a ready endpoint": false for a pod that stays unready, true once it is ready', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ordered' }, spec: { selector: { app: 'ordered' } } } as KubeObject);
    cluster.apply(pod('ordered-2', { app: 'ordered' }, { ready: false }));
    const slice = (ready: boolean) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'ordered-x', labels: { 'kubernetes.io/service-name': 'ordered' } }, endpoints: [{ addresses: ['10.0.0.2'], targetRef: { kind: 'Pod', name: 'ordered-2' }, conditions: { ready } }] }) as KubeObject;
    cluster.apply(slice(false));
    await assert.rejects(until(endpointsReady(s.timeline, 'ordered', ['ordered-2'], true), { within: 100 }), (err: unknown) => err instanceof ConditionTimeout && /last seen: ordered-2 ready:false/.test(err.message));
    const ok = until(endpointsReady(s.timeline, 'ordered', ['ordered-2'], true), { within: 1000 });
    cluster.apply(slice(true));
    await ok;
  });

  it('"for D none of the pods of W is Running" breaks when one starts running', async () => {
    const cluster = new FakeCluster();
    const s = await fakeScenario(cluster);
    cluster.apply(workload('Deployment', 'huge', { replicas: 1 }, {}));
    cluster.apply(pod('huge-1', { app: 'huge' }, { phase: 'Pending', ready: false }));
    const none = holds(podCount(s.timeline, { workload: { kind: 'Deployment', name: 'huge' } }, 'Running', { op: 'exactly', n: 0 }), { forMs: 2000 });
    cluster.apply(pod('huge-1', { app: 'huge' }));
    await assert.rejects(none, (err: unknown) => err instanceof ConditionBroken && /1 Running: huge-1 Running Ready on node-1/.test(err.message));
  });
});
