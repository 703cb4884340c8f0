import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotOf, differences, kubeproofTraces } from '../../src/ledger/residue.js';
import type { Node } from '../../src/kube/types.js';

function node(name: string, extra: { unschedulable?: boolean; taints?: Array<{ key: string; value?: string; effect: string }>; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kwok.x-k8s.io/node': 'fake', ...extra.labels }, annotations: { 'node.alpha.kubernetes.io/ttl': '0', ...extra.annotations } },
    spec: { unschedulable: extra.unschedulable, taints: extra.taints },
  } as Node;
}

describe('what a run leaves behind', () => {
  it('finds nothing when the nodes are as they were (controller-owned annotations aside)', () => {
    const before = snapshotOf([node('n1'), node('n2')]);
    const after = snapshotOf([node('n2'), { ...node('n1'), metadata: { ...node('n1').metadata, annotations: { 'node.alpha.kubernetes.io/ttl': '15' } } } as Node]);
    assert.deepEqual(differences(before, after), []);
  });

  it('names a cordon, an added taint, a removed label and a fault annotation', () => {
    const before = snapshotOf([node('n1'), node('n2', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })]);
    const after = snapshotOf([
      node('n1', { unschedulable: true, annotations: { 'fault.kubeproof.io/ab-1-drain': 'run-1' } }),
      { ...node('n2', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }, { key: 'x', effect: 'NoExecute' }] }), metadata: { name: 'n2', labels: {}, annotations: {} } } as Node,
    ]);
    const diff = differences(before, after);
    assert.ok(diff.includes('node n1 is cordoned (was schedulable)'), diff.join('\n'));
    assert.ok(diff.includes('node n1: annotation fault.kubeproof.io/ab-1-drain=run-1 added'), diff.join('\n'));
    assert.ok(diff.includes('node n2: taint x:NoExecute added'), diff.join('\n'));
    assert.ok(diff.includes('node n2: label kwok.x-k8s.io/node removed'), diff.join('\n'));
    assert.deepEqual(kubeproofTraces(diff), ['node n1: annotation fault.kubeproof.io/ab-1-drain=run-1 added']);
  });

  it('keeps a taint that was there before, and reports one that was removed', () => {
    const t = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
    assert.deepEqual(differences(snapshotOf([node('n1', { taints: [t] })]), snapshotOf([node('n1', { taints: [t] })])), []);
    assert.deepEqual(differences(snapshotOf([node('n1', { taints: [t] })]), snapshotOf([node('n1')])), ['node n1: taint dedicated=db:NoSchedule removed']);
  });

  it('reports nodes that are gone or were added and left', () => {
    assert.deepEqual(differences(snapshotOf([node('n1')]), snapshotOf([node('n2')])), ['node n1 is gone', 'node n2 was added and is still there']);
  });
});
