import { isRefusal } from '../../src/cluster/providers/provider.js';
import { undoOne } from '../../src/ledger/undo-ops.js';
import type { Kube } from '../../src/kube/client.js';
import type { Node } from '../../src/kube/types.js';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import YAML from 'yaml';
import { ExistingProvider, nodeCommandLine } from '../../src/cluster/providers/existing.js';
import { BadInputError, EnvironmentError } from '../../src/errors.js';
import { silentLog } from '../../src/log.js';
import { setEnv, fakeApiServer, kubeconfigYaml, VERSION_ROUTE, type FakeApi } from './support.js';


/** Just enough API server: /version and the node list (403 for a token named "no-nodes"). */
function fakeApi(): Promise<FakeApi> {
  return fakeApiServer(
    {
      ...VERSION_ROUTE,
      '/api/v1/nodes': {
        kind: 'NodeList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '1' },
        items: [{ metadata: { name: 'worker-2' } }, { metadata: { name: 'control-plane' } }, { metadata: { name: 'worker-1' } }],
      },
    },
    (req, res, path) => {
      if (path !== '/api/v1/nodes' || req.headers.authorization !== 'Bearer no-nodes') return false;
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'nodes is forbidden: User "viewer" cannot list resource "nodes"' }));
      return true;
    },
  );
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
  api = await fakeApi();
  config = join(tmp, 'config');
  await writeFile(
    config,
    kubeconfigYaml(
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

function nodeNamed(name: string): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name } };
}

/** Records merge patches; finds nothing (so an undo's annotation cleanup has nothing to do). */
function recordingKube(patches: unknown[]): Kube {
  return { mergePatch: async (...args: unknown[]) => void patches.push(args.filter((a) => a !== undefined)), find: async () => undefined } as unknown as Kube;
}

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
      othersChangeNodes: true,
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
    await writeFile(other, kubeconfigYaml([{ name: 'other', server: 'https://other.example:6443' }]));
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
    const m = cluster.parts.nodeControl.mechanism('silent', nodeNamed('worker-1'));
    assert.ok(!isRefusal(m));
    // The undo is what the ledger records before the stop runs; any process runs it later.
    assert.deepEqual(m.undo, { op: 'run', command: ['sh', '-c', `echo "start worker-1" >> ${out}`], env: { KUBEPROOF_NODE: 'worker-1' } });
    const patches: unknown[] = [];
    await m.stop(recordingKube(patches), { 'fault.kubeproof.io/x': 'run' });
    assert.deepEqual(patches, [['Node', 'worker-1', { metadata: { annotations: { 'fault.kubeproof.io/x': 'run' } } }]]);
    const undone = await undoOne(recordingKube(patches), { id: 'x', runId: 'run', fault: 'stop node', target: { kind: 'Node', name: 'worker-1' }, undo: m.undo, recordedAt: '', owner: { host: '', pid: 0 } });
    assert.equal(undone.status, 'reverted');
    assert.equal(await readFile(out, 'utf8'), 'stop worker-1 worker-1\nstart worker-1\n');
    assert.ok(isRefusal(cluster.parts.nodeControl.mechanism('silent', nodeNamed('x; rm -rf /'))));
    assert.ok(isRefusal(cluster.parts.nodeControl.mechanism('not-ready', nodeNamed('worker-1'))));
    assert.ok(isRefusal(cluster.parts.containerRuntime));
  });

  it('reports a failing node command as an environment error', async () => {
    const cluster = await new ExistingProvider({ kubeconfigPath: config, context: 'staging-eu', nodeCommands: { stop: 'echo nope >&2; exit 7', start: 'true' } }).up({ log: silentLog });
    const m = cluster.parts.nodeControl.mechanism('silent', nodeNamed('worker-1'));
    assert.ok(!isRefusal(m));
    await assert.rejects(m.stop(recordingKube([]), {}), (err: unknown) => err instanceof EnvironmentError && /exited 7/.test(err.message) && /nope/.test(err.message));
  });

  it('refuses a context not on the allowlist from the kubeconfig alone: its server receives no request (exit 2, not 3)', async () => {
    const seen: string[] = [];
    const api = await fakeApiServer(VERSION_ROUTE, (req) => void seen.push(`${req.method} ${req.url}`) as unknown as boolean);
    try {
      const file = join(tmp, 'prod');
      await writeFile(file, kubeconfigYaml([{ name: 'prod-eu', server: api.url, token: 'secret' }], 'prod-eu'));
      await assert.rejects(new ExistingProvider({ kubeconfigPath: file, allowContexts: ['staging-*'] }).up({ log: silentLog }), (err: unknown) => err instanceof BadInputError && err.exitCode === 2 && /prod-eu/.test(err.message));
      assert.deepEqual(seen, []);
      // The same server is reached once the context is allowed: the recorder works.
      await new ExistingProvider({ kubeconfigPath: file, allowContexts: ['prod-*'] }).up({ log: silentLog }).catch(() => undefined);
      assert.ok(seen.length > 0);
    } finally {
      api.server.close();
    }
  });

  it('stops with exit 3, naming server and context, when the API server is unreachable', async () => {
    const url = `http://127.0.0.1:${await unusedPort()}`;
    const dead = join(tmp, 'dead');
    await writeFile(dead, kubeconfigYaml([{ name: 'gone', server: url }], 'gone'));
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
