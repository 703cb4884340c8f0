/**
 * Where a cluster's real node keeps everything: under clusterDir(name)/real, so removing a
 * cluster removes its node. What the kubelet, containerd and the CNI plugins write outside
 * it (paths they do not let us move) is listed in HOST_PATHS and cleaned on teardown only
 * when the cluster created it and it is empty again.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadInputError } from '../../errors.js';
import { clusterDir } from '../paths.js';

export interface RealNodeLayout {
  dir: string;
  /** What `up` recorded about the host before it changed anything (see RealNodeRecord). */
  record: string;
  pids: string;
  logs: string;
  resolvConf: string;
  containerd: { root: string; state: string; config: string; socket: string; runcRoot: string; optDir: string };
  cni: { confDir: string; ipamDir: string };
  kubelet: { root: string; certDir: string; config: string; kubeconfig: string; podLogs: string; pki: string; command: string };
  kubeProxy: { config: string };
}

export function realNodeLayout(cluster: string): RealNodeLayout {
  const dir = join(clusterDir(cluster), 'real');
  const layout: RealNodeLayout = {
    dir,
    record: join(dir, 'real-node.json'),
    pids: join(dir, 'pids'),
    logs: join(dir, 'logs'),
    resolvConf: join(dir, 'resolv.conf'),
    containerd: {
      root: join(dir, 'containerd', 'root'),
      state: join(dir, 'containerd', 'state'),
      config: join(dir, 'containerd', 'config.toml'),
      socket: join(dir, 'containerd', 'containerd.sock'),
      runcRoot: join(dir, 'containerd', 'runc'),
      optDir: join(dir, 'containerd', 'opt'),
    },
    cni: { confDir: join(dir, 'cni', 'net.d'), ipamDir: join(dir, 'cni', 'ipam') },
    kubelet: {
      root: join(dir, 'kubelet'),
      certDir: join(dir, 'kubelet-pki'),
      config: join(dir, 'kubelet-config.yaml'),
      kubeconfig: join(dir, 'kubelet.kubeconfig'),
      podLogs: join(dir, 'pod-logs'),
      pki: join(dir, 'node-identity'),
      // How the kubelet was started, so any process can start it again the same way (a stopped-kubelet fault's undo).
      command: join(dir, 'kubelet-command.json'),
    },
    kubeProxy: { config: join(dir, 'kube-proxy-config.yaml') },
  };
  // A unix socket path must fit in 108 bytes (sun_path).
  if (Buffer.byteLength(`${layout.containerd.socket}.ttrpc`) > 107) {
    throw new BadInputError(`the real node's containerd socket path would be too long for a unix socket: ${layout.containerd.socket}`, {
      hint: 'use a shorter cluster name, or a shorter KUBEPROOF_CACHE',
    });
  }
  return layout;
}

/**
 * Paths outside the cluster's dir that kubelet 1.37, containerd 1.6–2.x and the CNI plugins
 * create and do not let us move. Removed on teardown only when created by this cluster's `up`
 * and empty (for a directory) by then.
 */
export const HOST_PATHS = [
  '/var/lib/kubelet/device-plugins',
  '/var/lib/kubelet',
  '/var/log/containers',
  '/run/containerd/s',
  '/run/containerd/fifo',
  '/run/containerd/runc/k8s.io',
  '/run/containerd/runc',
  '/run/containerd',
  '/var/lib/cni/results',
  '/var/lib/cni',
  '/run/netns',
  '/var/run/netns',
  '/run/nri',
] as const;

/** Files the kubelet leaves in HOST_PATHS it created: removed with them. */
export const KUBELET_HOST_FILES = ['/var/lib/kubelet/device-plugins/kubelet.sock', '/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint'] as const;

/** The cgroup containerd's CRI puts pods under when the kubelet names no parent (cgroupsPerQOS off). */
export const POD_CGROUP = 'k8s.io';

/** Kernel settings the kubelet (protectKernelDefaults off) and the CNI bridge (isGateway) change; restored on teardown. */
export const TOUCHED_SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
  'net/ipv4/ip_forward',
  'net/ipv4/conf/all/route_localnet',
] as const;

/** What `up` wrote down before touching the host, so any later process can undo exactly that. */
export interface RealNodeRecord {
  cluster: string;
  nodeName: string;
  nodeIP: string;
  bridge: string;
  podSubnet: string;
  cniNetwork: string;
  /** HOST_PATHS that did not exist before. */
  createdHostPaths: string[];
  /** The POD_CGROUP dirs (one per cgroup v1 hierarchy, or one on v2) that did not exist before. */
  createdCgroups: string[];
  /** TOUCHED_SYSCTLS' values before (key → value). */
  sysctls: Record<string, string>;
  /** iptables/ip6tables chains per family and table before, to remove only the ones this node added. */
  chainsBefore: Record<string, string[]>;
}

export async function readRecord(layout: RealNodeLayout): Promise<RealNodeRecord | undefined> {
  return readFile(layout.record, 'utf8')
    .then((t) => JSON.parse(t) as RealNodeRecord)
    .catch(() => undefined);
}

export async function writeRecord(layout: RealNodeLayout, record: RealNodeRecord): Promise<void> {
  await writeFile(layout.record, `${JSON.stringify(record, null, 2)}\n`);
}
