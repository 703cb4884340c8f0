/**
 * "a cluster with at least N Ready nodes" on a cluster that cannot add nodes: it waits (on node
 * events) for nodes that exist but are not Ready yet, as a new kind cluster's workers are while
 * their CNI starts, and is not applicable at once when the nodes are not there at all.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster, fakeScenario } from './fake-cluster.js';
import { ensureNodes, requireRealNode, requireSimulatedContainers } from '../../src/scenario/requirements.js';
import { NotApplicable } from '../../src/not-applicable.js';
import type { Node } from '../../src/kube/types.js';

const node = (name: string, ready: boolean, zone?: string): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: zone ? { 'topology.kubernetes.io/zone': zone } : {} },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

async function realCluster(nodes: Node[]) {
  const c = new FakeCluster();
  for (const n of nodes) c.apply(n);
  const s = await fakeScenario(c);
  Object.assign(s, { cluster: { capabilities: { simulatedNodes: false } } });
  return { c, s };
}

describe('node requirements on a cluster that cannot add nodes', () => {
  it('waits for nodes that exist but are not Ready yet', async () => {
    const { c, s } = await realCluster([node('w1', true, 'a'), node('w2', false, 'b'), node('w3', false, 'c')]);
    const t0 = performance.now();
    const done = ensureNodes(s, { count: 3, zones: ['a', 'b', 'c'], withinMs: 10_000 });
    setTimeout(() => c.apply(node('w2', true, 'b')), 100);
    setTimeout(() => c.apply(node('w3', true, 'c')), 200);
    await done;
    assert.ok(performance.now() - t0 >= 150, 'resolved before the nodes were Ready');
    await s.timeline.stop();
  });

  it('is not applicable once the deadline passes, saying what it saw', async () => {
    const { s } = await realCluster([node('w1', true), node('w2', false)]);
    await assert.rejects(ensureNodes(s, { count: 2, withinMs: 300 }), (err: unknown) => err instanceof NotApplicable && /needs 2 Ready node\(s\); the cluster has 1 Ready of 2 in no zone/.test(err.message));
    await s.timeline.stop();
  });

  it('is not applicable at once when the nodes do not exist at all', async () => {
    const { s } = await realCluster([node('w1', true)]);
    const t0 = performance.now();
    await assert.rejects(ensureNodes(s, { count: 3, withinMs: 10_000 }), NotApplicable);
    assert.ok(performance.now() - t0 < 1000);
    await s.timeline.stop();
  });

  it('scenarios of KWOK-simulated containers are not applicable on real kubelets, and run where nodes are simulated', async () => {
    const { s } = await realCluster([node('w1', true)]);
    assert.throws(() => requireSimulatedContainers(s), (err: unknown) => err instanceof NotApplicable && /real kubelets/.test(err.message));
    Object.assign(s, { cluster: { kind: 'local', capabilities: { simulatedNodes: true } } });
    assert.doesNotThrow(() => requireSimulatedContainers(s));
    await s.timeline.stop();
  });

  it('"a real node" is a Ready node labelled kubeproof.io/node-type=real: real containers without the label run none of the @real workloads', async () => {
    const { c, s } = await realCluster([node('node-1', true), node('node-2', true)]);
    Object.assign(s, { cluster: { kind: 'kind', capabilities: { simulatedNodes: false, realNodes: ['node-1', 'node-2'] } } });
    await assert.rejects(requireRealNode(s), (err: unknown) => err instanceof NotApplicable && /labelled kubeproof\.io\/node-type=real.*node-1, node-2 run real containers but none carries the label/.test(err.message));
    const real = node('real-1', false);
    real.metadata!.labels!['kubeproof.io/node-type'] = 'real';
    c.apply(real);
    Object.assign(s, { cluster: { kind: 'kind', capabilities: { simulatedNodes: false, realNodes: ['node-1', 'node-2', 'real-1'] } } });
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(requireRealNode(s), (err: unknown) => err instanceof NotApplicable && /needs a Ready real node; real-1 is not Ready/.test(err.message));
    c.apply({ ...real, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await requireRealNode(s), 'real-1');
    await s.timeline.stop();
  });
});
