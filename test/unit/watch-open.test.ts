/**
 * A watch whose response never starts (an API server that took the connection and says
 * nothing, as one in the middle of a restart can) fails after Kube.watchOpenMs instead of
 * holding its caller for undici's 300 s: Informer.start() rejects with what it waited for; a
 * watch that opens late is aborted and delivers nothing.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { Kube } from '../../src/kube/client.js';
import { Informer } from '../../src/kube/informer.js';
import { EnvironmentError } from '../../src/errors.js';
import { fakeApiServer, kubeconfigYaml, type FakeApi } from './support.js';

const LIST = { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: [] };

describe('a watch that never opens', () => {
  let api: FakeApi;
  let tmp: string;
  let kube: Kube;
  const held: ServerResponse[] = [];
  let answerWatches = false;
  const saved = Kube.watchOpenMs;

  before(async () => {
    api = await fakeApiServer({ '/api/v1/namespaces/ns/configmaps': LIST }, (req, res, path) => {
      if (path !== '/api/v1/namespaces/ns/configmaps' || !req.url?.includes('watch=true')) return false;
      // Holds the request: no status line, no headers, until the test ends (or answers late).
      held.push(res);
      if (answerWatches) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(JSON.stringify({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: 'ns', resourceVersion: '8' } } }) + '\n');
      }
      return true;
    });
    tmp = await mkdtemp(join(tmpdir(), 'kubeproof-watch-open-'));
    const cfg = join(tmp, 'kubeconfig');
    await writeFile(cfg, kubeconfigYaml([{ name: 'fake', server: api.url }], 'fake'));
    kube = Kube.fromKubeconfig(cfg, 'fake');
    Kube.watchOpenMs = 500;
  });
  after(async () => {
    Kube.watchOpenMs = saved;
    for (const r of held) r.destroy();
    api.server.closeAllConnections();
    await new Promise((r) => api.server.close(r));
    await rm(tmp, { recursive: true, force: true });
  });

  it('fails the attempt after Kube.watchOpenMs, naming the watch, and Informer.start() rejects with it', async () => {
    const t0 = Date.now();
    const informer = new Informer(kube, 'ConfigMap', { namespace: 'ns' });
    await assert.rejects(informer.start(), (err: unknown) => err instanceof EnvironmentError && /a watch of \/api\/v1\/namespaces\/ns\/configmaps .* did not open within 0.5 s/.test(err.message));
    const took = Date.now() - t0;
    assert.ok(took >= 450 && took < 5_000, `gave up after ${took} ms`);
    await informer.stop();
  });

  it('a watch abandoned that way delivers nothing if it opens later', async () => {
    const events: string[] = [];
    const done: unknown[] = [];
    // Opens only after the deadline: headers and one event come with the next request's arrival.
    const pending = kube.watch('/api/v1/namespaces/ns/configmaps', { resourceVersion: '7' }, (phase) => events.push(phase), (err) => done.push(err));
    await assert.rejects(pending, EnvironmentError);
    const first = held.at(-1)!;
    first.writeHead(200, { 'Content-Type': 'application/json' });
    first.write(JSON.stringify({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: 'ns', resourceVersion: '8' } } }) + '\n');
    // A second, answered watch on the same server proves the late bytes had time to arrive.
    answerWatches = true;
    const seen: string[] = [];
    let opened!: () => void;
    const gotEvent = new Promise<void>((r) => (opened = r));
    const stop = await kube.watch('/api/v1/namespaces/ns/configmaps', { resourceVersion: '7' }, (phase) => {
      seen.push(phase);
      opened();
    }, () => undefined);
    await gotEvent;
    stop();
    assert.deepEqual(seen, ['ADDED']);
    assert.deepEqual(events, [], 'the abandoned watch delivered an event');
    assert.deepEqual(done, [], 'the abandoned watch called its caller back');
  });
});
