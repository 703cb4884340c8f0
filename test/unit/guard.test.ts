import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { checkFingerprint, contextMatches, guardContext, loadProjectConfig } from '../../src/cluster/providers/guard.js';
import { BadInputError, EnvironmentError } from '../../src/errors.js';
import { Kube } from '../../src/kube/client.js';
import { fakeApiServer, type FakeApi } from './support.js';

/** An API server whose kube-system namespace has whatever uid the test sets; counts requests. */
const fake = { uid: 'uid-1', requests: 0 };
function fakeApi(): Promise<FakeApi> {
  return fakeApiServer({}, (req, res, path) => {
    fake.requests += 1;
    if (req.method !== 'GET' || path !== '/api/v1/namespaces/kube-system') return false;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system', uid: fake.uid } }));
    return true;
  });
}

let tmp: string;
let api: FakeApi;
let kube: Kube;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kubeproof-guard-test-'));
  api = await fakeApi();
  const config = join(tmp, 'kubeconfig');
  await writeFile(
    config,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 'fake' } }],
      contexts: [{ name: 'any', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'any',
    }),
  );
  kube = Kube.fromKubeconfig(config);
});
after(async () => {
  api.server.closeAllConnections();
  await new Promise((r) => api.server.close(r));
  await rm(tmp, { recursive: true, force: true });
});

describe('guardContext', () => {
  it('always allows a local cluster and fingerprints it', async () => {
    fake.uid = 'uid-1';
    const fp = await guardContext({ kube, clusterKind: 'local', context: 'kubeproof-local', allowContexts: [] });
    assert.deepEqual(fp, { context: 'kubeproof-local', server: api.url, kubeSystemUid: 'uid-1' });
  });

  it('allows kind-* contexts by default', async () => {
    const fp = await guardContext({ kube, clusterKind: 'existing', context: 'kind-x', allowContexts: [] });
    assert.equal(fp.context, 'kind-x');
  });

  it('refuses any other context, before sending it a single request', async () => {
    const before = fake.requests;
    await assert.rejects(guardContext({ kube, clusterKind: 'existing', context: 'prod', allowContexts: ['staging', 'prod-*'] }), (err: unknown) => {
      assert.ok(err instanceof BadInputError);
      assert.equal(err.exitCode, 2);
      assert.equal(err.message, 'context "prod" is not on the allowlist');
      assert.match(err.hint ?? '', /--allow-context prod\b/);
      assert.match(err.hint ?? '', /allowContexts.*kubeproof\.config\.json/);
      return true;
    });
    assert.equal(fake.requests, before);
  });

  it('allows exact names and * globs from the allowlist', async () => {
    assert.equal((await guardContext({ kube, clusterKind: 'existing', context: 'staging-eu', allowContexts: ['staging-*'] })).context, 'staging-eu');
    assert.equal((await guardContext({ kube, clusterKind: 'existing', context: 'game-day', allowContexts: ['game-day'] })).context, 'game-day');
    await assert.rejects(guardContext({ kube, clusterKind: 'existing', context: 'pre-staging-eu', allowContexts: ['staging-*'] }), BadInputError);
  });

  it('matches globs literally apart from *', () => {
    assert.equal(contextMatches('staging-*', 'staging-'), true);
    assert.equal(contextMatches('*-eu', 'staging-eu'), true);
    assert.equal(contextMatches('a.b', 'axb'), false);
    assert.equal(contextMatches('arn:aws:eks:*:cluster/stage', 'arn:aws:eks:eu-west-1:cluster/stage'), true);
    assert.equal(contextMatches('staging', 'staging-eu'), false);
  });
});

describe('checkFingerprint', () => {
  it('passes while the cluster is the same and stops with exit 3 when it changed', async () => {
    fake.uid = 'uid-1';
    const fp = await guardContext({ kube, clusterKind: 'kind', context: 'kind-x', allowContexts: [] });
    await checkFingerprint(kube, fp);
    fake.uid = 'uid-2';
    await assert.rejects(checkFingerprint(kube, fp), (err: unknown) => {
      assert.ok(err instanceof EnvironmentError);
      assert.equal(err.exitCode, 3);
      assert.equal(err.message, 'the cluster behind context kind-x changed mid-run (kube-system uid uid-1 → uid-2); stopping');
      return true;
    });
  });
});

describe('loadProjectConfig', () => {
  async function project(name: string, content?: string): Promise<string> {
    const dir = join(tmp, name);
    await mkdir(dir, { recursive: true });
    if (content !== undefined) await writeFile(join(dir, 'kubeproof.config.json'), content);
    return dir;
  }

  it('is empty without kubeproof.config.json', async () => {
    assert.deepEqual(await loadProjectConfig(await project('none')), { allowContexts: [] });
  });

  it('reads allowContexts', async () => {
    assert.deepEqual(await loadProjectConfig(await project('ok', '{"allowContexts": ["staging-*", "game-day"]}')), { allowContexts: ['staging-*', 'game-day'] });
    assert.deepEqual(await loadProjectConfig(await project('other-keys', '{"reports": "out"}')), { allowContexts: [] });
  });

  it('names the file when it is malformed', async () => {
    const dir = await project('bad-json', '{"allowContexts": [');
    await assert.rejects(loadProjectConfig(dir), (err: unknown) => {
      assert.ok(err instanceof BadInputError);
      assert.equal(err.exitCode, 2);
      assert.equal(err.where?.file, join(dir, 'kubeproof.config.json'));
      assert.match(err.describe(), /kubeproof\.config\.json.*not valid JSON/);
      return true;
    });
    await assert.rejects(loadProjectConfig(await project('bad-type', '{"allowContexts": "staging"}')), (err: unknown) => err instanceof BadInputError && /must be a list/.test(err.message));
    await assert.rejects(loadProjectConfig(await project('bad-top', '["staging"]')), BadInputError);
  });
});
