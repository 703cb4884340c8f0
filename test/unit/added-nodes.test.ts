/**
 * Nodes a scenario adds are recorded in the ledger before they are made and carry the run's
 * label; the recorded undo (delete-node, the local provider's op) deletes only a node of that
 * run, its pods first — so `kubeproof clean` or the next run removes them after a SIGKILL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/cluster/providers/local-parts.js';
import { undoOne } from '../../src/ledger/undo-ops.js';
import { RUN_LABEL, type UndoRecord } from '../../src/ledger/record.js';
import { addNodes } from '../../src/scenario/requirements.js';
import { NotApplicable } from '../../src/not-applicable.js';
import type { Kube } from '../../src/kube/client.js';
import type { NodeSpec } from '../../src/cluster/providers/provider.js';
import type { Scenario } from '../../src/scenario/scenario.js';

function fakeKube(node: object | undefined) {
  const calls: string[] = [];
  const kube = {
    find: async () => node,
    list: async (kind: string, o: { fieldSelector?: string }) => (calls.push(`list ${kind} ${o.fieldSelector}`), { items: [{ metadata: { name: 'p1', namespace: 'kp-x' } }] }),
    delete: async (kind: string, name: string, _ns: unknown, o: object) => void calls.push(`delete ${kind} ${name} ${JSON.stringify(o)}`),
  } as unknown as Kube;
  return { kube, calls };
}

const rec = (runId: string): UndoRecord => ({ id: 'x-1-add-node', runId, fault: 'add node', target: { kind: 'Node', name: 'big-1' }, undo: { op: 'delete-node' }, recordedAt: new Date().toISOString(), owner: { host: 'h', pid: 1 } });

describe('nodes a scenario adds', () => {
  it('the undo deletes a node of its run, its pods first', async () => {
    const { kube, calls } = fakeKube({ metadata: { name: 'big-1', uid: 'u1', labels: { [RUN_LABEL]: 'r1' } } });
    const out = await undoOne(kube, rec('r1'));
    assert.equal(out.status, 'reverted', out.detail);
    assert.deepEqual(calls, ['list Pod spec.nodeName=big-1', 'delete Pod p1 {"gracePeriodSeconds":0}', 'delete Node big-1 {"preconditions":{"uid":"u1"}}']);
  });

  it('leaves a node of that name that another run (or no run) made, and says so; a node already gone is done', async () => {
    const other = fakeKube({ metadata: { name: 'big-1', uid: 'u2', labels: { [RUN_LABEL]: 'r2' } } });
    const out = await undoOne(other.kube, rec('r1'));
    assert.equal(out.status, 'conflict');
    assert.match(out.detail, /not the node run r1 added .*"r2".*left as it is/);
    assert.deepEqual(other.calls, []);
    assert.equal((await undoOne(fakeKube(undefined).kube, rec('r1'))).status, 'already');
  });

  it('records each node before the supply makes it, labelled with the run; the scenario\'s cleanup reverts the record', async () => {
    const events: string[] = [];
    const cleanups: Array<() => Promise<void>> = [];
    const s = {
      runId: 'r1',
      parts: { nodeSupply: { undo: { op: 'delete-node' }, add: async (_k: Kube, specs: NodeSpec[]) => void events.push(`add ${specs.map((x) => `${x.name}:${x.labels?.[RUN_LABEL]}`).join(',')}`) } },
      timeline: { nodes: { get: () => undefined }, mark: () => ({ at: 1 }) },
      ledger: {
        injecting: (f: () => Promise<unknown>) => f(),
        newId: (f: string) => `id-${f}`,
        record: async (r: { target: { name: string }; undo: { op: string } }) => (events.push(`record ${r.target.name} ${r.undo.op}`), r),
        revert: async (r: { target: { name: string } }) => (events.push(`revert ${r.target.name}`), { outcome: { status: 'reverted', detail: '' } }),
      },
      onCleanup: (_w: string, f: () => Promise<void>) => cleanups.push(f),
    } as unknown as Scenario;
    await addNodes(s, [{ name: 'big-1', labels: { team: 'a' } }]);
    assert.deepEqual(events, ['record big-1 delete-node', 'add big-1:r1']);
    for (const c of cleanups.reverse()) await c();
    assert.deepEqual(events.at(-1), 'revert big-1');
  });

  it('a cluster whose node supply refuses: not applicable, with its reason', async () => {
    const s = { parts: { nodeSupply: { refused: 'kind cannot add nodes to a running cluster' } } } as unknown as Scenario;
    await assert.rejects(addNodes(s, [{ name: 'n' }]), (err: unknown) => err instanceof NotApplicable && /adding nodes: kind cannot add nodes/.test(err.message));
  });
});
