/**
 * Tear a real node down so the host is as real-node.json found it, from any process and
 * from any point of an interrupted `up` or `down`. The order matters:
 *   1. its pods deleted while the kubelet still runs (so CNI releases their addresses and the
 *      kubelet unmounts their volumes) — only when the API server and the kubelet are alive;
 *   2. the kubelet and kube-proxy stopped; kube-proxy's rules removed;
 *   3. containerd's remaining tasks killed, containerd and any shim of it stopped;
 *   4. every mount under the node's dir unmounted (deepest first);
 *   5. the bridge, the iptables chains this node added, the kernel settings it changed, the
 *      host paths it created (if empty);
 *   6. the node's dir removed — only once nothing is mounted under it.
 * The control plane is stopped by the caller afterwards: nothing here needs it after step 1.
 */
import { readFile, readdir, readlink, rm, rmdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { CleanupError } from '../../errors.js';
import { formatDuration, type Log } from '../../log.js';
import type { Kube } from '../../kube/client.js';
import { Informer, now } from '../../kube/informer.js';
import type { Pod } from '../../kube/types.js';
import { until } from '../../wait/until.js';
import type { BinarySet } from '../build/binaries.js';
import { removeContainerdSocket, stopContainerd } from './containerd.js';
import { daemonPid, stopDaemon } from './daemon.js';
import { KUBELET_HOST_FILES, readRecord, realNodeLayout, type RealNodeLayout, type RealNodeRecord } from './layout.js';
import { deleteBridge, linkExists, removeAddedChains, restoreSysctls } from './network.js';
import { cgroupHierarchies } from './host.js';
import { kwokWorkdir } from '../paths.js';

const TEARDOWN_TAINT = 'kubeproof.io/tearing-down';

export function hasRealNode(cluster: string): boolean {
  return existsSync(realNodeLayout(cluster).dir);
}

/** Whether any process of the cluster's real node still runs (proven by its pid file's start time). */
export async function realNodeRunning(cluster: string): Promise<boolean> {
  const l = realNodeLayout(cluster);
  for (const d of ['kubelet', 'containerd', 'kube-proxy']) if (await daemonPid(l.pids, d)) return true;
  return false;
}

/**
 * The cluster holding this machine's one real node: one whose real-node processes run. A dead
 * cluster's leftovers (a record whose teardown met a problem) never hold it.
 */
export async function realNodeHolder(except?: string): Promise<string | undefined> {
  for (const name of await readdir(join(kwokWorkdir(), 'clusters')).catch(() => [] as string[])) {
    if (name !== except && hasRealNode(name) && (await realNodeRunning(name))) return name;
  }
  return undefined;
}

/** Delete every pod on the node and wait (watched) until the kubelet has finished them all. */
async function drainPods(kube: Kube, nodeName: string, log: Log): Promise<void> {
  // A NoExecute taint first, so nothing (DaemonSets included) lands here again meanwhile.
  await kube
    .mergePatch('Node', nodeName, undefined, { spec: { unschedulable: true, taints: [{ key: TEARDOWN_TAINT, value: 'true', effect: 'NoExecute' }] } })
    .catch(() => undefined);
  const pods = new Informer<Pod>(kube, 'Pod', { fieldSelector: `spec.nodeName=${nodeName}` });
  try {
    await pods.start();
    const t0 = now();
    const present = pods.list();
    if (present.length === 0) return;
    await Promise.all(
      present.map((p) => kube.delete('Pod', p.metadata!.name!, p.metadata!.namespace, { gracePeriodSeconds: Math.min(p.spec?.terminationGracePeriodSeconds ?? 2, 2) }).catch(() => undefined)),
    );
    try {
      await until(
        { description: `no pods left on ${nodeName}`, sources: [pods], evaluate: () => ({ ok: pods.list().length === 0, observed: pods.list().map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(', ') }) },
        { within: 30_000, since: t0 },
      );
      log(`deleted ${present.length} pod(s) on ${nodeName} in ${formatDuration(now() - t0)}`);
    } catch (err) {
      // The kubelet did not finish them: remove the objects; steps 3–4 clean the host side.
      log(`pods on ${nodeName} not finished by the kubelet: ${(err as Error).message.split('\n')[0]}; force-deleting`);
      await Promise.all(pods.list().map((p) => kube.delete('Pod', p.metadata!.name!, p.metadata!.namespace, { gracePeriodSeconds: 0 }).catch(() => undefined)));
    }
  } finally {
    await pods.stop();
  }
}

/** Mount points at or under `dir`, deepest first (from /proc/self/mountinfo; octal escapes decoded). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const points = text
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => Boolean(p))
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

async function unmountAll(dir: string): Promise<string[]> {
  const done: string[] = [];
  // A mount may be stacked several times (the kubelet bind-mounts its root dir onto itself): repeat until none is left.
  for (let round = 0; round < 10; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) break;
    for (const p of points) {
      const r = await execa('umount', [p], { reject: false, all: true });
      if (r.exitCode !== 0) await execa('umount', ['--lazy', p], { reject: false });
      done.push(p);
    }
  }
  return done;
}

/**
 * Files this node left in shared host dirs — CNI result caches named after its sandboxes (or its
 * network), log symlinks pointing into its dir — then the HOST_PATHS it created, if now empty.
 */
async function removeHostLeftovers(l: RealNodeLayout, record: RealNodeRecord, note: (s: string) => void): Promise<void> {
  const sandboxes = await readdir(join(l.containerd.root, 'io.containerd.grpc.v1.cri', 'sandboxes')).catch(() => [] as string[]);
  const results = '/var/lib/cni/results';
  for (const f of await readdir(results).catch(() => [] as string[])) {
    if (f.startsWith(`${record.cniNetwork}-`) || sandboxes.some((id) => f.includes(`-${id}-`))) await rm(join(results, f), { force: true });
  }
  const logLinks = '/var/log/containers';
  for (const f of await readdir(logLinks).catch(() => [] as string[])) {
    const target = await readlink(join(logLinks, f)).catch(() => '');
    if (target.startsWith(`${l.dir}/`)) await rm(join(logLinks, f), { force: true });
  }
  for (const f of KUBELET_HOST_FILES) {
    if (record.createdHostPaths.some((p) => f.startsWith(`${p}/`))) await rm(f, { force: true });
  }
  // Deepest first, each only if now empty.
  for (const p of [...record.createdHostPaths].sort((a, b) => b.length - a.length)) {
    const st = await stat(p).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    // Not an error: whatever is still in it is not this node's.
    await rmdir(p).catch((err: NodeJS.ErrnoException) => note(`left ${p}: ${err.code === 'ENOTEMPTY' ? 'it holds files that are not this node\'s' : err.message}`));
  }
}

/**
 * Remove a cgroup dir this node created and the (empty, process-free) cgroups under it,
 * deepest first. A dir that is not in a cgroup hierarchy (per the mount table) is not a
 * cgroup: it is left, with a note, and is no problem of this teardown's.
 */
export async function removeCgroupTree(dir: string, hierarchies: string[], note: (s: string) => void): Promise<void> {
  if (!hierarchies.some((h) => dir === h || dir.startsWith(`${h}/`))) {
    if (existsSync(dir)) note(`left ${dir}: not in a cgroup hierarchy (${hierarchies.join(', ') || 'none mounted'}), so not this node's cgroup`);
    return;
  }
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await removeCgroupTree(join(dir, e.name), hierarchies, note);
  await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return;
    if (err.code === 'EROFS') return note(`left ${dir}: read-only file system`);
    throw new Error(`cgroup ${dir}: ${err.code === 'EBUSY' ? 'still has processes' : err.message}`);
  });
}

export interface TeardownReport {
  steps: string[];
  problems: string[];
}

/**
 * Everything of a cluster's real node, in the order above. `kube` is the cluster's client
 * when its API server is still up (step 1 needs it); without it, pods are not drained and
 * the host side is cleaned regardless. Throws CleanupError when something could not be undone.
 */
export async function tearDownRealNode(cluster: string, opts: { kube?: Kube; bins?: BinarySet; keepDir?: boolean; log: Log }): Promise<TeardownReport> {
  const l = realNodeLayout(cluster);
  const report: TeardownReport = { steps: [], problems: [] };
  if (!existsSync(l.dir)) return report;
  const t0 = now();
  const record = await readRecord(l);
  const step = (s: string) => report.steps.push(s);

  if (record && opts.kube && (await daemonPid(l.pids, 'kubelet'))) {
    try {
      await drainPods(opts.kube, record.nodeName, opts.log);
      step('pods deleted');
    } catch (err) {
      report.problems.push(`could not delete the pods on ${record.nodeName}: ${(err as Error).message}`);
    }
  }
  for (const d of ['kubelet', 'kube-proxy'] as const) step(`${d} ${await stopDaemon(l.pids, d)}`);
  if (opts.bins) {
    const r = await execa(opts.bins.path('kube-proxy'), ['--cleanup'], { reject: false, all: true });
    if (r.exitCode !== 0) report.problems.push(`kube-proxy --cleanup failed: ${(r.all ?? '').trim().split('\n').slice(-3).join(' ')}`);
  }
  for (const n of await stopContainerd(l)) step(n);
  await removeContainerdSocket(l);
  const unmounted = await unmountAll(l.dir);
  if (unmounted.length) step(`unmounted ${unmounted.length} mount(s)`);

  if (record) {
    if (await linkExists(record.bridge)) {
      if (await deleteBridge(record.bridge)) step(`bridge ${record.bridge} deleted`);
      else report.problems.push(`could not delete bridge ${record.bridge}`);
    }
    const chains = await removeAddedChains(record.chainsBefore, ['KUBE-', 'CNI-']);
    if (chains.length) step(`removed ${chains.length} iptables chain(s)`);
    const sysctls = await restoreSysctls(record.sysctls);
    if (sysctls.length) step(`restored ${sysctls.join(', ')}`);
    await removeHostLeftovers(l, record, (s) => step(s));
    const hierarchies = await cgroupHierarchies();
    for (const cg of record.createdCgroups ?? []) await removeCgroupTree(cg, hierarchies, step).catch((err: Error) => report.problems.push(err.message));
  }

  const still = await mountsUnder(l.dir);
  if (still.length) report.problems.push(`still mounted under ${l.dir}: ${still.slice(0, 5).join(', ')}`);
  // With a problem the dir (and real-node.json in it) stays, so the next `cluster down` can finish the job.
  if (!opts.keepDir && report.problems.length === 0) await rm(l.dir, { recursive: true, force: true });
  opts.log(`real node of "${cluster}" torn down in ${formatDuration(now() - t0)}${report.steps.length ? ` (${report.steps.join('; ')})` : ''}`);
  if (report.problems.length) {
    throw new CleanupError(`the real node of cluster "${cluster}" was not fully removed:\n  ${report.problems.join('\n  ')}`, {
      hint: `run \`kubeproof cluster down --name ${cluster}\` again; logs in ${l.logs}`,
    });
  }
  return report;
}

export type { RealNodeLayout };
