import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import YAML from 'yaml';
import { ExistingProvider, nodeCommandLine } from '../../src/cluster/existing.js';
import { BadInputError, EnvironmentError } from '../../src/errors.js';
import { silentLog } from '../../src/log.js';

const saved = new Map<string, string | undefined>();
function setEnv(vars: Record<string, string | undefined>) {
  for (const [k, v] of Object.entries(vars)) {
    if (!saved.has(k)) saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}
afterEach(() => {
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  saved.clear();
});

/** Just enough API server: /version and the node list (403 for a token named "no-nodes"). */
function fakeApiServer(): Promise<{ server: Server; url: string }> {
  const routes: Record<string, unknown> = {
    '/version': { major: '1', minor: '37', gitVersion: 'v1.37.2', gitCommit: 'fake', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.25.0', compiler: 'gc', platform: 'linux/amd64' },
    '/api/v1/nodes': {
      kind: 'NodeList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '1' },
      items: [{ metadata: { name: 'worker-2' } }, { metadata: { name: 'control-plane' } }, { metadata: { name: 'worker-1' } }],
    },
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/api/v1/nodes' && req.headers.authorization === 'Bearer no-nodes') {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'nodes is forbidden: User "viewer" cannot list resource "nodes"' }));
      return;
    }
    const body = req.method === 'GET' ? routes[path] : undefined;
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body ?? { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: `${req.url} not found` }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

function kubeconfig(contexts: Array<{ name: string; server: string; token?: string }>, current?: string): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: contexts.map((c) => ({ name: c.name, cluster: { server: c.server, 'insecure-skip-tls-verify': true } })),
    users: contexts.map((c) => ({ name: c.name, user: { token: c.token ?? 'fake' } })),
    contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name } })),
    ...(current ? { 'current-context': current } : {}),
  });
}

async function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

let tmp: string;
let api: { server: Server; url: string };
let config: string;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kubeproof-existing-test-'));
  api = await fakeApiServer();
  config = join(tmp, 'config');
  await writeFile(
    config,
    kubeconfig(
      [
        { name: 'staging-eu', server: api.url },
        { name: 'viewer', server: api.url, token: 'no-nodes' },
      ],
      'staging-eu',
    ),
  );
});
after(async () => {
  api.server.closeAllConnections();
  await new Promise((r) => api.server.close(r));
  await rm(tmp, { recursive: true, force: true });
});

describe('ExistingProvider', () => {
  it('describes the cluster behind a context and leaves it alone on down()', async () => {
    const cluster = await new ExistingProvider({ kubeconfigPath: config, context: 'staging-eu' }).up({ log: silentLog });
    assert.equal(cluster.kind, 'existing');
    assert.equal(cluster.name, 'staging-eu');
    assert.equal(cluster.context, 'staging-eu');
    assert.equal(cluster.kubeconfigPath, config);
    assert.equal(cluster.apiServerUrl, api.url);
    assert.equal(cluster.serverVersion, 'v1.37.2');
    assert.deepEqual(cluster.nodes, ['control-plane', 'worker-1', 'worker-2']);
    assert.deepEqual(cluster.capabilities, {
      realContainers: true,
      realNodes: ['control-plane', 'worker-1', 'worker-2'],
      canStopNode: false,
      readinessMechanism: 'app-endpoint',
      metricsSource: 'unknown',
      simulatedNodes: false,
    });
    assert.equal(cluster.timings.source, 'assumed-upstream-defaults');
    assert.equal(cluster.timings.defaultNotReadyTolerationSeconds, 300);
    await assert.rejects(cluster.addNodes([{ name: 'n' }]), BadInputError);
    await cluster.down();
    assert.ok(existsSync(config), 'the user kubeconfig is untouched');
  });

  it("uses KUBECONFIG and its current context when none is named", async () => {
    setEnv({ KUBECONFIG: config });
    const cluster = await new ExistingProvider().up({ log: silentLog });
    assert.equal(cluster.context, 'staging-eu');
    assert.equal(cluster.kubeconfigPath, config);
  });

  it('merges a KUBECONFIG of several files into one file of its own, removed by down()', async () => {
    const other = join(tmp, 'other');
    await writeFile(other, kubeconfig([{ name: 'other', server: 'https://other.example:6443' }]));
    setEnv({ KUBECONFIG: [other, config].join(delimiter) });
    const cluster = await new ExistingProvider({ context: 'staging-eu' }).up({ log: silentLog });
    assert.notEqual(cluster.kubeconfigPath, config);
    const merged = YAML.parse(await readFile(cluster.kubeconfigPath, 'utf8')) as { 'current-context': string; contexts: Array<{ name: string }> };
    assert.equal(merged['current-context'], 'staging-eu');
    assert.ok(merged.contexts.some((c) => c.name === 'staging-eu'));
    await cluster.down();
    assert.equal(existsSync(cluster.kubeconfigPath), false);
  });

  it('can stop nodes when it is given commands to do so', async () => {
    const out = join(tmp, 'node-commands.log');
    const cluster = await new ExistingProvider({
      kubeconfigPath: config,
      context: 'staging-eu',
      nodeCommands: { stop: `echo "stop {node} $KUBEPROOF_NODE" >> ${out}`, start: `echo "start {node}" >> ${out}` },
    }).up({ log: silentLog });
    assert.equal(cluster.capabilities.canStopNode, true);
    await cluster.stopNode('worker-1');
    await cluster.startNode('worker-1');
    assert.equal(await readFile(out, 'utf8'), 'stop worker-1 worker-1\nstart worker-1\n');
    assert.throws(() => nodeCommandLine('stop {node}', 'x; rm -rf /'), BadInputError);
  });

  it('reports a failing node command as an environment error', async () => {
    const cluster = await new ExistingProvider({ kubeconfigPath: config, context: 'staging-eu', nodeCommands: { stop: 'echo nope >&2; exit 7', start: 'true' } }).up({ log: silentLog });
    await assert.rejects(cluster.stopNode('worker-1'), (err: unknown) => err instanceof EnvironmentError && /exit code 7/.test(err.message) && /nope/.test(err.message));
  });

  it('stops with exit 3, naming server and context, when the API server is unreachable', async () => {
    const url = `http://127.0.0.1:${await unusedPort()}`;
    const dead = join(tmp, 'dead');
    await writeFile(dead, kubeconfig([{ name: 'gone', server: url }], 'gone'));
    await assert.rejects(new ExistingProvider({ kubeconfigPath: dead }).up({ log: silentLog }), (err: unknown) => {
      assert.ok(err instanceof EnvironmentError);
      assert.equal(err.exitCode, 3);
      assert.ok(err.message.includes(url), err.message);
      assert.match(err.message, /context gone/);
      return true;
    });
  });

  it('stops with exit 3 for a context the kubeconfig does not have', async () => {
    await assert.rejects(new ExistingProvider({ kubeconfigPath: config, context: 'prod-eu' }).up({ log: silentLog }), (err: unknown) => {
      assert.ok(err instanceof EnvironmentError);
      assert.equal(err.exitCode, 3);
      assert.match(err.message, /context "prod-eu" is not in kubeconfig/);
      assert.match(err.hint ?? '', /staging-eu/);
      return true;
    });
  });

  it('stops with exit 3 when there is no kubeconfig at all', async () => {
    setEnv({ KUBECONFIG: join(tmp, 'missing') });
    await assert.rejects(new ExistingProvider().up({ log: silentLog }), (err: unknown) => err instanceof EnvironmentError && /no kubeconfig/.test(err.message));
  });

  it('stops with exit 3 when the credentials may not list nodes', async () => {
    await assert.rejects(
      new ExistingProvider({ kubeconfigPath: config, context: 'viewer' }).up({ log: silentLog }),
      (err: unknown) => err instanceof EnvironmentError && err.exitCode === 3 && /may not list nodes/.test(err.message),
    );
  });
});
