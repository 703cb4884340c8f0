/**
 * The Go programs kind needs beyond the local cluster's binaries, built with `go build` from the
 * Go module proxy (never a binary download) and cached apart from them, so that the local
 * cluster's VERSION_SET_ID (and its 13-minute build) is never touched:
 *
 *   <cacheRoot>/kind/cli/<KIND_CLI_SET_ID>/kind                the kind CLI (when none is on PATH)
 *   <cacheRoot>/kind/tools/<KIND_TOOLS_SET_ID>/                kubeadm, crictl, coredns, flanneld,
 *                                                              local-path-provisioner, manifest.json
 *   <cacheRoot>/kind/.lock-<id>/  <cacheRoot>/kind/work/<id>/  held / used while building
 *
 * A set counts as present only with its manifest and every file at its recorded size. Each tool
 * but kubeadm builds in a writable copy of its own module (its go.mod and go.sum as released);
 * kubeadm builds in the same generated wrapper module as the local cluster's Kubernetes binaries.
 */
import { createHash } from 'node:crypto';
import { appendFile, chmod, cp, mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../../errors.js';
import { onPath } from '../../host.js';
import { formatDuration, type Log } from '../../log.js';
import { abortError, withDirLock } from '../lock.js';
import { cacheRoot } from '../paths.js';
import { checkGo, kubernetesWrapperGoMod } from './binaries.js';
import { KIND_PINNED, KUBERNETES_VERSION } from './versions.js';

export const KIND_MODULE = 'sigs.k8s.io/kind';

/** How one program is built from its own module. */
interface GoTool {
  name: 'crictl' | 'coredns' | 'flanneld' | 'local-path-provisioner';
  module: string;
  version: string;
  /** Package inside the module. */
  pkg: string;
  /** -X flags that make it report its release. */
  ldflags: string;
  /** Blank imports removed from a file of the copy before building, each with why. */
  dropImports?: { file: string; imports: string[]; why: string };
}

export type KindToolName = GoTool['name'] | 'kubeadm';

const TOOLS: readonly GoTool[] = [
  { name: 'crictl', module: 'sigs.k8s.io/cri-tools', version: KIND_PINNED.crictl, pkg: './cmd/crictl', ldflags: `-X sigs.k8s.io/cri-tools/pkg/version.Version=v${KIND_PINNED.crictl}` },
  { name: 'coredns', module: 'github.com/coredns/coredns', version: KIND_PINNED.coredns, pkg: '.', ldflags: '' },
  {
    name: 'flanneld',
    module: 'github.com/flannel-io/flannel',
    version: KIND_PINNED.flannel,
    pkg: '.',
    ldflags: `-X github.com/flannel-io/flannel/pkg/version.Version=v${KIND_PINNED.flannel}`,
    dropImports: {
      file: 'main.go',
      imports: ['github.com/flannel-io/flannel/pkg/backend/tencentvpc', 'github.com/flannel-io/flannel/pkg/backend/udp'],
      why: "the Tencent Cloud backend's SDK module is refused by the Go module proxy (403) and the udp backend needs cgo; the node image uses host-gw",
    },
  },
  // v0.0.30's vendor/ directory is not consistent with its go.mod: -mod=mod reads the module cache instead.
  { name: 'local-path-provisioner', module: 'github.com/rancher/local-path-provisioner', version: KIND_PINNED.localPathProvisioner, pkg: '.', ldflags: `-X main.VERSION=v${KIND_PINNED.localPathProvisioner}` },
];

export const KIND_TOOL_NAMES: readonly KindToolName[] = [...TOOLS.map((t) => t.name), 'kubeadm'];

/** What kubeadm reports (the same -X flags as the local cluster's Kubernetes binaries). */
function kubernetesLdflags(version: string): string {
  const [major, minor] = version.split('.');
  const vars: Array<[string, string]> = [
    ['gitMajor', major ?? ''],
    ['gitMinor', minor ?? ''],
    ['gitVersion', `v${version}`],
    ['gitTreeState', 'clean'],
  ];
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => vars.map(([k, v]) => `-X ${pkg}.${k}=${v}`)).join(' ');
}

const GO_FLAGS = ['-trimpath', '-mod=mod'];
const BASE_LDFLAGS = '-s -w';

const hash8 = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 8);

/** e.g. kind-0.33.0_1a2b3c4d */
export const KIND_CLI_SET_ID = `kind-${KIND_PINNED.kind}_${hash8({ kind: KIND_PINNED.kind, flags: ['-trimpath'], ldflags: BASE_LDFLAGS })}`;

/** e.g. k8s-1.37.2_crictl-1.37.0_coredns-1.14.6_flannel-0.28.10_lpp-0.0.30_1a2b3c4d */
export const KIND_TOOLS_SET_ID =
  `k8s-${KUBERNETES_VERSION}_crictl-${KIND_PINNED.crictl}_coredns-${KIND_PINNED.coredns}_flannel-${KIND_PINNED.flannel}_lpp-${KIND_PINNED.localPathProvisioner}_` +
  hash8({ KUBERNETES_VERSION, TOOLS, GO_FLAGS, BASE_LDFLAGS, k8s: kubernetesLdflags(KUBERNETES_VERSION) });

export function kindCacheDir(): string {
  return join(cacheRoot(), 'kind');
}

interface SetManifest {
  schema: 1;
  id: string;
  go: string;
  builtAt: string;
  files: Record<string, { size: number; sha256: string; version: string; buildSeconds: number }>;
}

async function findSet(dir: string, id: string, names: readonly string[]): Promise<Record<string, string> | undefined> {
  let m: SetManifest;
  try {
    m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as SetManifest;
  } catch {
    return undefined;
  }
  if (m.schema !== 1 || m.id !== id) return undefined;
  const paths: Record<string, string> = {};
  for (const name of names) {
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (!st?.isFile() || st.size !== m.files[name]?.size) return undefined;
    paths[name] = join(dir, name);
  }
  return paths;
}

/** Runs go commands, their output appended to <work>/go.log; a failure shows the tail and keeps the work dir. */
async function runGo(go: string, work: string, what: string, args: string[], opts: { cwd: string; env?: Record<string, string>; signal?: AbortSignal }): Promise<string> {
  const log = join(work, 'go.log');
  await appendFile(log, `\n$ (cd ${opts.cwd} && go ${args.join(' ')})\n`);
  const r = await execa(go, args, {
    cwd: opts.cwd,
    env: { CGO_ENABLED: '0', GOWORK: 'off', GOFLAGS: '-buildvcs=false', ...opts.env },
    all: true,
    reject: false,
    stdin: 'ignore',
    cancelSignal: opts.signal,
    forceKillAfterDelay: 5000,
  });
  await appendFile(log, `${r.all ?? ''}\n`);
  if (opts.signal?.aborted) throw abortError(opts.signal);
  if (r.exitCode !== 0) {
    const tail = (r.all ?? '').trim().split('\n').slice(-25).join('\n');
    throw new EnvironmentError(`building ${what} failed: \`go ${args[0]} … ${args[args.length - 1]}\` (exit ${r.exitCode ?? r.signal}):\n${tail}\nwork dir kept for inspection: ${work}`, {
      hint: `the full output is in ${log}; usual causes: the Go module proxy unreachable, a full disk`,
    });
  }
  return r.stdout;
}

/** A line every 30 s while `fn` runs, and one when it ends. */
async function timed<T>(log: Log, what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  log(`${what}…`);
  const ticker = setInterval(() => log(`still ${what}: ${formatDuration(performance.now() - t0)}`), 30_000);
  ticker.unref();
  try {
    const r = await fn();
    log(`${what}: done in ${formatDuration(performance.now() - t0)}`);
    return r;
  } finally {
    clearInterval(ticker);
  }
}

async function moduleDir(go: string, work: string, module: string, version: string, signal?: AbortSignal): Promise<{ dir: string; goMod: string }> {
  const info = JSON.parse(await runGo(go, work, `${module}@v${version}`, ['mod', 'download', '-json', `${module}@v${version}`], { cwd: work, signal })) as {
    Dir?: string;
    GoMod?: string;
    Error?: string;
  };
  if (!info.Dir || !info.GoMod) throw new EnvironmentError(`go mod download ${module}@v${version} gave no module directory${info.Error ? `: ${info.Error}` : ''}`);
  return { dir: info.Dir, goMod: info.GoMod };
}

/** The directory of sigs.k8s.io/kind@<pinned> in the Go module cache (its images/base files, its storage manifest). */
export async function kindModuleDir(signal?: AbortSignal): Promise<string> {
  const go = await checkGo();
  const r = await execa(go.path, ['mod', 'download', '-json', `${KIND_MODULE}@v${KIND_PINNED.kind}`], { reject: false, stdin: 'ignore', cancelSignal: signal, env: { GOWORK: 'off' } });
  const info = JSON.parse(r.stdout || '{}') as { Dir?: string; Error?: string };
  if (r.exitCode !== 0 || !info.Dir) throw new EnvironmentError(`go mod download ${KIND_MODULE}@v${KIND_PINNED.kind} failed: ${info.Error ?? r.stderr.trim()}`);
  return info.Dir;
}

async function writeManifest(dir: string, id: string, go: string, seconds: Record<string, number>, versions: Record<string, string>): Promise<void> {
  const files: SetManifest['files'] = {};
  for (const name of Object.keys(seconds)) {
    const body = await readFile(join(dir, name));
    files[name] = { size: body.length, sha256: createHash('sha256').update(body).digest('hex'), version: versions[name] ?? '', buildSeconds: seconds[name] ?? 0 };
  }
  const m: SetManifest = { schema: 1, id, go, builtAt: new Date().toISOString(), files };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
}

/** Build into <root>/.tmp-<id>-<pid>, rename to <root>/<id> when complete; under <kind>/.lock-<id>. */
async function buildSet<T>(
  root: string,
  id: string,
  find: () => Promise<T | undefined>,
  build: (out: string, work: string) => Promise<void>,
  opts: { log: Log; signal?: AbortSignal },
): Promise<T> {
  const found = await find();
  if (found) return found;
  return withDirLock(
    join(kindCacheDir(), `.lock-${id}`),
    async () => {
      const meanwhile = await find();
      if (meanwhile) return meanwhile;
      const out = join(root, `.tmp-${id}-${process.pid}`);
      const work = join(kindCacheDir(), 'work', id);
      await rm(out, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
      await mkdir(out, { recursive: true });
      await mkdir(work, { recursive: true });
      try {
        await build(out, work);
      } catch (err) {
        await rm(out, { recursive: true, force: true });
        if (opts.signal?.aborted) await rm(work, { recursive: true, force: true });
        throw err;
      }
      await rm(join(root, id), { recursive: true, force: true });
      await rename(out, join(root, id));
      await rm(work, { recursive: true, force: true });
      await rmdir(join(kindCacheDir(), 'work')).catch(() => {}); // when no failed build is kept there
      const done = await find();
      if (!done) throw new EnvironmentError(`built ${id} into ${join(root, id)}, but it does not check out (manifest or sizes)`);
      return done;
    },
    { signal: opts.signal, onWait: (owner) => opts.log(`waiting for process ${owner?.pid ?? '?'} to finish building ${id}…`) },
  );
}

export interface KindCli {
  path: string;
  /** on PATH, or built from the Go module proxy into the cache. */
  source: 'path' | 'cache';
  version: string;
}

async function kindVersion(path: string): Promise<string> {
  const r = await execa(path, ['version'], { reject: false, stdin: 'ignore' });
  return r.exitCode === 0 ? r.stdout.trim() : `unknown (\`${path} version\` exited ${r.exitCode})`;
}

/** The kind CLI in the cache, or undefined. Never builds. */
export async function findCachedKindCli(): Promise<KindCli | undefined> {
  const dir = join(kindCacheDir(), 'cli', KIND_CLI_SET_ID);
  const files = await findSet(dir, KIND_CLI_SET_ID, ['kind']);
  return files ? { path: files.kind!, source: 'cache', version: `kind v${KIND_PINNED.kind}` } : undefined;
}

/** `kind` from PATH, else the cached build of the pinned version, else built now (about 1.5 min cold on 2 cores). */
export async function ensureKindCli(opts: { log: Log; signal?: AbortSignal }): Promise<KindCli> {
  const onPathKind = await onPath('kind');
  if (onPathKind) return { path: onPathKind, source: 'path', version: await kindVersion(onPathKind) };
  const root = join(kindCacheDir(), 'cli');
  return buildSet(
    root,
    KIND_CLI_SET_ID,
    findCachedKindCli,
    async (out, work) => {
      const go = await checkGo();
      const t0 = performance.now();
      await timed(opts.log, `building the kind CLI v${KIND_PINNED.kind} from the Go module proxy into ${join(root, KIND_CLI_SET_ID)}`, () =>
        runGo(go.path, work, 'kind', ['install', '-trimpath', `-ldflags=${BASE_LDFLAGS}`, `${KIND_MODULE}@v${KIND_PINNED.kind}`], { cwd: work, env: { GOBIN: out }, signal: opts.signal }),
      );
      const version = await kindVersion(join(out, 'kind'));
      if (!version.startsWith(`kind v${KIND_PINNED.kind} `)) throw new EnvironmentError(`built kind, but \`kind version\` says "${version}", not kind v${KIND_PINNED.kind}`);
      await writeManifest(out, KIND_CLI_SET_ID, go.version, { kind: Math.round(performance.now() - t0) / 1000 }, { kind: version });
    },
    opts,
  );
}

/** Removes the lines `_ "<import>"` from a Go file; each must be there once. */
export function withoutBlankImports(source: string, imports: readonly string[], where: string): string {
  let out = source;
  for (const imp of imports) {
    const line = new RegExp(`^[ \\t]*_ "${imp.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"[ \\t]*\\n`, 'm');
    if (!line.test(out)) throw new EnvironmentError(`${where}: no blank import of ${imp} to drop: its layout changed, update kubeproof's recipe`);
    out = out.replace(line, '');
  }
  return out;
}

async function dropImports(file: string, imports: readonly string[], where: string): Promise<void> {
  await writeFile(file, withoutBlankImports(await readFile(file, 'utf8'), imports, where));
}

export type KindTools = Record<KindToolName, string>;

/** The cached tools, or undefined. Never builds. */
export async function findKindTools(): Promise<KindTools | undefined> {
  return (await findSet(join(kindCacheDir(), 'tools', KIND_TOOLS_SET_ID), KIND_TOOLS_SET_ID, KIND_TOOL_NAMES)) as KindTools | undefined;
}

/**
 * kubeadm, crictl, coredns, flanneld and local-path-provisioner of the pinned versions, built
 * once (cold, on 2 cores: coredns and crictl ~6–7 min each, the rest 1–4 min).
 */
export async function ensureKindTools(opts: { log: Log; signal?: AbortSignal }): Promise<KindTools> {
  const root = join(kindCacheDir(), 'tools');
  return buildSet(
    root,
    KIND_TOOLS_SET_ID,
    findKindTools,
    async (out, work) => {
      const go = await checkGo();
      const seconds: Record<string, number> = {};
      const versions: Record<string, string> = {};
      opts.log(`building kind's node tools (${KIND_TOOL_NAMES.join(', ')}) from the Go module proxy into ${join(root, KIND_TOOLS_SET_ID)}`);
      for (const [i, tool] of TOOLS.entries()) {
        const s0 = performance.now();
        await timed(opts.log, `building ${tool.name} v${tool.version} (${i + 1}/${KIND_TOOL_NAMES.length})`, async () => {
          const mod = await moduleDir(go.path, work, tool.module, tool.version, opts.signal);
          // Module cache files are read-only, and -mod=mod may complete go.sum: build in a writable copy.
          const src = join(work, tool.name);
          await cp(mod.dir, src, { recursive: true });
          await execa('chmod', ['-R', 'u+w', src]);
          if (tool.dropImports) await dropImports(join(src, tool.dropImports.file), tool.dropImports.imports, `${tool.module}@v${tool.version}`);
          await runGo(go.path, work, tool.name, ['build', ...GO_FLAGS, `-ldflags=${`${BASE_LDFLAGS} ${tool.ldflags}`.trim()}`, '-o', join(out, tool.name), tool.pkg], {
            cwd: src,
            signal: opts.signal,
          });
          await rm(src, { recursive: true, force: true });
        });
        seconds[tool.name] = Math.round(performance.now() - s0) / 1000;
        versions[tool.name] = `v${tool.version}`;
      }
      // kubeadm last: the local cluster's wrapper module, so it shares the Go build cache with kube-apiserver & co.
      const k8s = join(work, 'k8s');
      await mkdir(k8s, { recursive: true });
      const t0 = performance.now();
      await timed(opts.log, `building kubeadm v${KUBERNETES_VERSION} (${KIND_TOOL_NAMES.length}/${KIND_TOOL_NAMES.length})`, async () => {
        const up = await moduleDir(go.path, work, 'k8s.io/kubernetes', KUBERNETES_VERSION, opts.signal);
        await writeFile(join(k8s, 'go.mod'), kubernetesWrapperGoMod(await readFile(up.goMod, 'utf8'), KUBERNETES_VERSION));
        await writeFile(join(k8s, 'tools.go'), '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kubeadm"\n');
        await runGo(go.path, work, 'kubeadm', ['mod', 'tidy'], { cwd: k8s, signal: opts.signal });
        const ldflags = `${BASE_LDFLAGS} ${kubernetesLdflags(KUBERNETES_VERSION)}`;
        await runGo(go.path, work, 'kubeadm', ['build', '-trimpath', `-ldflags=${ldflags}`, '-o', join(out, 'kubeadm'), 'k8s.io/kubernetes/cmd/kubeadm'], { cwd: k8s, signal: opts.signal });
      });
      seconds.kubeadm = Math.round(performance.now() - t0) / 1000;
      versions.kubeadm = `v${KUBERNETES_VERSION}`;
      for (const name of KIND_TOOL_NAMES) await chmod(join(out, name), 0o755);
      await writeManifest(out, KIND_TOOLS_SET_ID, go.version, seconds, versions);
    },
    opts,
  );
}
