/**
 * The ledger's writes when they interleave: two scenarios of one run (--parallel), a process
 * killed between two writes of one forget. The API server is a map of ConfigMaps with its
 * semantics for these calls (a merge patch of a missing object is 404, a create of an
 * existing one 409, a delete with a resourceVersion precondition 409 if it moved), and a hook
 * that runs another write between two steps of the one under test.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Kube } from '../../src/kube/client.js';
import { ApiError } from '../../src/kube/errors.js';
import { Ledger, recordsOf, ledgerRuns, revertRun, SYSTEM_NAMESPACE } from '../../src/ledger/ledger.js';
import { registerUndo, type UndoAction } from '../../src/ledger/undo-ops.js';
import { RunLease } from '../../src/ledger/lease.js';
import type { KubeObject } from '../../src/kube/types.js';

type Cm = KubeObject & { data?: Record<string, string> };
type Op = 'mergePatch' | 'create' | 'delete';

class ConfigMaps {
  readonly maps = new Map<string, Cm>();
  /** Whether the system namespace exists, and how many times it was asked to be made. */
  namespace = true;
  namespaceCreates = 0;
  private rv = 1;
  /** Runs (once) before the named call reaches the store: another process's write in between. */
  before = new Map<Op, () => Promise<void>>();

  private async hook(op: Op): Promise<void> {
    const h = this.before.get(op);
    if (h) {
      this.before.delete(op);
      await h();
    }
  }

  asKube(): Kube {
    return {
      create: async (obj: Cm) => {
        if (obj.kind === 'Namespace') {
          this.namespaceCreates++;
          if (this.namespace) throw new ApiError(409, 'AlreadyExists', `namespaces "${obj.metadata!.name}" already exists`);
          this.namespace = true;
          return obj;
        }
        await this.hook('create');
        if (!this.namespace) throw new ApiError(404, 'NotFound', `namespaces "${SYSTEM_NAMESPACE}" not found`);
        const name = obj.metadata!.name!;
        if (this.maps.has(name)) throw new ApiError(409, 'AlreadyExists', `configmaps "${name}" already exists`);
        const cm = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
        this.maps.set(name, cm);
        return structuredClone(cm);
      },
      mergePatch: async (_kind: string, name: string, _ns: string, patch: { data?: Record<string, string | null> }) => {
        await this.hook('mergePatch');
        const cm = this.maps.get(name);
        if (!cm) throw new ApiError(404, 'NotFound', `configmaps "${name}" not found`);
        const data = { ...cm.data };
        for (const [k, v] of Object.entries(patch.data ?? {})) {
          if (v === null) delete data[k];
          else data[k] = v;
        }
        const next: Cm = { ...cm, metadata: { ...cm.metadata, resourceVersion: String(++this.rv) } };
        if (Object.keys(data).length) next.data = data;
        else delete next.data;
        this.maps.set(name, next);
        return structuredClone(next);
      },
      delete: async (_kind: string, name: string, _ns?: string, opts: { preconditions?: { resourceVersion?: string } } = {}) => {
        await this.hook('delete');
        const cm = this.maps.get(name);
        if (!cm) throw new ApiError(404, 'NotFound', `configmaps "${name}" not found`);
        const want = opts.preconditions?.resourceVersion;
        if (want && want !== cm.metadata!.resourceVersion) throw new ApiError(409, 'Conflict', `Precondition failed: ResourceVersion in precondition: ${want}, ResourceVersion in object meta: ${cm.metadata!.resourceVersion}`);
        this.maps.delete(name);
      },
      find: async (kind: string, name: string) => (kind === 'Namespace' ? { metadata: { name } } : structuredClone(this.maps.get(name))),
      list: async () => ({ items: [...this.maps.values()].map((c) => structuredClone(c)) }),
    } as unknown as Kube;
  }
}

const RUN = '20250101-000000-abcd';
const undo = { op: 'uncordon' } as const;
const rec = (id: string) => ({ id, fault: 'cordon', target: { kind: 'Node', name: id }, undo });

describe('ledger writes that interleave', () => {
  it('two scenarios of one run (two Ledgers) never get the same fault id', () => {
    const kube = new ConfigMaps().asKube();
    const a = new Ledger(kube, RUN);
    const b = new Ledger(kube, RUN);
    const ids = [a.newId('cordon'), b.newId('cordon'), a.newId('cordon'), b.newId('cordon')];
    assert.equal(new Set(ids).size, ids.length, ids.join(', '));
  });

  it("one scenario's forget never erases another scenario's record of the same fault kind", async () => {
    const store = new ConfigMaps();
    const kube = store.asKube();
    const a = new Ledger(kube, RUN);
    const b = new Ledger(kube, RUN);
    const ra = await a.record(rec(a.newId('taint')));
    await b.record(rec(b.newId('taint')));
    await a.forget(ra.id);
    assert.equal((await recordsOf(kube, RUN)).length, 1, "scenario b's record is gone");
  });

  it('a record written between a forget emptying the ledger and its delete survives', async () => {
    const store = new ConfigMaps();
    const kube = store.asKube();
    const a = new Ledger(kube, RUN);
    const first = await a.record(rec(a.newId('cordon')));
    // Scenario b records while a's forget is between its patch (ledger now empty) and its delete.
    store.before.set('delete', async () => void (await new Ledger(kube, RUN).record(rec('b-1-taint'))));
    await a.forget(first.id);
    assert.deepEqual((await recordsOf(kube, RUN)).map((r) => r.id), ['b-1-taint']);
  });

  it('records do not ask for the system namespace each time, and make it again when it is gone', async () => {
    const store = new ConfigMaps();
    const ledger = new Ledger(store.asKube(), RUN);
    for (const f of ['a', 'b', 'c']) await ledger.record(rec(ledger.newId(f)));
    assert.equal(store.namespaceCreates, 0, 'the run made the namespace already');
    assert.equal(Object.keys(store.maps.get(`ledger-${RUN}`)!.data!).length, 3);
    store.maps.clear();
    store.namespace = false; // someone deleted kubeproof-system mid-run
    const made = await ledger.record(rec(ledger.newId('d')));
    assert.equal(store.namespaceCreates, 1);
    assert.ok(store.maps.get(`ledger-${RUN}`)!.data![made.id]);
  });

  it('two first records at once (both find no ledger) both land', async () => {
    const store = new ConfigMaps();
    const kube = store.asKube();
    // b's create lands after a's patch found no ConfigMap and before a's create.
    store.before.set('create', async () => void (await new Ledger(kube, RUN).record(rec('b-1-taint'))));
    await new Ledger(kube, RUN).record(rec('a-1-cordon'));
    assert.deepEqual((await recordsOf(kube, RUN)).map((r) => r.id).sort(), ['a-1-cordon', 'b-1-taint']);
  });

  it("a run's undo (Ctrl-C) waits for a fault between its record and its write, and lets no new fault start", async () => {
    const kube = new ConfigMaps().asKube();
    const run = '20250101-000000-sig1';
    // A fault whose effect is a flag: its undo reverts the flag if it is set ("already" otherwise).
    const node = { cordoned: false };
    registerUndo('test-flag' as never, async () => (node.cordoned ? ((node.cordoned = false), { status: 'reverted', detail: 'uncordoned' }) : { status: 'already', detail: 'was not cordoned' }));
    const ledger = new Ledger(kube, run);
    let land!: () => void;
    const landed = new Promise<void>((resolve) => (land = resolve));
    let recorded!: () => void;
    const isRecorded = new Promise<void>((resolve) => (recorded = resolve));
    const fault = ledger.injecting(async () => {
      await ledger.record({ id: 'sig1-1-cordon', fault: 'cordon', target: { kind: 'Node', name: 'node-1' }, undo: { op: 'test-flag' } as unknown as UndoAction });
      recorded();
      await landed; // the cordon's write still in flight
      node.cordoned = true;
    });
    await isRecorded;
    const undone = revertRun(kube, run); // Ctrl-C now
    await assert.rejects(ledger.injecting(async () => 'a later fault'), /being undone: nothing new starts/);
    land();
    await fault;
    const reports = await undone;
    assert.deepEqual(reports.map((r) => r.outcome.status), ['reverted'], 'the undo ran before the fault landed');
    assert.equal(node.cordoned, false, 'the fault stayed');
  });

  it("a Ctrl-C while the run's Lease is being created: the undo waits for it, and the Lease is released, not left for good", async () => {
    const store = new ConfigMaps();
    const kube = store.asKube();
    const run = '20250101-000000-sig2';
    let started!: () => void;
    const creating = new Promise<void>((resolve) => (started = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    store.before.set('create', async () => {
      started();
      await answered; // the Lease's create still in flight when the signal comes
    });
    const acquiring = RunLease.acquire(kube, run);
    await creating;
    const undone = revertRun(kube, run);
    answer();
    await assert.rejects(acquiring, /being undone/);
    await undone;
    assert.deepEqual([...store.maps.keys()], [], 'the Lease was left');
    await assert.rejects(RunLease.acquire(kube, run), /being undone/, 'a Lease taken after the undo began');
    assert.deepEqual([...store.maps.keys()], []);
  });

  it('an emptied ledger left by a process killed between the patch and the delete goes with the next revert of its run', async () => {
    const store = new ConfigMaps();
    const kube = store.asKube();
    store.maps.set(`ledger-${RUN}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `ledger-${RUN}`, namespace: SYSTEM_NAMESPACE, labels: { 'kubeproof.io/ledger': 'true', 'kubeproof.io/run': RUN }, resourceVersion: '7' } });
    assert.deepEqual(await ledgerRuns(kube), [RUN]);
    assert.deepEqual(await new Ledger(kube, RUN).revertAll(), []);
    assert.deepEqual(await ledgerRuns(kube), [], 'the empty ledger is still there');
  });
});
