/**
 * The informer against a scripted API server: it survives a watch that expires (410: relist,
 * and the changes missed in between come out as events) and one that breaks (resume from the
 * last resourceVersion, no relist).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Informer, type Change } from '../../src/kube/informer.js';
import { ApiError } from '../../src/kube/errors.js';
import type { Kube } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/types.js';

type OnEvent = (phase: string, obj: KubeObject) => void;
type OnDone = (err: unknown) => void;

const cm = (name: string, rv: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion: rv } });

/** A fake API server: lists come from a queue; each watch is handed to the test to drive. */
class ScriptedApi {
  lists: Array<{ items: KubeObject[]; rv: string }> = [];
  watches: Array<{ rv: string; onEvent: OnEvent; onDone: OnDone; closed: boolean }> = [];
  /** When set, opening a watch waits for this promise (a watch request still in flight). */
  opening: Promise<void> | undefined;
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  asKube(): Kube {
    return {
      list: async () => {
        const l = this.lists.shift();
        if (!l) throw new Error('unexpected list');
        return { items: l.items, metadata: { resourceVersion: l.rv } };
      },
      watch: async (_path: string, params: { resourceVersion?: string }, onEvent: OnEvent, onDone: OnDone) => {
        const w = { rv: String(params.resourceVersion ?? ''), onEvent, onDone, closed: false };
        this.watches.push(w);
        for (const x of this.waiters.filter((x) => x.n <= this.watches.length)) x.resolve();
        this.waiters = this.waiters.filter((x) => x.n > this.watches.length);
        if (this.opening) await this.opening;
        return () => {
          w.closed = true;
        };
      },
    } as unknown as Kube;
  }

  /** Resolves once the informer has opened its n-th watch (an event, not a timer). */
  watchOpened(n: number): Promise<void> {
    if (this.watches.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

function record(inf: Informer): string[] {
  const seen: string[] = [];
  inf.on((c: Change) => seen.push(`${c.type} ${c.object.metadata?.name}@${c.object.metadata?.resourceVersion}`));
  return seen;
}

describe('informer', () => {
  it('relists after 410 Gone and reports what changed while it was not watching', async () => {
    const api = new ScriptedApi();
    api.lists.push({ items: [cm('a', '1'), cm('b', '2')], rv: '10' });
    const inf = new Informer(api.asKube(), 'ConfigMap', { namespace: 'ns' });
    const seen = record(inf);
    await inf.start();
    await api.watchOpened(1);
    assert.equal(api.watches[0]!.rv, '10');
    api.watches[0]!.onEvent('MODIFIED', cm('a', '11'));
    // The watch expires: the server says 410 and closes it. Meanwhile b was deleted and c created.
    api.lists.push({ items: [cm('a', '12'), cm('c', '13')], rv: '20' });
    api.watches[0]!.onEvent('ERROR', { code: 410 } as unknown as KubeObject);
    api.watches[0]!.onDone(new ApiError(410, 'Expired', 'too old resource version'));
    await api.watchOpened(2);
    assert.equal(inf.relists, 1);
    assert.equal(api.watches[1]!.rv, '20', 'the new watch starts at the relist');
    assert.deepEqual(seen, ['added a@1', 'added b@2', 'modified a@11', 'modified a@12', 'added c@13', 'deleted b@2']);
    assert.deepEqual(inf.list().map((o) => o.metadata?.name).sort(), ['a', 'c']);
    await inf.stop();
  });

  it('resumes a broken watch from the last resourceVersion it saw, without relisting, and reports the error', async () => {
    const api = new ScriptedApi();
    api.lists.push({ items: [cm('a', '1')], rv: '5' });
    const inf = new Informer(api.asKube(), 'ConfigMap', { namespace: 'ns' });
    const seen = record(inf);
    const errors: unknown[] = [];
    inf.onError((e) => errors.push(e));
    await inf.start();
    await api.watchOpened(1);
    api.watches[0]!.onEvent('ADDED', cm('b', '7'));
    api.watches[0]!.onEvent('BOOKMARK', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { resourceVersion: '9' } });
    api.watches[0]!.onDone(new Error('connection reset'));
    await api.watchOpened(2);
    assert.equal(inf.relists, 0);
    assert.equal(api.watches[1]!.rv, '9', 'resumes after the bookmark');
    assert.equal(errors.length, 1);
    api.watches[1]!.onEvent('DELETED', cm('a', '10'));
    assert.deepEqual(seen, ['added a@1', 'added b@7', 'deleted a@10']);
    await inf.stop();
  });

  it('stop() while a reconnecting watch is being opened closes that watch too, and nothing is emitted after it', async () => {
    const api = new ScriptedApi();
    api.lists.push({ items: [cm('a', '1')], rv: '5' });
    const inf = new Informer(api.asKube(), 'ConfigMap', { namespace: 'ns' });
    const seen = record(inf);
    await inf.start();
    await api.watchOpened(1);
    // The server ends the watch; the informer reconnects, and the new watch request is still in flight when stop() comes.
    let open!: () => void;
    api.opening = new Promise((resolve) => (open = resolve));
    api.watches[0]!.onDone(undefined);
    await api.watchOpened(2);
    await inf.stop();
    open();
    await api.opening;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(api.watches.map((w) => w.closed), [true, true], 'every watch the informer opened is closed');
    api.watches[1]!.onEvent('ADDED', cm('b', '6'));
    assert.deepEqual(seen, ['added a@1']);
  });

  it('a clean close (the server ending the watch) resumes at once from the last version', async () => {
    const api = new ScriptedApi();
    api.lists.push({ items: [], rv: '3' });
    const inf = new Informer(api.asKube(), 'ConfigMap');
    await inf.start();
    await api.watchOpened(1);
    api.watches[0]!.onEvent('ADDED', cm('x', '4'));
    api.watches[0]!.onDone(undefined);
    await api.watchOpened(2);
    assert.equal(api.watches[1]!.rv, '4');
    assert.equal(inf.relists, 0);
    await inf.stop();
  });
});
