/** The load's undo (ledger op idle-usage) against an in-memory API: what it puts back, what it leaves alone. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { undoOne } from '../../src/ledger/undo-ops.js';
import type { UndoRecord } from '../../src/ledger/ledger.js';
import type { Kube } from '../../src/kube/client.js';
import type { Pod } from '../../src/kube/types.js';
import { ApiError } from '../../src/kube/errors.js';

const MARK = 'fault.kubeproof.io/ab-1-apply-load';
const rec: UndoRecord = {
  id: 'ab-1-apply-load',
  runId: 'run-ab',
  fault: 'apply load',
  target: { kind: 'Deployment', name: 'shop', namespace: 'ns' },
  undo: { op: 'idle-usage', annotation: 'kwok.x-k8s.io/usage-cpu', written: 'kubeproof.io/load-cpu', idle: '20m', selector: 'app=shop' },
  recordedAt: '2026-01-01T00:00:00Z',
  owner: { host: 'h', pid: 1 },
};

/** Pods by name; merge patches applied to annotations, checked against resourceVersion. */
function fakeKube(pods: Record<string, Record<string, string>>, opts: { conflictOnce?: string } = {}) {
  const store = new Map<string, Pod>(Object.entries(pods).map(([name, annotations], i) => [name, { metadata: { name, namespace: 'ns', resourceVersion: String(i + 1), labels: { app: 'shop' }, annotations } }]));
  let conflicted = false;
  const kube = {
    list: async () => ({ items: [...store.values()].map((p) => structuredClone(p)) }),
    find: async (_k: string, name: string) => structuredClone(store.get(name)),
    mergePatch: async (_k: string, name: string, _ns: string, patch: { metadata: { resourceVersion?: string; annotations: Record<string, string | null> } }) => {
      const p = store.get(name)!;
      if (opts.conflictOnce === name && !conflicted) {
        conflicted = true;
        p.metadata!.resourceVersion = String(Number(p.metadata!.resourceVersion) + 100);
        throw new ApiError(409, 'Conflict', 'the object has been modified');
      }
      if (patch.metadata.resourceVersion && patch.metadata.resourceVersion !== p.metadata!.resourceVersion) throw new ApiError(409, 'Conflict', 'stale');
      for (const [k, v] of Object.entries(patch.metadata.annotations)) {
        if (v === null) delete p.metadata!.annotations![k];
        else p.metadata!.annotations![k] = v;
      }
      p.metadata!.resourceVersion = String(Number(p.metadata!.resourceVersion) + 1);
      return p;
    },
  };
  return { kube: kube as unknown as Kube, store };
}

describe('undo of a load (idle-usage)', () => {
  it('puts loaded pods back to idle and removes its marks, retrying a conflicting write', async () => {
    const { kube, store } = fakeKube(
      {
        'shop-a': { 'kwok.x-k8s.io/usage-cpu': '200m', 'kubeproof.io/load-cpu': '200m', [MARK]: 'run-ab' },
        'shop-b': { 'kwok.x-k8s.io/usage-cpu': '200m', 'kubeproof.io/load-cpu': '200m', [MARK]: 'run-ab' },
        'shop-new': { 'kwok.x-k8s.io/usage-cpu': '20m' },
      },
      { conflictOnce: 'shop-b' },
    );
    const out = await undoOne(kube, rec);
    assert.equal(out.status, 'reverted', out.detail);
    for (const name of ['shop-a', 'shop-b', 'shop-new']) assert.deepEqual(store.get(name)!.metadata!.annotations, { 'kwok.x-k8s.io/usage-cpu': '20m' });
    assert.equal((await undoOne(kube, rec)).status, 'already');
  });

  it('leaves a usage someone else changed, and says so', async () => {
    const { kube, store } = fakeKube({ 'shop-a': { 'kwok.x-k8s.io/usage-cpu': '900m', 'kubeproof.io/load-cpu': '200m', [MARK]: 'run-ab' } });
    const out = await undoOne(kube, rec);
    assert.equal(out.status, 'conflict');
    assert.match(out.detail, /shop-a \(now 900m\)/);
    assert.deepEqual(store.get('shop-a')!.metadata!.annotations, { 'kwok.x-k8s.io/usage-cpu': '900m' });
  });

  it('removes the annotation when the template had none (idle: kwok default)', async () => {
    const { kube, store } = fakeKube({ 'shop-a': { 'kwok.x-k8s.io/usage-cpu': '200m', 'kubeproof.io/load-cpu': '200m', [MARK]: 'run-ab' } });
    const out = await undoOne(kube, { ...rec, undo: { ...rec.undo, idle: null } as UndoRecord['undo'] });
    assert.equal(out.status, 'reverted');
    assert.deepEqual(store.get('shop-a')!.metadata!.annotations, {});
  });
});
