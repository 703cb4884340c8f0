/**
 * The undo of a node label or patch: the fields the patch wrote go back to what they were,
 * a field someone else changed since is a conflict (left as it is), and the fault's mark goes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fieldsBefore, undoOne, type UndoAction } from '../../src/ledger/undo-ops.js';
import type { UndoRecord } from '../../src/ledger/record.js';
import type { Kube } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/types.js';

/** One object in memory; merge patches applied as the API server would (null deletes), resourceVersion checked. */
function oneObject(obj: KubeObject): { kube: Kube; obj: () => KubeObject } {
  let cur = structuredClone(obj);
  let rv = 1;
  const merge = (into: Record<string, unknown>, patch: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete into[k];
      else if (typeof v === 'object' && !Array.isArray(v)) merge(((into[k] ??= {}) as Record<string, unknown>), v as Record<string, unknown>);
      else into[k] = v;
    }
  };
  const kube = {
    find: async () => structuredClone({ ...cur, metadata: { ...cur.metadata, resourceVersion: String(rv) } }),
    mergePatch: async (_k: string, _n: string, _ns: string | undefined, patch: { metadata?: { resourceVersion?: string } }) => {
      const want = patch.metadata?.resourceVersion;
      if (want && want !== String(rv)) throw Object.assign(new Error('conflict'), { code: 409 });
      const p = structuredClone(patch) as Record<string, unknown> & { metadata?: Record<string, unknown> };
      delete p.metadata?.resourceVersion;
      merge(cur as unknown as Record<string, unknown>, p);
      rv++;
      return cur;
    },
  } as unknown as Kube;
  return { kube, obj: () => cur };
}

const node = (labels: Record<string, string>, annotations: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels, annotations } });
const record = (undo: UndoAction): UndoRecord => ({ id: 'r1-1-patch', runId: 'r1', fault: 'patch', target: { kind: 'Node', name: 'node-1' }, undo, recordedAt: '', owner: { host: '', pid: 0 } });

describe('restore-fields undo', () => {
  const patch = { metadata: { labels: { tier: 'held', gone: null }, annotations: { 'example.com/owner': 'chaos' } } };

  it('records the patched leaves as they were, absent ones as null', () => {
    assert.deepEqual(fieldsBefore(node({ gone: 'x', keep: 'y' }), patch), { metadata: { labels: { tier: null, gone: 'x' }, annotations: { 'example.com/owner': null } } });
  });

  it('puts every patched field back and drops the fault annotation, touching nothing else', async () => {
    const before = node({ gone: 'x', keep: 'y' }, { other: 'o' });
    const { kube, obj } = oneObject(before);
    const undo: UndoAction = { op: 'restore-fields', before: fieldsBefore(before, patch), after: patch };
    await kube.mergePatch('Node', 'node-1', undefined, { ...patch, metadata: { ...patch.metadata, annotations: { ...patch.metadata.annotations, 'fault.kubeproof.io/r1-1-patch': 'r1' } } });
    const out = await undoOne(kube, record(undo));
    assert.equal(out.status, 'reverted', out.detail);
    assert.deepEqual(obj().metadata, before.metadata);
  });

  it('a field changed by someone else since is a conflict and keeps their value; the rest is restored', async () => {
    const before = node({ gone: 'x' });
    const { kube, obj } = oneObject(before);
    const undo: UndoAction = { op: 'restore-fields', before: fieldsBefore(before, patch), after: patch };
    await kube.mergePatch('Node', 'node-1', undefined, patch);
    await kube.mergePatch('Node', 'node-1', undefined, { metadata: { labels: { tier: 'theirs' } } });
    const out = await undoOne(kube, record(undo));
    assert.equal(out.status, 'conflict');
    assert.match(out.detail, /metadata\.labels\.tier is now "theirs" \(kubeproof set "held"\)/);
    assert.equal(obj().metadata?.labels?.tier, 'theirs');
    assert.equal(obj().metadata?.labels?.gone, 'x');
    assert.equal(obj().metadata?.annotations?.['example.com/owner'], undefined);
  });

  it('nothing to do when the fields are already as before', async () => {
    const before = node({ gone: 'x' });
    const { kube } = oneObject(before);
    const out = await undoOne(kube, record({ op: 'restore-fields', before: fieldsBefore(before, patch), after: patch }));
    assert.equal(out.status, 'already');
  });
});
