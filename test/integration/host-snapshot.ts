/** What a real node could leave on this machine, for before/after comparisons in the real-node tests. */
import { existsSync } from 'node:fs';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { execa } from 'execa';
import { HOST_PATHS, TOUCHED_SYSCTLS } from '../../src/cluster/real-node/layout.js';
import { podCgroupDirs } from '../../src/cluster/real-node/node.js';

/**
 * Mounts that are a Docker engine's or a kind image build's, not a real node's: on a machine
 * shared with kind clusters (whose nodes' mounts show in this mount namespace) they come and go
 * with others' work.
 */
const NOT_A_REAL_NODE = /^\/(var\/lib\/(docker|kubeproof-docker)|run\/(docker|kubeproof-docker)|run\/containerd\/io\.containerd\.runtime\.v2\.task\/moby)\/|\/kind\/work\//;

/** What a real node could leave on the host: its processes, mounts, links, iptables chains, dirs, kernel settings, cgroups. */
export async function hostSnapshot(): Promise<Record<string, string[]>> {
  const ours = /^(containerd|containerd-shim.*|kubelet|kube-proxy|runc|pause|testapp)$/;
  // Processes in another PID namespace are a container's (a kind node's kubelet, its pods' pause), not the real node's.
  const pidNs = await readlink('/proc/self/ns/pid');
  const procs: string[] = [];
  for (const pid of (await readdir('/proc')).filter((e) => /^\d+$/.test(e))) {
    if ((await readlink(`/proc/${pid}/ns/pid`).catch(() => pidNs)) !== pidNs) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (!ours.test(comm) || state === 'Z') continue;
    // A Docker engine's containerd and the shims of its containers (namespace moby) are not the real node's.
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (/-namespace\0moby\0|kubeproof-docker|\/docker\/containerd/.test(cmdline)) continue;
    procs.push(comm);
  }
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m && !NOT_A_REAL_NODE.test(m));
  // A Docker engine's bridges (docker0, br-<network id>) and the veths enslaved to them are its containers', not the real node's.
  const dockerLink = /^(docker0|br-[0-9a-f]{12})$/;
  const links = (await execa('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .filter((l) => !/ master (docker0|br-[0-9a-f]{12}) /.test(l))
    .map((l) => l.split(': ')[1]?.split('@')[0] ?? '')
    .filter((l) => !dockerLink.test(l));
  const chains: string[] = [];
  for (const save of ['iptables-save', 'ip6tables-save']) {
    for (const t of ['filter', 'nat', 'mangle', 'raw']) {
      const r = await execa(save, ['-t', t], { reject: false });
      chains.push(...r.stdout.split('\n').filter((l) => l.startsWith(':')).map((l) => `${save} ${t} ${l.split(' ')[0]}`));
    }
  }
  const sysctls = await Promise.all(TOUCHED_SYSCTLS.map(async (k) => `${k}=${(await readFile(`/proc/sys/${k}`, 'utf8').catch(() => '?')).trim()}`));
  return {
    processes: procs.sort(),
    mounts: mounts.sort(),
    links: links.sort(),
    chains: chains.sort(),
    hostPaths: HOST_PATHS.filter((p) => existsSync(p)),
    sysctls,
    cgroups: (await podCgroupDirs()).filter((p) => existsSync(p)),
  };
}

