import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  BINARY_NAMES,
  VERSION_SET_ID,
  checkGo,
  ensureBinaries,
  etcdWrapperGoMod,
  findBinaries,
  goAtLeast,
  kubernetesWrapperGoMod,
  verifyBinaries,
  versionLine,
  type BinaryName,
} from '../../src/cluster/build/binaries.js';
import { cacheRoot } from '../../src/cluster/paths.js';
import { EnvironmentError } from '../../src/errors.js';
import { withDirLock } from '../../src/cluster/lock.js';
import { COLD_BUILD_TOTAL_SECONDS, ETCD_VERSION, KUBERNETES_VERSION, KWOK_VERSION, METRICS_SERVER_VERSION, stagingVersion } from '../../src/cluster/build/versions.js';
import { setEnv } from './support.js';

const lockModule = new URL('../../src/cluster/lock.js', import.meta.url).href;


let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kubeproof-binaries-test-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('cacheRoot', () => {
  it('prefers $KUBEPROOF_CACHE, then $XDG_CACHE_HOME/kubeproof, then ~/.cache/kubeproof', () => {
    setEnv({ KUBEPROOF_CACHE: '/x/own', XDG_CACHE_HOME: '/x/xdg', HOME: '/x/home' });
    assert.equal(cacheRoot(), '/x/own');
    setEnv({ KUBEPROOF_CACHE: undefined });
    assert.equal(cacheRoot(), '/x/xdg/kubeproof');
    setEnv({ XDG_CACHE_HOME: undefined });
    assert.equal(cacheRoot(), '/x/home/.cache/kubeproof');
  });

  it('ignores an empty KUBEPROOF_CACHE and a relative XDG_CACHE_HOME (invalid per the XDG spec)', () => {
    setEnv({ KUBEPROOF_CACHE: '', XDG_CACHE_HOME: 'relative/cache', HOME: '/x/home' });
    assert.equal(cacheRoot(), '/x/home/.cache/kubeproof');
  });
});

/** The line each fake binary prints, as the real ones do. */
const VERSION_OUTPUT: Record<BinaryName, string> = {
  'kube-apiserver': `Kubernetes v${KUBERNETES_VERSION}`,
  'kube-controller-manager': `Kubernetes v${KUBERNETES_VERSION}`,
  'kube-scheduler': `Kubernetes v${KUBERNETES_VERSION}`,
  kubelet: `Kubernetes v${KUBERNETES_VERSION}`,
  'kube-proxy': `Kubernetes v${KUBERNETES_VERSION}`,
  kubectl: `Client Version: v${KUBERNETES_VERSION}\nKustomize Version: v5.8.1`,
  etcd: `etcd Version: ${ETCD_VERSION}\nGit SHA: Not provided (use ./build instead of go build)\nGo Version: go1.26.8`,
  kwok: `kwok version v${KWOK_VERSION} go1.26.8 (linux/amd64)`,
  kwokctl: `kwokctl version v${KWOK_VERSION} go1.26.8 (linux/amd64)`,
  'metrics-server': `v${METRICS_SERVER_VERSION}`,
};

/** A complete fake binary set (shell scripts printing their version) with a real manifest. */
async function fakeSet(cache: string): Promise<string> {
  const dir = join(cache, 'bin', VERSION_SET_ID);
  await mkdir(join(dir, 'kwok-kustomize', 'stage'), { recursive: true });
  const { createHash } = await import('node:crypto');
  const binaries: Record<string, unknown> = {};
  for (const name of BINARY_NAMES) {
    const body = `#!/bin/sh\ncat <<'EOF'\n${VERSION_OUTPUT[name]}\nEOF\n`;
    await writeFile(join(dir, name), body);
    await chmod(join(dir, name), 0o755);
    binaries[name] = { sha256: createHash('sha256').update(body).digest('hex'), size: Buffer.byteLength(body), version: VERSION_OUTPUT[name].split('\n')[0], buildSeconds: 1 };
  }
  const manifest = {
    schema: 1,
    versionSetId: VERSION_SET_ID,
    versions: { kubernetes: KUBERNETES_VERSION, etcd: ETCD_VERSION, kwok: KWOK_VERSION, metricsServer: METRICS_SERVER_VERSION },
    go: { version: 'go1.26.8', path: '/usr/local/go/bin/go' },
    builtAt: new Date().toISOString(),
    buildSeconds: 10,
    recipe: {},
    components: [],
    binaries,
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

describe('findBinaries', () => {
  it('finds a complete set, with absolute paths and the kwok kustomize copy', async () => {
    const cache = join(tmp, 'complete');
    const dir = await fakeSet(cache);
    const set = await findBinaries(cache);
    assert.ok(set);
    assert.equal(set.dir, dir);
    assert.equal(set.versionSetId, VERSION_SET_ID);
    assert.equal(set.path('kube-apiserver'), join(dir, 'kube-apiserver'));
    assert.equal(set.kwokKustomizeDir, join(dir, 'kwok-kustomize'));
    assert.deepEqual(set.versions, { kubernetes: KUBERNETES_VERSION, etcd: ETCD_VERSION, kwok: KWOK_VERSION, metricsServer: METRICS_SERVER_VERSION });
  });

  it('returns undefined for an empty cache', async () => {
    assert.equal(await findBinaries(join(tmp, 'nothing-here')), undefined);
  });

  it('returns undefined without manifest.json (an interrupted build)', async () => {
    const cache = join(tmp, 'no-manifest');
    const dir = await fakeSet(cache);
    await rm(join(dir, 'manifest.json'));
    assert.equal(await findBinaries(cache), undefined);
  });

  it('returns undefined when a binary is missing', async () => {
    const cache = join(tmp, 'missing-file');
    const dir = await fakeSet(cache);
    await rm(join(dir, 'kube-scheduler'));
    assert.equal(await findBinaries(cache), undefined);
  });

  it('returns undefined when a binary is not the size the manifest recorded (truncated copy)', async () => {
    const cache = join(tmp, 'truncated');
    const dir = await fakeSet(cache);
    await writeFile(join(dir, 'etcd'), '#!/bin/sh\n');
    assert.equal(await findBinaries(cache), undefined);
  });

  it('returns undefined when the kwok kustomize copy is missing', async () => {
    const cache = join(tmp, 'no-kustomize');
    const dir = await fakeSet(cache);
    await rm(join(dir, 'kwok-kustomize'), { recursive: true });
    assert.equal(await findBinaries(cache), undefined);
  });

  it('returns undefined for a manifest of another version set', async () => {
    const cache = join(tmp, 'other-set');
    const dir = await fakeSet(cache);
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    m.versionSetId = 'k8s-1.0.0_etcd-3.0.0_kwok-0.1.0_ms-0.1.0_deadbeef';
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
    assert.equal(await findBinaries(cache), undefined);
  });
});

describe('ensureBinaries', () => {
  it('returns a cached set without Go and without taking the lock', async () => {
    const cache = join(tmp, 'ensure-cached');
    const dir = await fakeSet(cache);
    setEnv({ PATH: join(tmp, 'empty-path') });
    const set = await ensureBinaries({ cacheDir: cache, log: () => assert.fail('a cached set must not log') });
    assert.equal(set.dir, dir);
    await assert.rejects(stat(join(cache, 'bin', `.lock-${VERSION_SET_ID}`)), { code: 'ENOENT' });
  });

  it('with nothing cached and no Go, fails with exit code 3 before building', async () => {
    const cache = join(tmp, 'ensure-no-go');
    setEnv({ PATH: join(tmp, 'empty-path') });
    await assert.rejects(ensureBinaries({ cacheDir: cache, log: () => {} }), (err: unknown) => {
      assert.ok(err instanceof EnvironmentError);
      assert.equal(err.exitCode, 3);
      return true;
    });
  });
});

describe('verifyBinaries', () => {
  it('passes a set whose hashes and versions match, and names the binary that was changed', async () => {
    const cache = join(tmp, 'verify');
    const dir = await fakeSet(cache);
    const set = (await findBinaries(cache))!;
    const ok = await verifyBinaries(set);
    assert.deepEqual(
      ok.filter((r) => !r.ok),
      [],
    );
    assert.equal(ok.length, BINARY_NAMES.length);
    await appendFile(join(dir, 'kwok'), '# tampered\n');
    const after = await verifyBinaries(set);
    const bad = after.filter((r) => !r.ok);
    assert.deepEqual(
      bad.map((r) => r.name),
      ['kwok'],
    );
    assert.match(bad[0]!.detail, /sha256/);
  });

  it('fails a binary whose version is not the pinned one', async () => {
    const cache = join(tmp, 'verify-version');
    const dir = await fakeSet(cache);
    // Same size and a recomputed hash, but the wrong version: rewrite the manifest entry to match.
    const body = `#!/bin/sh\necho "Kubernetes v0.0.0-master+\\$Format:%H\\$"\n`;
    await writeFile(join(dir, 'kube-proxy'), body);
    const { createHash } = await import('node:crypto');
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    m.binaries['kube-proxy'] = { ...m.binaries['kube-proxy'], sha256: createHash('sha256').update(body).digest('hex'), size: Buffer.byteLength(body) };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
    const r = (await verifyBinaries((await findBinaries(cache))!)).find((x) => x.name === 'kube-proxy')!;
    assert.equal(r.ok, false);
    assert.match(r.detail, /v0\.0\.0-master/);
  });
});

describe('withDirLock', () => {
  it('serialises two concurrent holders', async () => {
    const lock = join(tmp, 'locks', 'serial');
    const events: string[] = [];
    const holder = (id: string) =>
      withDirLock(
        lock,
        async () => {
          events.push(`${id}+`);
          await delay(150);
          events.push(`${id}-`);
          return id;
        },
        { pollMs: 20 },
      );
    const results = await Promise.all([holder('a'), holder('b')]);
    assert.deepEqual(results, ['a', 'b']);
    assert.equal(events.length, 4);
    // Each holder's end comes right after its own start: never both inside.
    assert.equal(events[0]!.slice(0, 1), events[1]!.slice(0, 1));
    assert.equal(events[2]!.slice(0, 1), events[3]!.slice(0, 1));
    await assert.rejects(stat(lock), { code: 'ENOENT' }, 'released after use');
  });

  it('releases the lock when the holder throws', async () => {
    const lock = join(tmp, 'locks', 'throws');
    await assert.rejects(withDirLock(lock, async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await withDirLock(lock, async () => 'again'), 'again');
  });

  function child(script: string): { proc: ReturnType<typeof spawn>; held: Promise<void>; exited: Promise<number | null> } {
    const proc = spawn(process.execPath, ['--input-type=module', '-e', `import { withDirLock } from ${JSON.stringify(lockModule)};\n${script}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const held = new Promise<void>((res, rej) => {
      proc.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && res());
      proc.once('exit', (code) => rej(new Error(`child exited (${code}) before holding the lock`)));
    });
    const exited = new Promise<number | null>((res) => proc.once('exit', res));
    return { proc, held, exited };
  }

  it('makes another process wait while a live one holds it', async () => {
    const lock = join(tmp, 'locks', 'cross-process');
    const c = child(`await withDirLock(${JSON.stringify(lock)}, async () => { console.log('held'); await new Promise((r) => setTimeout(r, 400)); });`);
    await c.held;
    const waitedFor: number[] = [];
    const t0 = Date.now();
    await withDirLock(lock, async () => undefined, { pollMs: 20, onWait: (o) => waitedFor.push(o?.pid ?? -1) });
    assert.deepEqual(waitedFor, [c.proc.pid]);
    assert.ok(Date.now() - t0 >= 200, 'waited for the holder');
    assert.equal(await c.exited, 0);
  });

  it('takes over the lock of a process that died holding it', async () => {
    const lock = join(tmp, 'locks', 'stale');
    // The child exits inside the critical section: its lock dir stays behind, owned by a dead pid.
    const c = child(`await withDirLock(${JSON.stringify(lock)}, async () => { console.log('held'); process.exit(0); });`);
    await c.held.catch(() => {});
    await c.exited;
    const owner = JSON.parse(await readFile(join(lock, 'owner.json'), 'utf8'));
    assert.equal(owner.pid, c.proc.pid, 'the dead child still owns the lock dir');
    let waited = false;
    const r = await Promise.race([
      withDirLock(lock, async () => 'took over', { pollMs: 20, onWait: () => (waited = true) }),
      delay(5000).then(() => 'hung'),
    ]);
    assert.equal(r, 'took over');
    assert.equal(waited, false, 'a dead owner is not waited for');
  });

  it('stops waiting when aborted', async () => {
    const lock = join(tmp, 'locks', 'abort');
    const ac = new AbortController();
    let release!: () => void;
    let held!: () => void;
    const acquired = new Promise<void>((r) => (held = r));
    const holding = withDirLock(lock, () => new Promise<void>((r) => ((release = r), held())));
    // Once the first holds the lock (its work has begun), not after a guess at how long that takes: under load it took longer than 20 ms and the second took the lock.
    await acquired;
    setTimeout(() => ac.abort(new Error('stop')), 50);
    await assert.rejects(withDirLock(lock, async () => 'never', { signal: ac.signal, pollMs: 10 }), /stop/);
    release();
    await holding;
  });
});

describe('kubernetesWrapperGoMod', () => {
  const upstream = `// This is a generated file. Do not edit directly.

module k8s.io/kubernetes

go 1.26.0

godebug default=go1.26

require (
	github.com/spf13/cobra v1.10.2
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0
)

replace github.com/example/forked => github.com/example/forked v1.2.3 // pinned fork

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go // the client
	k8s.io/component-base => ./staging/src/k8s.io/component-base
)
`;

  it('requires k8s.io/kubernetes and maps every staging replace to the published v0.x module', () => {
    const mod = kubernetesWrapperGoMod(upstream, '1.37.2');
    assert.match(mod, /^module kubeproof\.local\/k8s$/m);
    assert.match(mod, /^require k8s\.io\/kubernetes v1\.37\.2$/m);
    assert.match(mod, /^\tk8s\.io\/api => k8s\.io\/api v0\.37\.2$/m);
    assert.match(mod, /^\tk8s\.io\/client-go => k8s\.io\/client-go v0\.37\.2$/m);
    assert.match(mod, /^\tk8s\.io\/component-base => k8s\.io\/component-base v0\.37\.2$/m);
    assert.doesNotMatch(mod, /=> \.\/staging/);
    assert.equal((mod.match(/=> k8s\.io\/\S+ v0\.37\.2/g) ?? []).length, 3);
  });

  it('keeps a replace to another module version, the godebug line and the go line', () => {
    const mod = kubernetesWrapperGoMod(upstream, 'v1.37.2');
    assert.match(mod, /^\tgithub\.com\/example\/forked => github\.com\/example\/forked v1\.2\.3$/m);
    assert.match(mod, /^godebug default=go1\.26$/m);
    assert.match(mod, /^go 1\.26\.0$/m);
  });

  it('carries a godebug block over as a block', () => {
    const mod = kubernetesWrapperGoMod(upstream.replace('godebug default=go1.26', 'godebug (\n\tdefault=go1.26\n\twinsymlink=0\n)'), '1.37.2');
    assert.match(mod, /^godebug \(\n\tdefault=go1\.26\n\twinsymlink=0\n\)$/m);
  });

  it('refuses a local replace it cannot map, and a go.mod without staging replaces', () => {
    assert.throws(() => kubernetesWrapperGoMod(`${upstream}\nreplace k8s.io/odd => ./third_party/odd\n`, '1.37.2'), /local path/);
    assert.throws(() => kubernetesWrapperGoMod('module k8s.io/kubernetes\n\ngo 1.26.0\n', '1.37.2'), /staging/);
  });

  it('agrees with the staging version of the pinned release', () => {
    assert.equal(stagingVersion('1.37.2'), 'v0.37.2');
    assert.equal(stagingVersion('v1.40.11'), 'v0.40.11');
  });
});

describe('etcdWrapperGoMod', () => {
  it('replaces the sibling modules with the same published release', () => {
    const mod = etcdWrapperGoMod('3.6.16');
    assert.match(mod, /^require go\.etcd\.io\/etcd\/server\/v3 v3\.6\.16$/m);
    for (const m of ['api/v3', 'client/pkg/v3', 'client/v3', 'pkg/v3']) {
      assert.ok(mod.includes(`\tgo.etcd.io/etcd/${m} => go.etcd.io/etcd/${m} v3.6.16\n`), m);
    }
  });
});

describe('checkGo', () => {
  it('without go on PATH throws EnvironmentError (exit 3) saying Go is missing and where to get it', async () => {
    const empty = join(tmp, 'empty-path');
    await mkdir(empty, { recursive: true });
    setEnv({ PATH: empty });
    await assert.rejects(checkGo(), (err: unknown) => {
      assert.ok(err instanceof EnvironmentError);
      assert.equal(err.exitCode, 3);
      assert.match(err.message, /Go is missing/);
      assert.match(err.describe(), /go\.dev\/dl/);
      return true;
    });
  });

  it('with an old go names its version and the way to a new enough toolchain', async () => {
    const bin = join(tmp, 'old-go');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'go'), '#!/bin/sh\necho "go version go1.22.2 linux/amd64"\n');
    await chmod(join(bin, 'go'), 0o755);
    setEnv({ PATH: bin });
    await assert.rejects(checkGo(), (err: unknown) => {
      assert.ok(err instanceof EnvironmentError);
      assert.equal(err.exitCode, 3);
      assert.match(err.message, /go1\.22\.2 .* too old/);
      assert.match(err.describe(), /GOTOOLCHAIN=go1\.26\.0/);
      return true;
    });
  });

  it('accepts a new enough go and reports its version and path', async () => {
    const bin = join(tmp, 'new-go');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'go'), '#!/bin/sh\necho "go version go1.26.8 linux/amd64"\n');
    await chmod(join(bin, 'go'), 0o755);
    setEnv({ PATH: bin });
    assert.deepEqual(await checkGo(), { version: 'go1.26.8', path: join(bin, 'go') });
  });
});

describe('version helpers', () => {
  it('compares Go versions, release candidates below the release', () => {
    assert.equal(goAtLeast('go1.26.8', '1.26.0'), true);
    assert.equal(goAtLeast('go1.26.0', '1.26.0'), true);
    assert.equal(goAtLeast('go1.27', '1.26.0'), true);
    assert.equal(goAtLeast('go1.25.9', '1.26.0'), false);
    assert.equal(goAtLeast('go1.26rc1', '1.26.0'), false);
    assert.equal(goAtLeast('go2.0.0', '1.26.0'), true);
    assert.equal(goAtLeast('nonsense', '1.26.0'), false);
  });

  it('finds the version line in --version output', () => {
    assert.equal(versionLine('Kubernetes v1.37.2\n', 'Kubernetes v1.37.2'), 'Kubernetes v1.37.2');
    assert.equal(versionLine('kwok version v0.8.0 go1.26.8 (linux/amd64)', 'kwok version v0.8.0'), 'kwok version v0.8.0 go1.26.8 (linux/amd64)');
    assert.equal(versionLine('Kubernetes v1.37.20', 'Kubernetes v1.37.2'), undefined);
    assert.equal(versionLine('Kubernetes v0.0.0-master+$Format:%H$', 'Kubernetes v1.37.2'), undefined);
  });

  it('estimates about 13 minutes for a cold build', () => {
    assert.ok(COLD_BUILD_TOTAL_SECONDS > 12 * 60 && COLD_BUILD_TOTAL_SECONDS < 15 * 60, String(COLD_BUILD_TOTAL_SECONDS));
  });
});
