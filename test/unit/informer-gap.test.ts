/**
 * A time without a watch is a gap the informer reports once a watch is open again: the API
 * server refusing connections (a restart), then 410 Gone for the old version (the restarted
 * server's cache starts later), a relist, and the watch back. A routine close that resumes at
 * once is no gap; nor is a refused request before the first list (start() fails instead).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Informer, type WatchGap } from '../../src/kube/informer.js';
import { ApiError } from '../../src/kube/errors.js';
import type { Kube } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/types.js';

type OnEvent = (phase: string, obj: KubeObject) => void;
type OnDone = (err: unknown) => void;

const cm = (name: string, rv: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion: rv } });

/** An API server the test scripts: a queue of lists, and for each watch request an answer (open, refuse, 410). */
class FlakyApi {
  lists: Array<{ items: KubeObject[]; rv: string }> = [];
  /** How the next watch requests are answered, in order; then they open. */
  answers: Array<'refuse' | 'gone'> = [];
  opened: Array<{ rv: string; onEvent: OnEvent; onDone: OnDone }> = [];
  requests = 0;
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  asKube(): Kube {
    return {
      list: async () => {
        const l = this.lists.shift();
        if (!l) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
        return { items: l.items, metadata: { resourceVersion: l.rv } };
      },
      watch: async (_path: string, params: { resourceVersion?: string }, onEvent: OnEvent, onDone: OnDone) => {
        this.requests++;
        const answer = this.answers.shift();
        // As the client does: a request that fails calls done before watch() resolves.
        if (answer === 'refuse') onDone(new Error('connect ECONNREFUSED 127.0.0.1:6443'));
        else if (answer === 'gone') onDone(new ApiError(410, 'Expired', 'too old resource version'));
        else {
          this.opened.push({ rv: String(params.resourceVersion ?? ''), onEvent, onDone });
          for (const w of this.waiters.filter((w) => w.n <= this.opened.length)) w.resolve();
          this.waiters = this.waiters.filter((w) => w.n > this.opened.length);
        }
        return () => undefined;
      },
    } as unknown as Kube;
  }

  /** Resolves once the n-th watch is open (an event, not a timer). */
  watchOpen(n: number): Promise<void> {
    if (this.opened.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

describe('informer gaps', () => {
  it('an API server that refuses, then answers 410 for the old version: one gap, relisted, and the watch resumes from the relist', async () => {
    const api = new FlakyApi();
    api.lists.push({ items: [cm('a', '1')], rv: '5' });
    const inf = new Informer(api.asKube(), 'ConfigMap', { namespace: 'ns' });
    const gaps: WatchGap[] = [];
    inf.onGap((g) => gaps.push(g));
    await inf.start();
    await api.watchOpen(1);
    // The server goes away: the stream breaks, two requests are refused, the restarted server has no version 5 any more.
    api.answers.push('refuse', 'refuse', 'gone');
    api.lists.push({ items: [cm('a', '9'), cm('b', '10')], rv: '12' });
    const brokeAt = performance.timeOrigin + performance.now();
    const reported = new Promise<WatchGap>((resolve) => inf.onGap(resolve));
    api.opened[0]!.onDone(new Error('socket hang up'));
    await api.watchOpen(2);
    await reported;
    assert.equal(gaps.length, 1, JSON.stringify(gaps));
    const g = gaps[0]!;
    assert.equal(g.kind, 'ConfigMap');
    assert.equal(g.relisted, true);
    assert.ok(g.from >= brokeAt - 1 && g.to > g.from, JSON.stringify(g));
    assert.match(g.error ?? '', /too old|ECONNREFUSED/);
    assert.equal(api.opened[1]!.rv, '12', 'the watch resumes from the relist');
    assert.deepEqual(inf.list().map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort(), ['a@9', 'b@10']);
    await inf.stop();
  });

  it('a resumed watch whose first event says its version expired (410, in a 200 stream): the same gap again, relisted', async () => {
    const api = new FlakyApi();
    api.lists.push({ items: [cm('a', '1')], rv: '5' });
    const inf = new Informer(api.asKube(), 'ConfigMap', { namespace: 'ns' });
    const gaps: WatchGap[] = [];
    inf.onGap((g) => gaps.push(g));
    await inf.start();
    await api.watchOpen(1);
    api.answers.push('refuse');
    const first = new Promise<WatchGap>((resolve) => inf.onGap(resolve));
    api.opened[0]!.onDone(new Error('socket hang up'));
    await api.watchOpen(2);
    await first;
    // The restarted server's cache starts after version 5: the watch it accepted says so and ends.
    api.lists.push({ items: [cm('a', '8')], rv: '9' });
    const second = new Promise<WatchGap>((resolve) => inf.onGap(resolve));
    api.opened[1]!.onEvent('ERROR', { code: 410, message: 'too old resource version: 5 (8)' } as unknown as KubeObject);
    api.opened[1]!.onDone(undefined);
    await api.watchOpen(3);
    await second;
    assert.deepEqual(gaps.map((g) => g.relisted), [false, true]);
    assert.equal(gaps[1]!.from, gaps[0]!.from, 'one outage, reported again with the relist');
    assert.equal(api.opened[2]!.rv, '9');
    await inf.stop();
  });

  it('a routine close resumed at once is no gap', async () => {
    const api = new FlakyApi();
    api.lists.push({ items: [], rv: '3' });
    const inf = new Informer(api.asKube(), 'ConfigMap');
    const gaps: WatchGap[] = [];
    inf.onGap((g) => gaps.push(g));
    await inf.start();
    await api.watchOpen(1);
    api.opened[0]!.onDone(undefined);
    await api.watchOpen(2);
    // The gap would be reported as the open watch is handed back: past that, none may come.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(gaps, []);
    await inf.stop();
  });

  it('an error event (not 410) ends the stream with backoff and counts as a gap, not as a routine close', async () => {
    const api = new FlakyApi();
    api.lists.push({ items: [], rv: '3' });
    const inf = new Informer(api.asKube(), 'ConfigMap');
    const gaps: WatchGap[] = [];
    inf.onGap((g) => gaps.push(g));
    await inf.start();
    await api.watchOpen(1);
    const reported = new Promise<WatchGap>((resolve) => inf.onGap(resolve));
    api.opened[0]!.onEvent('ERROR', { code: 500, message: 'etcdserver: request timed out' } as unknown as KubeObject);
    api.opened[0]!.onDone(undefined);
    await api.watchOpen(2);
    await reported;
    assert.equal(gaps.length, 1);
    assert.equal(gaps[0]!.relisted, false);
    assert.match(gaps[0]!.error ?? '', /etcdserver/);
    assert.equal(api.opened[1]!.rv, '3');
    await inf.stop();
  });
});
