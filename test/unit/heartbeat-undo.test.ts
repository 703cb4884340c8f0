/**
 * A node failure's undo is done when the node heartbeats again, not when its start command
 * returned: a node undone within its grace period never left Ready, so only its Lease says the
 * container or kubelet is back (kind.test's interrupt iteration saw no kubelet in the node right
 * after `docker start`, while the run said "left as found").
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCluster } from './fake-cluster.js';
import { undoOne, registerUndo, type UndoAction } from '../../src/ledger/undo-ops.js';
import { HEARTBEAT_WAIT, NODE_LEASES } from '../../src/ledger/heartbeat.js';
import type { UndoRecord } from '../../src/ledger/record.js';

const lease = (renewTime: string) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node-2', namespace: NODE_LEASES }, spec: { renewTime } });
const before = '2026-12-02T18:00:00.000000Z';

function record(awaitHeartbeat?: string): UndoRecord {
  return { id: 'x-1-stop-node', runId: 'r', fault: 'stop node', target: { kind: 'Node', name: 'node-2' }, undo: { op: 'test-start' } as unknown as UndoAction, recordedAt: before, owner: { host: 'h', pid: 1 }, ...(awaitHeartbeat ? { awaitHeartbeat } : {}) };
}

describe("a node's undo waits for its heartbeat", () => {
  const wait = HEARTBEAT_WAIT.ms;
  afterEach(() => (HEARTBEAT_WAIT.ms = wait));

  it('reverted once the Lease renews after the start, not before', async () => {
    const cluster = new FakeCluster();
    cluster.apply(lease(before));
    let renewed = false;
    // The start command returns; the kubelet renews its Lease a moment later.
    registerUndo('test-start' as never, (async () => {
      setImmediate(() => {
        renewed = true;
        cluster.apply(lease('2026-12-02T18:00:09.000000Z'));
      });
      return { status: 'reverted', detail: 'ran docker start' };
    }) as never);
    const outcome = await undoOne(cluster.asKube(), record(before));
    assert.equal(renewed, true, 'the undo returned before the node heartbeat');
    assert.deepEqual(outcome, { status: 'reverted', detail: 'ran docker start; heartbeating again' });
  });

  it('failed (the record kept for the next clean) when the node never heartbeats again', async () => {
    HEARTBEAT_WAIT.ms = 300;
    const cluster = new FakeCluster();
    cluster.apply(lease(before));
    registerUndo('test-start' as never, (async () => ({ status: 'reverted', detail: 'ran docker start' })) as never);
    const outcome = await undoOne(cluster.asKube(), record(before));
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.detail, /ran docker start, but timed out .*node node-2 heartbeating again/);
  });

  it('a record without a heartbeat (a node with no Lease) is done when its command is', async () => {
    const cluster = new FakeCluster();
    registerUndo('test-start' as never, (async () => ({ status: 'reverted', detail: 'ran docker start' })) as never);
    assert.deepEqual(await undoOne(cluster.asKube(), record()), { status: 'reverted', detail: 'ran docker start' });
  });
});
