/**
 * `kubeproof clean --kubeconfig F [--context C]` is guarded as `run` is: a context that is not
 * on the allowlist is refused from the kubeconfig alone (exit 2), before any request reaches
 * its server — undoing faults writes to the cluster. The servers here record every request.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakeApiServer, kubeconfigYaml, VERSION_ROUTE, type FakeApi } from './support.js';
import { clean } from '../../src/cli/clean.js';
import { BadInputError } from '../../src/errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'kp-clean-guard-'));
const silent = () => undefined;

/** The CLI in a child process (async: the fake servers live in this one and must answer meanwhile). */
function kubeproof(args: string[], cwd = tmp): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/kubeproof.js'), ...args], { cwd, env: { ...process.env, HOME: tmp, KUBECONFIG: join(tmp, 'none') } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('kubeproof clean: the context guard, before any request', () => {
  let prod: FakeApi;
  let staging: FakeApi;
  const seen: Record<string, string[]> = { prod: [], staging: [] };
  let config: string;

  before(async () => {
    prod = await fakeApiServer(VERSION_ROUTE, (req) => void seen.prod!.push(`${req.method} ${req.url}`) as unknown as boolean);
    staging = await fakeApiServer(VERSION_ROUTE, (req) => void seen.staging!.push(`${req.method} ${req.url}`) as unknown as boolean);
    config = join(tmp, 'kubeconfig');
    writeFileSync(config, kubeconfigYaml([{ name: 'prod-eu', server: prod.url, token: 'secret' }, { name: 'staging-eu', server: staging.url }], 'prod-eu'));
  });

  after(() => {
    prod.server.close();
    staging.server.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('refuses a context not on the allowlist (given, or current), exit 2, and its server receives nothing', async () => {
    for (const args of [['--context', 'prod-eu'], [], ['--all', '--context', 'prod-eu'], ['--run', '20250101-000000-abcd', '--context', 'prod-eu']]) {
      const r = await kubeproof(['clean', '--kubeconfig', config, ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}`);
      assert.match(r.out, /context "prod-eu" is not on the allowlist/);
      assert.match(r.out, /--allow-context prod-eu/);
    }
    // The library call too (what the CLI runs).
    await assert.rejects(clean({ all: true, kubeconfig: config, context: 'prod-eu', allowContexts: ['staging-*'], log: silent }), (err: unknown) => err instanceof BadInputError && err.exitCode === 2);
    assert.deepEqual(seen.prod, [], 'a request reached the refused context');
  });

  it('an allowed context is reached: by --allow-context, by kubeproof.config.json, by --config', async () => {
    const r = await kubeproof(['clean', '--kubeconfig', config, '--context', 'staging-eu', '--allow-context', 'staging-*']);
    assert.doesNotMatch(r.out, /not on the allowlist/, r.out);
    assert.ok(seen.staging!.some((l) => l.startsWith('GET /version')), `staging saw: ${seen.staging!.join(', ')}`);
    assert.deepEqual(seen.prod, []);
    const before = seen.staging!.length;
    writeFileSync(join(tmp, 'kubeproof.config.json'), JSON.stringify({ allowContexts: ['staging-eu'] }));
    const r2 = await kubeproof(['clean', '--kubeconfig', config, '--context', 'staging-eu']);
    assert.doesNotMatch(r2.out, /not on the allowlist/, r2.out);
    assert.ok(seen.staging!.length > before, 'kubeproof.config.json did not allow the context');
    const other = join(tmp, 'other.json');
    writeFileSync(other, JSON.stringify({ allowContexts: ['prod-*'] }));
    const r3 = await kubeproof(['clean', '--kubeconfig', config, '--config', other]);
    assert.doesNotMatch(r3.out, /not on the allowlist/, r3.out);
    assert.ok(seen.prod!.length > 0, '--config did not allow the context');
    rmSync(join(tmp, 'kubeproof.config.json'));
  });

  it('kind-* contexts are allowed by default, as for run', async () => {
    const kind = join(tmp, 'kind-kubeconfig');
    writeFileSync(kind, kubeconfigYaml([{ name: 'kind-c15', server: staging.url }], 'kind-c15'));
    const before = seen.staging!.length;
    const r = await kubeproof(['clean', '--kubeconfig', kind]);
    assert.doesNotMatch(r.out, /not on the allowlist/, r.out);
    assert.ok(seen.staging!.length > before);
  });
});
