/**
 * `kubeproof doctor`: what this machine has and which kinds of cluster it can therefore run.
 * The report goes to `out` (stdout); progress ("hashing …") to `log` (stderr).
 * Exit 0 when the local cluster can run (binaries cached and verified, or Go to build them), else 3.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { ExitCode, KubeproofError, describeError } from '../errors.js';
import type { Log } from '../log.js';
import { onPath } from '../host.js';
import { BINARY_NAMES, VERSION_SET_ID, checkGo, findBinaries, readManifest, verifyBinaries } from '../cluster/build/binaries.js';
import { cacheRoot } from '../cluster/paths.js';
import { cgroupVersion, realNodeRequirements } from '../cluster/real-node/host.js';
import { COLD_BUILD_TOTAL_SECONDS, ETCD_VERSION, KUBERNETES_VERSION, KWOK_VERSION, METRICS_SERVER_VERSION, MIN_GO_VERSION } from '../cluster/build/versions.js';


async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function home(path: string): string {
  const h = homedir();
  return h && path.startsWith(`${h}/`) ? `~${path.slice(h.length)}` : path;
}

/** `docker info` answers only when an engine is reachable; 5 s at most. */
async function dockerEngine(docker: string): Promise<{ ok: boolean; detail: string }> {
  const r = await execa(docker, ['info', '--format', '{{.ServerVersion}}'], { reject: false, all: true, timeout: 5000, stdin: 'ignore' });
  const text = (r.all ?? '').trim();
  if (r.timedOut) return { ok: false, detail: 'engine did not answer within 5 s' };
  if (r.exitCode === 0 && text && !/error/i.test(text)) return { ok: true, detail: `engine ${text.split('\n').pop()}` };
  const firstError = text.split('\n').find((l) => /cannot connect|error|permission denied/i.test(l)) ?? text.split('\n')[0] ?? '';
  return { ok: false, detail: `no engine answers${firstError ? ` (${firstError.trim().slice(0, 120)})` : ''}` };
}

/** The kubeconfig kubectl would use, and its current context. */
async function kubeconfig(): Promise<{ path?: string; context?: string; detail: string }> {
  const candidates = process.env.KUBECONFIG ? process.env.KUBECONFIG.split(delimiter).filter(Boolean) : [join(homedir(), '.kube', 'config')];
  const present: string[] = [];
  for (const c of candidates) if (await exists(c)) present.push(c);
  if (present.length === 0) {
    return { detail: `missing (${process.env.KUBECONFIG ? `KUBECONFIG=${process.env.KUBECONFIG}` : home(candidates[0] ?? '~/.kube/config')} does not exist)` };
  }
  let context: string | undefined;
  for (const p of present) {
    try {
      const doc = YAML.parse(await readFile(p, 'utf8')) as { 'current-context'?: string } | null;
      context = doc?.['current-context'] || context;
      if (context) break;
    } catch {
      // unreadable: reported below without a context
    }
  }
  return { path: present.join(delimiter), context, detail: `${present.map(home).join(delimiter)}${context ? `, current context "${context}"` : ', no current context'}` };
}

export async function doctor(opts: { log: Log; out: (line: string) => void }): Promise<number> {
  const { log, out } = opts;
  const rows: Array<[string, string]> = [];
  const row = (k: string, v: string) => rows.push([k, v]);
  const flush = () => {
    const w = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) out(`  ${k.padEnd(w)}  ${v}`);
    rows.length = 0;
  };

  out(`kubeproof doctor`);
  out('');
  out(`Local cluster (Kubernetes ${KUBERNETES_VERSION}, etcd ${ETCD_VERSION}, kwok ${KWOK_VERSION}, metrics-server ${METRICS_SERVER_VERSION}, built from source)`);

  // Go.
  let go: { version: string; path: string } | undefined;
  let goProblem = '';
  try {
    go = await checkGo();
    row('go', `${go.version} (${go.path}), >= ${MIN_GO_VERSION}: ok`);
  } catch (err) {
    goProblem = err instanceof KubeproofError ? err.message.split(/(?<=\.) /)[0]! : describeError(err);
    row('go', goProblem);
    if (err instanceof KubeproofError && err.hint) row('', `→ ${err.hint}`);
  }

  // Cached binaries.
  const cache = cacheRoot();
  row('cache', home(cache));
  const set = await findBinaries(cache);
  let verified = false;
  let verifyProblem = '';
  if (set) {
    row('binaries', `${home(set.dir)}`);
    flush();
    log('verifying the cached binaries (sha256 of ~560 MB and each `--version`)…');
    const manifest = await readManifest(set.dir);
    const results = await verifyBinaries(set);
    const w = Math.max(...BINARY_NAMES.map((n) => n.length));
    for (const r of results) out(`    ${r.name.padEnd(w)}  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.detail}`);
    if (manifest) out(`    built ${manifest.builtAt} with ${manifest.go.version} in ${Math.round(manifest.buildSeconds)} s`);
    const bad = results.filter((r) => !r.ok);
    verified = bad.length === 0;
    if (!verified) verifyProblem = `${bad.map((b) => b.name).join(', ')} fail verification`;
  } else {
    const partial = await exists(join(cache, 'bin', VERSION_SET_ID));
    row('binaries', partial ? `incomplete set in ${home(join(cache, 'bin', VERSION_SET_ID))} (an interrupted build? it is rebuilt on next use)` : `not built yet (${VERSION_SET_ID})`);
  }
  const others = (await readdir(join(cache, 'bin')).catch(() => [] as string[])).filter((e) => !e.startsWith('.') && e !== VERSION_SET_ID);
  if (others.length) row('other sets', `${others.join(', ')} (older versions, not used; safe to delete)`);
  flush();

  // kind, Docker, kubeconfig.
  out('');
  out('Other clusters');
  const kind = await onPath('kind');
  const docker = await onPath('docker');
  const engine = docker ? await dockerEngine(docker) : undefined;
  const kc = await kubeconfig();
  row('kind', kind ?? 'missing (https://kind.sigs.k8s.io)');
  row('docker', docker ? `${docker}, ${engine?.detail}` : 'missing');
  row('kubeconfig', kc.detail);
  flush();

  // Real nodes (cluster up --real-nodes): packages from the distribution.
  out('');
  out('Real nodes (kubeproof cluster up --real-nodes 1)');
  const real = await realNodeRequirements();
  for (const r of real) row(r.name, r.ok ? `${r.detail}: ok` : `${r.detail}${r.fix ? ` → ${r.fix}` : ''}`);
  row('cgroup', `${await cgroupVersion()}`);
  flush();
  const realMissing = real.filter((r) => !r.ok);
  const realPackages = [...new Set(realMissing.flatMap((r) => (r.fix?.startsWith('apt-get install -y ') ? r.fix.slice('apt-get install -y '.length).split(' ') : [])))];

  // What that enables.
  let local: string;
  let localOk: boolean;
  if (set && verified) {
    localOk = true;
    local = 'yes: binaries cached and verified';
  } else if (set && !verified) {
    localOk = false;
    local = `no: ${verifyProblem}; delete ${home(set.dir)} and run again to rebuild${go ? '' : ' (needs Go)'}`;
  } else if (go) {
    localOk = true;
    local = `yes: ${go.version} builds the binaries on first use (about ${Math.floor(COLD_BUILD_TOTAL_SECONDS / 60)} min cold on 2 cores, once; or now: node scripts/build-binaries.mjs)`;
  } else {
    localOk = false;
    local = `no: binaries not built, and no usable Go to build them (${goProblem.replace(/\.$/, "")})`;
  }
  const kindOk = Boolean(kind && engine?.ok);
  const kindWhy = kindOk ? 'yes: kind and a Docker engine' : `no: needs kind and a Docker engine (${[!kind && 'kind missing', !docker ? 'docker missing' : !engine?.ok && 'no Docker engine answers'].filter(Boolean).join(', ')})`;
  const existing = kc.path ? `yes: ${kc.context ? `context "${kc.context}"` : 'a kubeconfig'}` : 'no: needs a kubeconfig (KUBECONFIG or --kubeconfig)';
  out('');
  out('What this machine can run');
  row('--cluster local', local);
  row('--cluster kind', kindWhy);
  row('--cluster existing', existing);
  row(
    '--real-nodes',
    realMissing.length === 0
      ? 'yes: root, containerd, runc, CNI plugins, iptables'
      : `no: needs ${realMissing.map((r) => r.name).join(', ')}${realPackages.length ? ` (apt-get install -y ${realPackages.join(' ')})` : ''}`,
  );
  flush();
  out('');
  out(localOk ? 'local cluster: ready' : 'local cluster: NOT ready (exit 3)');
  return localOk ? ExitCode.ok : ExitCode.environment;
}
