/**
 * What a real node needs of this machine: root, containerd, runc, ctr, the CNI plugins,
 * iptables and iproute2 (all from the distribution), each with the command that installs it.
 * Shared by `kubeproof doctor` and by `cluster up --real-nodes`, which refuses with the same words.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../../errors.js';
import { onPath } from '../../host.js';
import { CNI_BIN_DIRS } from './containerd.js';

export interface HostRequirement {
  name: string;
  ok: boolean;
  detail: string;
  /** The command that makes it ok, when there is one. */
  fix?: string;
}


export async function cniBinDir(): Promise<string | undefined> {
  for (const d of CNI_BIN_DIRS) {
    if (await stat(join(d, 'bridge')).then((s) => s.isFile(), () => false)) return d;
  }
  return undefined;
}

export async function cgroupVersion(): Promise<'v1' | 'v2'> {
  // cgroup v2 exposes cgroup.controllers at the root of /sys/fs/cgroup.
  return (await readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8').then(() => true, () => false)) ? 'v2' : 'v1';
}

const APT = 'apt-get install -y';

export async function realNodeRequirements(): Promise<HostRequirement[]> {
  const bin = async (name: string, command: string, pkg: string): Promise<HostRequirement> => {
    const p = await onPath(command, { sbin: true });
    return { name, ok: Boolean(p), detail: p ?? 'missing', fix: p ? undefined : `${APT} ${pkg}` };
  };
  const root = process.getuid?.() === 0;
  const cni = await cniBinDir();
  return [
    { name: 'root', ok: root, detail: root ? 'running as root' : `running as uid ${process.getuid?.()}`, fix: root ? undefined : 'run as root (sudo): a kubelet, containerd and iptables need it' },
    await bin('containerd', 'containerd', 'containerd'),
    await bin('ctr', 'ctr', 'containerd'),
    await bin('runc', 'runc', 'runc'),
    { name: 'CNI plugins', ok: Boolean(cni), detail: cni ?? `missing (${CNI_BIN_DIRS.map((d) => `${d}/bridge`).join(', ')})`, fix: cni ? undefined : `${APT} containernetworking-plugins` },
    await bin('iptables', 'iptables', 'iptables'),
    await bin('ip', 'ip', 'iproute2'),
    await bin('openssl', 'openssl', 'openssl'),
  ];
}

/** What makes the missing requirements ok, as one line: the one command that installs every missing package, and root if that is missing too. */
export function installHint(missing: HostRequirement[]): string {
  const packages = [...new Set(missing.flatMap((m) => (m.fix?.startsWith(APT) ? m.fix.slice(APT.length + 1).split(' ') : [])))];
  const notRoot = missing.some((m) => m.name === 'root');
  return [packages.length ? `${APT} ${packages.join(' ')}` : '', notRoot ? 'run kubeproof as root' : ''].filter(Boolean).join('; then ');
}

/** Throws EnvironmentError (exit 3) naming everything missing and the one command that installs it. */
export async function assertRealNodeHost(): Promise<void> {
  const missing = (await realNodeRequirements()).filter((r) => !r.ok);
  if (missing.length === 0) return;
  throw new EnvironmentError(`real nodes need ${missing.map((m) => `${m.name} (${m.detail})`).join(', ')}`, { hint: installHint(missing) });
}

export interface Mount {
  point: string;
  fstype: string;
}

/** This process's mounts, from /proc/self/mountinfo (octal escapes in mount points decoded). */
export async function mounts(mountinfo?: string): Promise<Mount[]> {
  const text = mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''));
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(' ');
      const sep = fields.indexOf('-');
      return { point: (fields[4] ?? '').replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))), fstype: sep >= 0 ? (fields[sep + 1] ?? '') : '' };
    })
    .filter((m) => m.point);
}

/**
 * The cgroup hierarchies pods' cgroups go under: each cgroup v1 mount below /sys/fs/cgroup, or
 * the v2 root. Read from the mount table: a directory under /sys/fs/cgroup is not necessarily a
 * hierarchy (systemd run in a container with /sys/fs/cgroup bind-mounted leaves plain ones).
 */
export async function cgroupHierarchies(mountinfo?: string): Promise<string[]> {
  const all = await mounts(mountinfo);
  const v2 = all.find((m) => m.fstype === 'cgroup2' && m.point === '/sys/fs/cgroup');
  if (v2) return [v2.point];
  return [...new Set(all.filter((m) => m.fstype === 'cgroup' && m.point.startsWith('/sys/fs/cgroup/')).map((m) => m.point))].sort();
}
