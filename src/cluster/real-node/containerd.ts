/**
 * The real node's own containerd: root, state, sockets, runc state, CNI config and IPAM data
 * under the cluster's dir, the local pause image as the CRI sandbox image, images imported
 * with `ctr` from tarballs (there is no registry). Config version 2 is read by containerd
 * 1.6, 1.7 and 2.x (2.x migrates it).
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../../errors.js';
import { daemonPid, startDaemon, stopDaemon, type Daemon } from './daemon.js';
import { PAUSE_IMAGE } from '../build/images.js';
import type { RealNodeLayout } from './layout.js';

export const CNI_BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

/** CAP_SYS_RESOURCE (bit 24 of the effective set): without it no process may lower its oom_score_adj. */
export async function canLowerOomScore(): Promise<boolean> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const eff = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
  return eff !== undefined && (BigInt(`0x${eff}`) & (1n << 24n)) !== 0n;
}

export function containerdConfig(l: RealNodeLayout, cniBinDir: string, restrictOomScoreAdj: boolean): string {
  const q = (s: string) => JSON.stringify(s);
  return `version = 2
root = ${q(l.containerd.root)}
state = ${q(l.containerd.state)}
# Only the CRI and what it needs: no other plugin writes to the host.
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${q(l.containerd.socket)}

[ttrpc]
  address = ${q(`${l.containerd.socket}.ttrpc`)}

[debug]
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(l.containerd.optDir)}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(PAUSE_IMAGE.ref)}
  disable_apparmor = true
  # Without CAP_SYS_RESOURCE runc cannot give a sandbox oom_score_adj -998 and every pod fails
  # ("can't get final child's PID from pipe"): then clamp pods to containerd's own score.
  restrict_oom_score_adj = ${restrictOomScoreAdj}
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${q(l.containerd.runcRoot)}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(cniBinDir)}
    conf_dir = ${q(l.cni.confDir)}
    max_conf_num = 1
`;
}

/** Resolves when `path` exists (fs.watch on its directory), rejects at the deadline. */
export function fileAppears(path: string, withinMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const dir = dirname(path);
    const name = basename(path);
    const check = () =>
      readdir(dir)
        .then((names) => {
          if (names.includes(name)) done(undefined);
        })
        .catch(() => undefined);
    const watcher = watch(dir, (_e, f) => {
      if (f === name) void check();
    });
    const timer = setTimeout(() => done(new EnvironmentError(`${what} did not appear within ${withinMs / 1000} s (${path})`)), withinMs);
    let finished = false;
    function done(err: Error | undefined) {
      if (finished) return;
      finished = true;
      watcher.close();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    }
    void check();
  });
}

export async function startContainerd(l: RealNodeLayout, cniBinDir: string): Promise<Daemon> {
  for (const d of [l.containerd.root, l.containerd.state, l.containerd.runcRoot, l.containerd.optDir, l.cni.confDir, l.cni.ipamDir, l.pids, l.logs]) {
    await mkdir(d, { recursive: true });
  }
  await writeFile(l.containerd.config, containerdConfig(l, cniBinDir, !(await canLowerOomScore())));
  const d = await startDaemon({ name: 'containerd', command: 'containerd', args: ['--config', l.containerd.config], pidDir: l.pids, logDir: l.logs });
  try {
    await fileAppears(l.containerd.socket, 15_000, 'containerd socket');
  } catch (err) {
    const tail = (await readFile(d.log, 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n');
    throw new EnvironmentError(`${(err as Error).message}; containerd log:\n${tail}`, { hint: `full log: ${d.log}` });
  }
  return d;
}

export function ctr(l: RealNodeLayout, args: string[]) {
  return execa('ctr', ['--address', l.containerd.socket, '--namespace', 'k8s.io', ...args], { reject: false, all: true, stdin: 'ignore' });
}

/** Import image tarballs into the CRI's namespace; returns the image names containerd reports. */
export async function importImage(l: RealNodeLayout, tarball: string, opts: { indexName?: string } = {}): Promise<string[]> {
  const r = await ctr(l, ['images', 'import', ...(opts.indexName ? ['--index-name', opts.indexName] : []), tarball]);
  if (r.exitCode !== 0) throw new EnvironmentError(`ctr images import ${tarball} failed: ${(r.all ?? '').trim()}`);
  // "unpacking kubeproof.local/pause:1 (sha256:…)...done"
  return [...(r.all ?? '').matchAll(/^unpacking (\S+) \(/gm)].map((m) => m[1]!);
}

export async function tagImage(l: RealNodeLayout, from: string, to: string): Promise<void> {
  const r = await ctr(l, ['images', 'tag', '--force', from, to]);
  if (r.exitCode !== 0) throw new EnvironmentError(`ctr images tag ${from} ${to} failed: ${(r.all ?? '').trim()}`);
}

/**
 * Stop containerd and whatever it still runs: every task killed and deleted (so no shim
 * outlives it), then containerd itself, then any shim still serving this containerd
 * (found by its -address argument, never by name).
 */
export async function stopContainerd(l: RealNodeLayout): Promise<string[]> {
  const notes: string[] = [];
  if (await daemonPid(l.pids, 'containerd')) {
    const tasks = await ctr(l, ['tasks', 'ls', '--quiet']);
    const ids = (tasks.stdout ?? '').split('\n').map((s) => s.trim()).filter(Boolean);
    for (const id of ids) {
      await ctr(l, ['tasks', 'kill', '--signal', 'SIGKILL', id]);
      await ctr(l, ['tasks', 'delete', '--force', id]);
    }
    if (ids.length) notes.push(`killed ${ids.length} container task(s) the kubelet left`);
  }
  const how = await stopDaemon(l.pids, 'containerd');
  if (how === 'killed') notes.push('containerd did not stop on SIGTERM; killed');
  else if (how.startsWith('left alone')) notes.push(`containerd ${how}`);
  for (const pid of await shimsOf(l)) {
    try {
      process.kill(pid, 'SIGKILL');
      notes.push(`killed containerd-shim ${pid}`);
    } catch {
      // gone meanwhile
    }
  }
  return notes;
}

/** Shim processes whose command line names this containerd's socket. */
async function shimsOf(l: RealNodeLayout): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
    const args = cmd.split('\0');
    if (args.some((a) => a === l.containerd.socket || a === `${l.containerd.socket}.ttrpc`) && basename(args[0] ?? '').startsWith('containerd-shim')) out.push(Number(e));
  }
  return out;
}

export async function removeContainerdSocket(l: RealNodeLayout): Promise<void> {
  await rm(l.containerd.socket, { force: true });
  await rm(`${l.containerd.socket}.ttrpc`, { force: true });
}
