/**
 * The local cluster's binaries, built from source with `go build` through the Go module
 * proxy (never downloaded as binaries) and cached per version set:
 *
 *   <cacheRoot>/bin/<versionSetId>/            complete, never modified after the rename
 *     kube-apiserver … metrics-server          the ten binaries
 *     kwok-kustomize/                          kwok's kustomize/ folder (stages, metrics), writable copy
 *     manifest.json                            versions, Go, sha256/size/`--version` of each binary, timings
 *   <cacheRoot>/bin/.lock-<versionSetId>/      held while building (owner pid inside)
 *   <cacheRoot>/bin/.tmp-<versionSetId>-<pid>/ the build in progress; renamed into place when complete
 *   <cacheRoot>/work/<versionSetId>/           generated wrapper modules + go.log; kept only after a failure
 *
 * A set counts as present only with manifest.json and every binary at its recorded size, so
 * an interrupted build never looks done. The fast path (already cached) takes no lock.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, chmod, cp, mkdir, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../../errors.js';
import { onPath } from '../../host.js';
import { abortError, withDirLock } from '../lock.js';
import { cacheRoot } from '../paths.js';
import { formatDuration, plainOutput, stderrLog, type Log } from '../../log.js';
import {
  COLD_BUILD_SECONDS,
  ETCD_VERSION,
  KUBERNETES_VERSION,
  KWOK_VERSION,
  METRICS_SERVER_VERSION,
  MIN_GO_VERSION,
  PINNED,
  stagingVersion,
  type BuildComponentName,
} from './versions.js';

export type BinaryName =
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubectl'
  | 'kubelet'
  | 'kube-proxy'
  | 'etcd'
  | 'kwok'
  | 'kwokctl'
  | 'metrics-server';

export const BINARY_NAMES: readonly BinaryName[] = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kubelet',
  'kube-proxy',
  'etcd',
  'kwok',
  'kwokctl',
  'metrics-server',
];

export interface BinarySet {
  /** <cache>/bin/<versionSetId> */
  dir: string;
  versionSetId: string;
  /** Release versions without a leading "v": kubernetes "1.37.2", etcd "3.6.16", … */
  versions: { kubernetes: string; etcd: string; kwok: string; metricsServer: string };
  /** Absolute path of a binary. */
  path(name: BinaryName): string;
  /** Writable copy of the kwok module's kustomize/ folder (stage/, metrics/, …), taken at build time. */
  kwokKustomizeDir: string;
}

export interface BinaryManifest {
  schema: 1;
  versionSetId: string;
  versions: BinarySet['versions'];
  go: { version: string; path: string };
  builtAt: string;
  buildSeconds: number;
  recipe: BuildRecipe;
  components: Array<{ name: BuildComponentName; binaries: BinaryName[]; seconds: number }>;
  binaries: Record<BinaryName, { sha256: string; size: number; version: string; buildSeconds: number }>;
}

// ---------------------------------------------------------------------------------------------
// The build recipe: everything that decides the bytes of the binaries (apart from the Go version).

const K8S_MODULE = 'k8s.io/kubernetes';
const K8S_COMMANDS: readonly BinaryName[] = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kubelet', 'kube-proxy'];
const ETCD_SERVER_MODULE = 'go.etcd.io/etcd/server/v3';
/** etcd's server module replaces these with ../ paths; here they are the published modules of the same release. */
const ETCD_SIBLING_MODULES = ['go.etcd.io/etcd/api/v3', 'go.etcd.io/etcd/client/pkg/v3', 'go.etcd.io/etcd/client/v3', 'go.etcd.io/etcd/pkg/v3'];
const KWOK_MODULE = 'sigs.k8s.io/kwok';
const METRICS_SERVER_MODULE = 'sigs.k8s.io/metrics-server';

/** -X flags that make a Kubernetes binary report its release instead of v0.0.0-master. */
function kubernetesVersionLdflags(version: string): string[] {
  const v = version.replace(/^v/, '');
  const [major, minor] = v.split('.');
  const vars: Array<[string, string]> = [
    ['gitMajor', major ?? ''],
    ['gitMinor', minor ?? ''],
    ['gitVersion', `v${v}`],
    ['gitTreeState', 'clean'],
  ];
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => vars.map(([k, val]) => `-X ${pkg}.${k}=${val}`));
}

interface BuildRecipe {
  cgoEnabled: false;
  flags: string[];
  ldflags: { kubernetes: string; etcd: string; kwok: string; metricsServer: string };
}

const RECIPE: BuildRecipe = {
  cgoEnabled: false,
  flags: ['-trimpath'],
  ldflags: {
    kubernetes: ['-s', '-w', ...kubernetesVersionLdflags(KUBERNETES_VERSION)].join(' '),
    // etcd reports its version from a constant; kwok from sigs.k8s.io/kwok/pkg/consts.Version (= the release).
    etcd: '-s -w',
    kwok: '-s -w',
    // What metrics-server's own Makefile sets: without it `metrics-server --version` says v0.0.0-master.
    metricsServer: `-s -w -X k8s.io/client-go/pkg/version.gitVersion=v${METRICS_SERVER_VERSION} -X k8s.io/client-go/pkg/version.gitTreeState=clean`,
  },
};

const RECIPE_HASH = createHash('sha256').update(JSON.stringify({ PINNED, RECIPE })).digest('hex').slice(0, 8);

/** e.g. k8s-1.37.2_etcd-3.6.16_kwok-0.8.0_ms-0.9.0_1a2b3c4d (the suffix hashes the build flags). */
export const VERSION_SET_ID = `k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_ms-${METRICS_SERVER_VERSION}_${RECIPE_HASH}`;

/** The command that prints a binary's version, and the line it must print. */
const VERSION_CHECK: Record<BinaryName, { args: string[]; expect: string }> = {
  'kube-apiserver': { args: ['--version'], expect: `Kubernetes v${KUBERNETES_VERSION}` },
  'kube-controller-manager': { args: ['--version'], expect: `Kubernetes v${KUBERNETES_VERSION}` },
  'kube-scheduler': { args: ['--version'], expect: `Kubernetes v${KUBERNETES_VERSION}` },
  kubelet: { args: ['--version'], expect: `Kubernetes v${KUBERNETES_VERSION}` },
  'kube-proxy': { args: ['--version'], expect: `Kubernetes v${KUBERNETES_VERSION}` },
  kubectl: { args: ['version', '--client'], expect: `Client Version: v${KUBERNETES_VERSION}` },
  etcd: { args: ['--version'], expect: `etcd Version: ${ETCD_VERSION}` },
  kwok: { args: ['--version'], expect: `kwok version v${KWOK_VERSION}` },
  kwokctl: { args: ['--version'], expect: `kwokctl version v${KWOK_VERSION}` },
  'metrics-server': { args: ['--version'], expect: `v${METRICS_SERVER_VERSION}` },
};

/** The line of `output` that names the expected version (a whole line, or followed by a space), if any. */
export function versionLine(output: string, expect: string): string | undefined {
  return output
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l === expect || l.startsWith(`${expect} `));
}

// ---------------------------------------------------------------------------------------------
// Where things live.


function setAt(dir: string): BinarySet {
  return {
    dir,
    versionSetId: VERSION_SET_ID,
    versions: { ...PINNED },
    path: (name: BinaryName) => join(dir, name),
    kwokKustomizeDir: join(dir, 'kwok-kustomize'),
  };
}

export async function readManifest(dir: string): Promise<BinaryManifest | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as BinaryManifest;
    if (m?.schema !== 1 || typeof m.binaries !== 'object' || m.binaries === null) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

/** The cached, complete binary set of the pinned versions, or undefined. Never builds, takes no lock. */
export async function findBinaries(cacheDir: string = cacheRoot()): Promise<BinarySet | undefined> {
  const set = setAt(join(cacheDir, 'bin', VERSION_SET_ID));
  const manifest = await readManifest(set.dir);
  if (!manifest || manifest.versionSetId !== VERSION_SET_ID) return undefined;
  for (const name of BINARY_NAMES) {
    const entry = manifest.binaries[name];
    if (!entry) return undefined;
    const st = await stat(set.path(name)).catch(() => undefined);
    if (!st?.isFile() || st.size !== entry.size || (st.mode & 0o111) === 0) return undefined;
  }
  const k = await stat(set.kwokKustomizeDir).catch(() => undefined);
  if (!k?.isDirectory()) return undefined;
  return set;
}

// ---------------------------------------------------------------------------------------------
// Go.


/** [major, minor, patch, isRelease] of "go1.26.8", "go1.26rc1", "go1.20", "devel go1.27-abc…"; undefined if unparsable. */
export function parseGoVersion(v: string): [number, number, number, boolean] | undefined {
  const m = /go(\d+)\.(\d+)(?:\.(\d+))?((?:rc|beta)\d+)?/.exec(v);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0), !m[4]];
}

/** True when Go version `have` (e.g. "go1.26.8") is at least `min` (e.g. "1.26.0"). */
export function goAtLeast(have: string, min: string): boolean {
  const h = parseGoVersion(have);
  const w = parseGoVersion(min.startsWith('go') ? min : `go${min}`);
  if (!h || !w) return false;
  for (let i = 0; i < 3; i++) {
    if (h[i] !== w[i]) return (h[i] as number) > (w[i] as number);
  }
  return h[3] || !w[3]; // go1.26.0rc1 < go1.26.0
}

const GO_INSTALL_HINT =
  `install Go >= ${MIN_GO_VERSION.replace(/\.0$/, '')} from https://go.dev/dl/ ` +
  `(e.g. tar -C /usr/local -xzf go1.26.*.linux-amd64.tar.gz and add /usr/local/go/bin to PATH); ` +
  `distribution packages such as apt's golang-go are often older than that — check with \`go version\``;

/**
 * The `go` on PATH and its version ("go1.26.8"). Throws EnvironmentError (exit 3) when Go is
 * missing or older than MIN_GO_VERSION, saying how to get a new enough one. GOTOOLCHAIN is
 * honoured: with GOTOOLCHAIN=go1.26.0 an older go (>= 1.21) runs the newer toolchain.
 */
export async function checkGo(): Promise<{ version: string; path: string }> {
  const path = await onPath('go');
  if (!path) {
    throw new EnvironmentError(
      `Go is missing: no \`go\` command on PATH. The local cluster's binaries (Kubernetes ${KUBERNETES_VERSION}, etcd ${ETCD_VERSION}, kwok ${KWOK_VERSION}, metrics-server ${METRICS_SERVER_VERSION}) are built from source and need Go >= ${MIN_GO_VERSION}.`,
      { hint: GO_INSTALL_HINT },
    );
  }
  const r = await execa(path, ['version'], { reject: false, all: true, timeout: 300_000, stdin: 'ignore', env: goEnv() });
  const text = (r.all ?? '').trim();
  const version = /go version (?:devel )?(\S+)/.exec(text)?.[1];
  if (r.exitCode !== 0 || !version) {
    throw new EnvironmentError(`\`${path} version\` failed${r.exitCode ? ` (exit ${r.exitCode})` : ''}: ${lastLines(text, 5) || 'no output'}`, {
      hint: 'check that Go installation and the Go variables in your environment (GOFLAGS, GOTOOLCHAIN, GOROOT); `go env` shows them',
    });
  }
  if (!goAtLeast(version, MIN_GO_VERSION)) {
    const p = parseGoVersion(version);
    const canSwitch = p !== undefined && (p[0] > 1 || p[1] >= 21);
    throw new EnvironmentError(
      `Go ${version} at ${path} is too old: building Kubernetes ${KUBERNETES_VERSION} needs Go >= ${MIN_GO_VERSION}.`,
      {
        hint: canSwitch
          ? `${GO_INSTALL_HINT}; or let this go fetch the newer toolchain through the Go module proxy: export GOTOOLCHAIN=go${MIN_GO_VERSION}+auto (try \`GOTOOLCHAIN=go${MIN_GO_VERSION} go version\`)`
          : GO_INSTALL_HINT,
      },
    );
  }
  return { version, path };
}

/** The environment of every go command: the user's (GOPROXY, GOMODCACHE, GOCACHE, GOFLAGS, …) plus ours. */
function goEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...process.env, CGO_ENABLED: '0', GOWORK: 'off', ...extra };
}

function lastLines(text: string, n: number): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}

// ---------------------------------------------------------------------------------------------
// The generated wrapper modules.

interface ReplaceLine {
  from: string;
  to: string;
}

/** Strip a `//` comment (module paths never contain `//`). */
function code(line: string): string {
  const i = line.indexOf('//');
  return (i >= 0 ? line.slice(0, i) : line).trim();
}

function parseGoMod(text: string): { go?: string; godebug: string[]; replaces: ReplaceLine[] } {
  let go: string | undefined;
  const godebug: string[] = [];
  const replaces: ReplaceLine[] = [];
  let block: string | undefined;
  const entry = (verb: string, body: string) => {
    if (verb === 'godebug') godebug.push(body);
    if (verb === 'replace') {
      const [from, to] = body.split('=>').map((s) => s.trim().replace(/\s+/g, ' '));
      if (from && to) replaces.push({ from, to });
    }
  };
  for (const raw of text.split('\n')) {
    const line = code(raw);
    if (!line) continue;
    if (block) {
      if (line === ')') block = undefined;
      else entry(block, line);
      continue;
    }
    const m = /^(\w+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, verb = '', rest = ''] = m;
    if (rest === '(') {
      block = verb;
      continue;
    }
    if (verb === 'go') go = rest;
    else entry(verb, rest);
  }
  return { go, godebug, replaces };
}

const isLocalPath = (p: string) => p.startsWith('./') || p.startsWith('../') || p.startsWith('/');

/**
 * go.mod of a module that builds k8s.io/kubernetes@<version>'s commands from the module proxy.
 * k8s.io/kubernetes replaces its staging modules with ./staging/src/k8s.io/X paths, which
 * `go install pkg@version` refuses; here each becomes the published k8s.io/X v0.<minor>.<patch>.
 * Its godebug settings and `go` line are carried over (not lower than MIN_GO_VERSION);
 * any replace to another module version is kept as is.
 */
export function kubernetesWrapperGoMod(upstreamGoMod: string, version: string): string {
  const v = version.startsWith('v') ? version : `v${version}`;
  const staging = stagingVersion(v);
  const up = parseGoMod(upstreamGoMod);
  const replaces: string[] = [];
  for (const r of up.replaces) {
    const mod = r.from.split(' ')[0] ?? '';
    if (isLocalPath(r.to)) {
      if (r.to.replace(/\/$/, '') !== `./staging/src/${mod}`) {
        throw new Error(`${K8S_MODULE} ${v} replaces ${mod} with the local path ${r.to}, which kubeproof does not know how to map to a published module`);
      }
      replaces.push(`${mod} => ${mod} ${staging}`);
    } else {
      replaces.push(`${r.from} => ${r.to}`);
    }
  }
  if (!replaces.some((r) => r.includes(` ${staging}`))) {
    throw new Error(`${K8S_MODULE} ${v}'s go.mod has no ./staging/src replace directives: its layout changed, update kubeproof's wrapper module`);
  }
  const goLine = up.go && goAtLeast(`go${up.go}`, MIN_GO_VERSION) ? up.go : MIN_GO_VERSION;
  const out = [
    `// Generated by kubeproof: builds the commands of ${K8S_MODULE} ${v} from the Go module proxy.`,
    `// ${K8S_MODULE} points its staging modules at ./staging/src; here they are the published ${staging}.`,
    'module kubeproof.local/k8s',
    '',
    `go ${goLine}`,
    '',
  ];
  if (up.godebug.length === 1) out.push(`godebug ${up.godebug[0]}`, '');
  else if (up.godebug.length > 1) out.push('godebug (', ...up.godebug.map((g) => `\t${g}`), ')', '');
  out.push(`require ${K8S_MODULE} ${v}`, '', 'replace (', ...replaces.map((r) => `\t${r}`), ')', '');
  return out.join('\n');
}

export function etcdWrapperGoMod(version: string = ETCD_VERSION): string {
  const v = version.startsWith('v') ? version : `v${version}`;
  return [
    `// Generated by kubeproof: builds etcd ${v} (${ETCD_SERVER_MODULE}) from the Go module proxy.`,
    `// The server module replaces its sibling modules with ../ paths; here they are the published ${v}.`,
    'module kubeproof.local/etcd',
    '',
    `go ${MIN_GO_VERSION}`,
    '',
    `require ${ETCD_SERVER_MODULE} ${v}`,
    '',
    'replace (',
    ...ETCD_SIBLING_MODULES.map((m) => `\t${m} => ${m} ${v}`),
    ')',
    '',
  ].join('\n');
}

function toolsGo(imports: string[]): string {
  return ['//go:build tools', '', '// Keeps `go mod tidy` from dropping the commands kubeproof builds.', 'package tools', '', 'import (', ...imports.map((i) => `\t_ "${i}"`), ')', ''].join(
    '\n',
  );
}

// ---------------------------------------------------------------------------------------------
// Progress.

function roughly(seconds: number): string {
  if (seconds < 55) return `~${Math.max(5, Math.round(seconds / 5) * 5)} s`;
  return `~${Math.max(1, Math.round(seconds / 60))} min`;
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * One line when a component starts (with the estimate left) and one when it ends. While it
 * builds: on a terminal a ticking counter on one line, otherwise a line at most every 30 s.
 */
class Progress {
  private readonly tty: boolean;
  private ticker?: NodeJS.Timeout;
  private tickerShown = false;
  private estimatedDone = 0;
  private actualDone = 0;

  constructor(
    private readonly log: Log,
    private readonly components: ReadonlyArray<{ name: BuildComponentName }>,
  ) {
    this.tty = log === stderrLog && !plainOutput();
  }

  say(line: string): void {
    this.clearTicker();
    this.log(line);
  }

  /** Estimates scaled by how the finished components compared with theirs (a warm Go cache is much faster). */
  private scale(): number {
    if (this.estimatedDone === 0) return 1;
    return Math.min(5, Math.max(0.01, this.actualDone / this.estimatedDone));
  }

  async step<T>(index: number, fn: () => Promise<T>): Promise<T> {
    const c = this.components[index]!;
    const est = COLD_BUILD_SECONDS[c.name];
    const left = this.components.slice(index).reduce((a, x) => a + COLD_BUILD_SECONDS[x.name], 0);
    const k = this.scale();
    this.say(`building ${c.name} (${index + 1}/${this.components.length}, ${roughly(est * k)} of ${roughly(left * k)} left)`);
    const t0 = performance.now();
    this.startTicker(`building ${c.name}`, t0);
    try {
      const r = await fn();
      const ms = performance.now() - t0;
      this.estimatedDone += est;
      this.actualDone += ms / 1000;
      this.say(`built ${c.name} in ${formatDuration(ms)}`);
      return r;
    } finally {
      this.stopTicker();
    }
  }

  /** A phase outside the estimate (module download/tidy, checks). */
  async phase<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.say(`${what}…`);
    const t0 = performance.now();
    this.startTicker(what, t0);
    try {
      const r = await fn();
      this.say(`${what}: done in ${formatDuration(performance.now() - t0)}`);
      return r;
    } finally {
      this.stopTicker();
    }
  }

  private startTicker(what: string, t0: number): void {
    this.stopTicker();
    if (this.tty) {
      this.ticker = setInterval(() => {
        process.stderr.write(`\r\x1b[K  ${what}: ${clock(performance.now() - t0)}`);
        this.tickerShown = true;
      }, 1000);
    } else {
      this.ticker = setInterval(() => this.log(`still ${what}: ${clock(performance.now() - t0)}`), 30_000);
    }
    this.ticker.unref();
  }

  private clearTicker(): void {
    if (this.tickerShown) process.stderr.write('\r\x1b[K');
    this.tickerShown = false;
  }

  stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.clearTicker();
  }
}

// ---------------------------------------------------------------------------------------------
// The build.

/** Runs go commands, appending all their output to <work>/go.log; a failure names the component and shows the tail. */
class GoRunner {
  constructor(
    private readonly go: string,
    private readonly work: string,
    private readonly signal?: AbortSignal,
  ) {}

  get logFile(): string {
    return join(this.work, 'go.log');
  }

  async run(component: string, args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<string> {
    const shown = `go ${args.join(' ')}`;
    await appendFile(this.logFile, `\n$ (cd ${opts.cwd} && ${shown})\n`);
    const r = await execa(this.go, args, {
      cwd: opts.cwd,
      env: goEnv(opts.env),
      extendEnv: false,
      all: true,
      reject: false,
      stdin: 'ignore',
      cancelSignal: this.signal,
      forceKillAfterDelay: 5000,
    });
    const all = r.all ?? '';
    await appendFile(this.logFile, all.endsWith('\n') || !all ? all : `${all}\n`);
    if (this.signal?.aborted) throw abortError(this.signal);
    if (r.exitCode !== 0 || r.failed) {
      const why = r.exitCode !== undefined ? `exit ${r.exitCode}` : (r.signal ?? r.shortMessage);
      const short = args.length > 2 ? `go ${args[0]} … ${args[args.length - 1]}` : shown;
      throw new EnvironmentError(
        `building ${component} failed: \`${short}\` (${why}); last lines of its output:\n${lastLines(all, 30) || '(no output)'}\nwork dir kept for inspection: ${this.work}`,
        {
          hint: `the full commands and output are in ${this.logFile}; usual causes: the Go module proxy (GOPROXY) unreachable, a full disk (the Go build cache needs ~6 GB), an unsuitable Go version`,
        },
      );
    }
    return r.stdout ?? '';
  }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await makeWritable(p);
    else if (e.isFile()) await chmod(p, 0o644);
  }
}

async function runVersion(path: string, name: BinaryName): Promise<{ output: string; line?: string }> {
  const check = VERSION_CHECK[name];
  const r = await execa(path, check.args, { reject: false, all: true, timeout: 20_000, stdin: 'ignore' });
  const output = (r.all ?? '').trim();
  return { output, line: versionLine(output, check.expect) };
}

const BUILD_ORDER: ReadonlyArray<{ name: BuildComponentName; binaries: BinaryName[] }> = [
  ...K8S_COMMANDS.map((b) => ({ name: b as BuildComponentName, binaries: [b] })),
  { name: 'etcd', binaries: ['etcd'] },
  { name: 'kwok+kwokctl', binaries: ['kwok', 'kwokctl'] },
  { name: 'metrics-server', binaries: ['metrics-server'] },
];

async function build(cache: string, go: { version: string; path: string }, log: Log, signal?: AbortSignal): Promise<BinarySet> {
  const t0 = performance.now();
  const binRoot = join(cache, 'bin');
  const final = join(binRoot, VERSION_SET_ID);
  const out = join(binRoot, `.tmp-${VERSION_SET_ID}-${process.pid}`);
  const work = join(cache, 'work', VERSION_SET_ID);
  // We hold the lock: whatever a killed build left behind is garbage.
  for (const e of await readdir(binRoot)) {
    if (e.startsWith(`.tmp-${VERSION_SET_ID}-`)) await rm(join(binRoot, e), { recursive: true, force: true });
  }
  await rm(work, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await mkdir(join(work, 'k8s'), { recursive: true });
  await mkdir(join(work, 'etcd'), { recursive: true });

  const runner = new GoRunner(go.path, work, signal);
  const progress = new Progress(log, BUILD_ORDER);
  const k8sVersion = `v${KUBERNETES_VERSION}`;
  const flags = RECIPE.flags;
  try {
    progress.say(
      `building the local cluster's binaries from source with ${go.version} (GOPROXY ${process.env.GOPROXY || 'default: https://proxy.golang.org,direct'}) into ${final}; ` +
        `a cold build takes about 13 min on 2 cores (~6 GB of Go build cache), a warm one much less`,
    );
    const seconds: Partial<Record<BuildComponentName, number>> = {};

    await progress.phase(`preparing Go modules (${K8S_MODULE} ${k8sVersion}, etcd v${ETCD_VERSION})`, async () => {
      const info = JSON.parse(await runner.run('Go modules', ['mod', 'download', '-json', `${K8S_MODULE}@${k8sVersion}`], { cwd: work })) as { GoMod?: string; Error?: string };
      if (!info.GoMod) throw new EnvironmentError(`go mod download ${K8S_MODULE}@${k8sVersion} gave no go.mod${info.Error ? `: ${info.Error}` : ''}`);
      const wrapper = kubernetesWrapperGoMod(await readFile(info.GoMod, 'utf8'), k8sVersion);
      await writeFile(join(work, 'k8s', 'go.mod'), wrapper);
      await writeFile(join(work, 'k8s', 'tools.go'), toolsGo(K8S_COMMANDS.map((c) => `${K8S_MODULE}/cmd/${c}`)));
      await runner.run('Go modules (k8s)', ['mod', 'tidy'], { cwd: join(work, 'k8s') });
      await writeFile(join(work, 'etcd', 'go.mod'), etcdWrapperGoMod(ETCD_VERSION));
      await writeFile(join(work, 'etcd', 'tools.go'), toolsGo([ETCD_SERVER_MODULE]));
      await runner.run('Go modules (etcd)', ['mod', 'tidy'], { cwd: join(work, 'etcd') });
    });

    for (const [i, c] of BUILD_ORDER.entries()) {
      const s0 = performance.now();
      await progress.step(i, async () => {
        if (K8S_COMMANDS.includes(c.name as BinaryName)) {
          await runner.run(c.name, ['build', ...flags, `-ldflags=${RECIPE.ldflags.kubernetes}`, '-o', join(out, c.name), `${K8S_MODULE}/cmd/${c.name}`], {
            cwd: join(work, 'k8s'),
          });
        } else if (c.name === 'etcd') {
          await runner.run('etcd', ['build', ...flags, `-ldflags=${RECIPE.ldflags.etcd}`, '-o', join(out, 'etcd'), ETCD_SERVER_MODULE], { cwd: join(work, 'etcd') });
        } else if (c.name === 'kwok+kwokctl') {
          const pkgs = ['kwok', 'kwokctl'].map((b) => `${KWOK_MODULE}/cmd/${b}@v${KWOK_VERSION}`);
          await runner.run('kwok+kwokctl', ['install', ...flags, `-ldflags=${RECIPE.ldflags.kwok}`, ...pkgs], { cwd: work, env: { GOBIN: out } });
        } else {
          await runner.run('metrics-server', ['install', ...flags, `-ldflags=${RECIPE.ldflags.metricsServer}`, `${METRICS_SERVER_MODULE}/cmd/metrics-server@v${METRICS_SERVER_VERSION}`], {
            cwd: work,
            env: { GOBIN: out },
          });
        }
      });
      seconds[c.name] = Math.round((performance.now() - s0) / 100) / 10;
    }

    const set = setAt(out);
    const binaries = {} as BinaryManifest['binaries'];
    await progress.phase('checking versions, hashing, copying kwok stages', async () => {
      const kwokInfo = JSON.parse(await runner.run('kwok stages', ['mod', 'download', '-json', `${KWOK_MODULE}@v${KWOK_VERSION}`], { cwd: work })) as { Dir?: string };
      if (!kwokInfo.Dir) throw new EnvironmentError(`go mod download ${KWOK_MODULE}@v${KWOK_VERSION} gave no module directory`);
      // Module cache files are read-only: the copy is made writable so it (and the set) can be deleted and edited.
      await cp(join(kwokInfo.Dir, 'kustomize'), set.kwokKustomizeDir, { recursive: true });
      await makeWritable(set.kwokKustomizeDir);
      for (const c of BUILD_ORDER) {
        for (const name of c.binaries) {
          const path = set.path(name);
          const st = await stat(path).catch(() => undefined);
          if (!st?.isFile()) throw new EnvironmentError(`building ${c.name}: go finished but ${path} is missing; work dir kept for inspection: ${work}`);
          const v = await runVersion(path, name);
          if (!v.line) {
            throw new EnvironmentError(
              `built ${name}, but \`${name} ${VERSION_CHECK[name].args.join(' ')}\` printed "${lastLines(v.output, 3)}", not "${VERSION_CHECK[name].expect}"; work dir kept for inspection: ${work}`,
            );
          }
          binaries[name] = { sha256: await sha256File(path), size: st.size, version: v.line, buildSeconds: seconds[c.name] ?? 0 };
        }
      }
    });

    const manifest: BinaryManifest = {
      schema: 1,
      versionSetId: VERSION_SET_ID,
      versions: { ...PINNED },
      go,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((performance.now() - t0) / 100) / 10,
      recipe: RECIPE,
      components: BUILD_ORDER.map((c) => ({ name: c.name, binaries: c.binaries, seconds: seconds[c.name] ?? 0 })),
      binaries,
    };
    await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // An incomplete set of this id (a file deleted by hand, say) is replaced.
    await rm(final, { recursive: true, force: true });
    await rename(out, final);
    await rm(work, { recursive: true, force: true });
    await rmdir(dirname(work)).catch(() => {}); // <cache>/work, when no failed build is kept there
    progress.say(`binaries ready in ${final} (built in ${formatDuration(performance.now() - t0)})`);
    return setAt(final);
  } catch (err) {
    progress.stopTicker();
    await rm(out, { recursive: true, force: true }).catch(() => {});
    if (signal?.aborted) {
      await rm(work, { recursive: true, force: true }).catch(() => {});
      await rmdir(dirname(work)).catch(() => {});
      throw abortError(signal);
    }
    if (err instanceof EnvironmentError) throw err;
    throw new EnvironmentError(`building the local cluster's binaries failed: ${err instanceof Error ? err.message : String(err)}; work dir kept for inspection: ${work}`, {
      cause: err,
    });
  } finally {
    progress.stopTicker();
  }
}

/**
 * The binary set of the pinned versions: from the cache when complete, else built (once, under
 * a lock; a second process waits for the first and then uses its result). Needs Go only to build.
 */
export async function ensureBinaries(opts: { cacheDir?: string; log?: Log; signal?: AbortSignal } = {}): Promise<BinarySet> {
  const cache = opts.cacheDir ?? cacheRoot();
  const found = await findBinaries(cache);
  if (found) return found;
  const log = opts.log ?? stderrLog;
  const go = await checkGo();
  const binRoot = join(cache, 'bin');
  await mkdir(binRoot, { recursive: true });
  return withDirLock(
    join(binRoot, `.lock-${VERSION_SET_ID}`),
    async () => {
      const meanwhile = await findBinaries(cache);
      if (meanwhile) return meanwhile;
      return build(cache, go, log, opts.signal);
    },
    {
      signal: opts.signal,
      onWait: (owner) => log(`waiting for process ${owner?.pid ?? '?'}${owner && owner.host !== hostname() ? ` on ${owner.host}` : ''} to finish building the binaries in ${binRoot}…`),
    },
  );
}

/** Each binary's sha256 against manifest.json, and its version command against the pinned version. */
export async function verifyBinaries(set: BinarySet): Promise<Array<{ name: BinaryName; ok: boolean; detail: string }>> {
  const manifest = await readManifest(set.dir);
  return Promise.all(
    BINARY_NAMES.map(async (name) => {
      const path = set.path(name);
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile()) return { name, ok: false, detail: `missing: ${path}` };
      const entry = manifest?.binaries[name];
      if (!entry) return { name, ok: false, detail: 'not in manifest.json' };
      const [sum, v] = await Promise.all([sha256File(path), runVersion(path, name)]);
      if (sum !== entry.sha256) return { name, ok: false, detail: `sha256 ${sum.slice(0, 12)}… differs from manifest.json's ${entry.sha256.slice(0, 12)}… (changed since the build)` };
      if (!v.line) return { name, ok: false, detail: `\`${name} ${VERSION_CHECK[name].args.join(' ')}\` printed "${lastLines(v.output, 2)}", not "${VERSION_CHECK[name].expect}"` };
      return { name, ok: true, detail: `${v.line}, sha256 matches` };
    }),
  );
}
