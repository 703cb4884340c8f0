/** What a real node could leave on this machine, for before/after comparisons in the real-node tests. */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { execa } from 'execa';
import { HOST_PATHS, TOUCHED_SYSCTLS } from '../../src/cluster/real-node/layout.js';
import { podCgroupDirs } from '../../src/cluster/real-node/node.js';

/** What a real node could leave on the host: its processes, mounts, links, iptables chains, dirs, kernel settings, cgroups. */
export async function hostSnapshot(): Promise<Record<string, string[]>> {
  const ours = /^(containerd|containerd-shim.*|kubelet|kube-proxy|runc|pause|testapp)$/;
  const procs: string[] = [];
  for (const pid of (await readdir('/proc')).filter((e) => /^\d+$/.test(e))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (ours.test(comm) && state !== 'Z') procs.push(comm);
  }
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4] ?? '').filter(Boolean);
  const links = (await execa('ip', ['-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '');
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

