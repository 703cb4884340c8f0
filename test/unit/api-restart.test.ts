/**
 * An API server restarting while kubeproof talks to it (a game day's control-plane restart):
 * it refuses connections until it listens again. A request waits for it (bounded), so a read,
 * an undo or a namespace deletion issued meanwhile lands once it is back instead of failing the
 * scenario ("cleanup incomplete"); one that never comes back is still reported unreachable.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kube } from '../../src/kube/client.js';
import { EnvironmentError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'kubeproof-api-restart-'));
const seen: string[] = [];

function apiServer(): Server {
  return createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.method === 'GET' ? JSON.stringify({ kind: 'NamespaceList', metadata: { resourceVersion: '9' }, items: [{ metadata: { name: 'default' } }] }) : JSON.stringify({ kind: 'Node', metadata: { name: 'node-1' } }));
  });
}

const listen = (s: Server, port = 0) => new Promise<number>((resolve) => s.listen(port, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));
const close = (s: Server) => new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve())));

function kubeAt(port: number): Kube {
  const file = join(dir, `kubeconfig-${port}`);
  writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n`);
  return Kube.fromKubeconfig(file);
}

describe('an API server that restarts while kubeproof talks to it', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a read and a write issued while it refuses connections land once it listens again', async () => {
    let server = apiServer();
    const port = await listen(server);
    const kube = kubeAt(port);
    assert.equal((await kube.list('Namespace')).items.length, 1);
    await close(server); // down: connections refused
    const read = kube.list('Namespace');
    const write = kube.mergePatch('Node', 'node-1', undefined, { metadata: { labels: { a: 'b' } } });
    // Back on the same port 1.5 s later, as a restarted kube-apiserver is (an event of the test's own making, not a wait).
    const back = new Promise<void>((resolve) =>
      setTimeout(() => {
        server = apiServer();
        void listen(server, port).then(() => resolve());
      }, 1500),
    );
    const t0 = Date.now();
    const [list, patched] = await Promise.all([read, write]);
    await back;
    assert.equal(list.items[0]!.metadata?.name, 'default');
    assert.equal(patched.metadata?.name, 'node-1');
    assert.ok(Date.now() - t0 >= 1400, 'answered only after the server was back');
    assert.ok(seen.some((l) => l.startsWith('PATCH /api/v1/nodes/node-1')));
    await close(server);
  });

  it('one that stays down is reported unreachable once the bound has passed', async () => {
    const server = apiServer();
    const port = await listen(server);
    await close(server);
    const kube = kubeAt(port);
    const was = Kube.reconnectWithinMs;
    Kube.reconnectWithinMs = 1000;
    try {
      const t0 = Date.now();
      await assert.rejects(kube.list('Namespace'), (err: unknown) => err instanceof EnvironmentError && /is not reachable: .*ECONNREFUSED/.test((err as Error).message));
      const took = Date.now() - t0;
      assert.ok(took >= 500 && took < 3000, `gave up after ${took} ms`);
    } finally {
      Kube.reconnectWithinMs = was;
    }
  });
});
