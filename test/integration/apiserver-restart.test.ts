/**
 * The control plane disrupted mid-scenario, on one local cluster used as an existing cluster:
 * kube-apiserver stopped and started again (with etcd compacted while it is down, so every
 * watch's old version is gone: 410 and a relist), and etcd frozen for a few seconds
 * (SIGSTOP/SIGCONT). Each while an expectation is waiting — one that holds (a silent node is
 * marked Unknown and its pods replaced) and one that does not (a fourth Ready pod that never
 * comes). The verdict must be the one the same feature gets undisturbed, the timeline must
 * show the gap, and the cluster must be left as found. Only processes proven the cluster's
 * are signalled: the pid file names them and /proc/<pid>/cmdline names the cluster's dir.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { LocalProvider, type LocalCluster } from '../../src/cluster/providers/local.js';
import { clusterDir } from '../../src/cluster/paths.js';
import { Kube } from '../../src/kube/client.js';
import { Informer, now, type WatchGap } from '../../src/kube/informer.js';
import { until, type Condition } from '../../src/wait/until.js';
import { processAlive, processStartTime } from '../../src/host.js';
import type { KubeObject, Node } from '../../src/kube/types.js';
import type { RunSummary } from '../../src/report/schema.js';
import { kubeproof, type Done } from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'kubeproof-apiserver-'));
const name = `api-${randomBytes(2).toString('hex')}`;
let cluster: LocalCluster;
let kube: Kube;
let nodes: Informer<Node>;
let deployments: Informer<KubeObject>;
const seenGaps: WatchGap[] = [];

const FEATURE = `Feature: claims judged across a control-plane disruption
  Scenario: a silent node is marked Unknown and its pods are replaced
    Given deployment "web" from "scenarios/web" is ready
    And within 30 s every zone runs at least 1 Ready pod of deployment "web"
    When node "node-2" stops sending heartbeats
    Then within 60 s node "node-2" is Unknown
    And within 90 s the pods of node "node-2" are replaced on other nodes

  Scenario: a claim that is false stays false
    Given deployment "api" from "scenarios/drain/api.yaml" is ready
    Then within 25 s 4 pods of deployment "api" are Ready
`;

type Component = 'kube-apiserver' | 'etcd' | 'kube-controller-manager' | 'kube-scheduler';

/** A control-plane process of the cluster, proven its own: named by its pid file, its command line naming the cluster's dir. */
async function component(which: Component): Promise<{ which: Component; pid: number; argv: string[] }> {
  const dir = clusterDir(name);
  const pid = Number((await readFile(join(dir, 'pids', `${which}.pid`), 'utf8')).trim());
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
  if (!argv[0]?.endsWith(`/${which}`) || !argv.some((a) => a.includes(dir))) throw new Error(`pid ${pid} is not the ${which} of cluster ${name}: ${argv.join(' ') || 'no such process'}`);
  return { which, pid, argv };
}

/** Resolves when the process has exited (tail --pid watches it for us). */
function exitOf(pid: number): { exited: Promise<void>; cancel: () => void } {
  const tail = spawn('tail', ['--pid', String(pid), '-s', '0.1', '-f', '/dev/null'], { stdio: 'ignore' });
  return { exited: new Promise((resolve) => tail.on('exit', () => resolve())), cancel: () => tail.kill() };
}

async function exited(pid: number, within: number): Promise<void> {
  const { exited: done, cancel } = exitOf(pid);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`pid ${pid} still running after ${within} ms`)), within)));
  try {
    await Promise.race([done, deadline]);
  } finally {
    clearTimeout(timer);
    cancel();
  }
}

/** One writer at a time of the cluster's kubeproof.json (the supervisor may respawn while the API server is being restarted). */
let metaWrites: Promise<unknown> = Promise.resolve();

/** Start a component again with the command line kwokctl gave it; the cluster's records name the new process, so `cluster down` stops it. */
async function respawn(which: Component, argv: string[]): Promise<number> {
  const write = metaWrites.then(() => respawnNow(which, argv));
  metaWrites = write.catch(() => undefined);
  return write;
}

async function respawnNow(which: Component, argv: string[]): Promise<number> {
  const dir = clusterDir(name);
  const log = openSync(join(dir, 'logs', `${which}.log`), 'a');
  const child = spawn(argv[0]!, argv.slice(1), { cwd: dir, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  await writeFile(join(dir, 'pids', `${which}.pid`), String(child.pid));
  const metaPath = join(dir, 'kubeproof.json');
  const meta = JSON.parse(await readFile(metaPath, 'utf8')) as { processes?: Record<string, { pid: number; startTime: string }> };
  const startTime = await processStartTime(child.pid!);
  if (meta.processes && startTime) meta.processes[which] = { pid: child.pid!, startTime };
  await writeFile(metaPath, JSON.stringify(meta, null, 2));
  return child.pid!;
}

/**
 * What a kubelet does for static pods: a controller-manager or scheduler that exits (it loses
 * its leader lease when the API server is away longer than its renew deadline, 10 s) is started
 * again with its command line, for as long as the run lasts.
 */
class Supervisor {
  readonly restarts: string[] = [];
  private readonly cancels: Array<() => void> = [];
  private stopped = false;

  async watch(which: Component): Promise<void> {
    const c = await component(which);
    const { exited: done, cancel } = exitOf(c.pid);
    this.cancels.push(cancel);
    void done.then(async () => {
      if (this.stopped) return;
      await respawn(which, c.argv);
      this.restarts.push(which);
      await this.watch(which);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.cancels) c();
  }
}

/** etcd's current revision, and a compaction to it: every older version is gone, so each watch resuming from one gets 410. */
async function compactEtcd(): Promise<void> {
  const { argv } = await component('etcd');
  const url = argv.find((a) => a.startsWith('--listen-client-urls='))!.split('=')[1]!.split(',')[0]!;
  const post = async (path: string, body: object) => {
    const r = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`etcd ${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as { header?: { revision?: string } };
  };
  const revision = (await post('/v3/kv/range', { key: Buffer.from('/registry').toString('base64'), limit: 1 })).header!.revision!;
  // The API server compacts etcd itself too: a revision already compacted is as good as ours.
  await post('/v3/kv/compaction', { revision, physical: true }).catch((err: Error) => {
    if (!/required revision has been compacted/.test(err.message)) throw err;
  });
}

/** A watch of ours resuming after a gap (the API server back and serving watches): resolves with the gap. */
function nextGap(within: number): Promise<WatchGap> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`no watch resumed within ${within} ms`)), within);
    const off = nodes.onGap((g) => {
      clearTimeout(deadline);
      off();
      resolve(g);
    });
  });
}

/** kube-apiserver killed, etcd compacted while it is down, the API server started again; resolves once our watches resumed. */
async function restartApiServer(): Promise<{ downMs: number; gap: WatchGap }> {
  const { pid, argv } = await component('kube-apiserver');
  const resumed = nextGap(120_000);
  const stoppedAt = now();
  process.kill(pid, 'SIGKILL');
  await exited(pid, 10_000);
  await compactEtcd();
  const started = await respawn('kube-apiserver', argv);
  const gap = await resumed.catch(async (err: Error) => {
    const log = await readFile(join(clusterDir(name), 'logs', 'kube-apiserver.log'), 'utf8').catch(() => '');
    throw new Error(`${err.message}; our node watch's gaps: ${JSON.stringify(seenGaps)}, relists ${nodes.relists}; the API server started again as pid ${started} is ${processAlive(started) ? 'running' : 'gone'}; its log ends:\n${log.split('\n').slice(-15).join('\n')}`);
  });
  return { downMs: now() - stoppedAt, gap };
}

/** Freeze etcd for `ms` (the experiment's length, not a wait for something), then let it run again. */
async function pauseEtcd(ms: number): Promise<void> {
  const { pid } = await component('etcd');
  process.kill(pid, 'SIGSTOP');
  try {
    await delay(ms);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

const silent = (): Condition => ({
  description: "node-2's heartbeats stopped by the run",
  sources: [nodes],
  evaluate: () => {
    const label = nodes.get('node-2')?.metadata?.labels?.['kwok.x-k8s.io/node'];
    return { ok: label !== 'fake', observed: `kwok label ${label}` };
  },
});

/** Deployment api of this run (made after `since`: the last run's may still be going with its namespace) with 3 ready replicas. */
const apiReady = (since: number): Condition => ({
  description: 'deployment api of the run with 3 ready replicas',
  sources: [deployments],
  evaluate: () => {
    const d = deployments.list().find((o) => o.metadata?.name === 'api' && o.metadata.namespace?.startsWith('kp-') && !o.metadata.deletionTimestamp && new Date(o.metadata.creationTimestamp ?? 0).getTime() >= since - 1000);
    const ready = (d as { status?: { readyReplicas?: number } } | undefined)?.status?.readyReplicas ?? 0;
    return { ok: ready >= 3, observed: `${ready} ready` };
  },
});

interface Outcome {
  done: Done;
  summary: RunSummary;
  disruptions: string[];
}

/** Run the feature; at each scenario's waiting expectation, `disrupt` (if any). */
async function runFeature(label: string, disrupt?: () => Promise<string>): Promise<Outcome> {
  const feature = join(tmp, 'disrupted.feature');
  writeFileSync(feature, FEATURE);
  const reports = join(tmp, label);
  const supervisor = new Supervisor();
  await Promise.all([supervisor.watch('kube-controller-manager'), supervisor.watch('kube-scheduler')]);
  const spawnedAt = Date.now();
  const run = kubeproof(['run', feature, '--cluster', 'existing', '--kubeconfig', cluster.kubeconfigPath, '--allow-context', cluster.context, '--reports', reports]);
  void run.done.then(() => supervisor.stop());
  const disruptions: string[] = [];
  if (disrupt) {
    try {
      for (const moment of [silent(), apiReady(spawnedAt)]) {
        await Promise.race([until(moment, { within: 180_000 }), run.done.then((d) => Promise.reject(new Error(`the run ended before "${moment.description}":\n${d.out}`)))]);
        disruptions.push(`${moment.description}: ${await disrupt()}`);
      }
    } catch (err) {
      run.child.kill('SIGINT');
      await run.done;
      throw err;
    }
  }
  const done = await run.done;
  supervisor.stop();
  if (supervisor.restarts.length) disruptions.push(`restarted after they exited: ${supervisor.restarts.join(', ')}`);
  const summary = JSON.parse(readFileSync(join(reports, 'latest', 'summary.json'), 'utf8')) as RunSummary;
  if (disrupt && summary.scenarios.some((sc) => sc.status === 'failed' && sc.name.startsWith('a silent node'))) {
    // What the cluster itself says, to tell a stale watch from the control plane not acting.
    const pods = (await kube.list('Pod')).items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name} on ${(p as { spec?: { nodeName?: string } }).spec?.nodeName}${p.metadata?.deletionTimestamp ? ' (deleting)' : ''}`);
    const taints = (await kube.list<Node>('Node')).items.map((n) => `${n.metadata?.name}: ${(n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).join(',')}`);
    const kcm = await readFile(join(clusterDir(name), 'logs', 'kube-controller-manager.log'), 'utf8').catch(() => '');
    process.stderr.write(`  after the run, pods: ${pods.join('; ')}\n  taints: ${taints.join('; ')}\n  controller-manager log:\n${kcm.split('\n').filter((l) => /node_lifecycle|taint|disruption|evict|leader/i.test(l)).slice(-25).join('\n')}\n`);
  }
  process.stderr.write(`  ${label}: exit ${done.code}; ${summary.scenarios.map((s) => `${s.name}: ${s.status}`).join('; ')}${disruptions.length ? `; ${disruptions.join('; ')}` : ''}\n`);
  return { done, summary, disruptions };
}

const verdict = (o: Outcome) => ({ exit: o.done.code, scenarios: o.summary.scenarios.map((s) => ({ name: s.name, status: s.status, error: s.error?.split('\n')[0]?.replace(/\d+(\.\d+)? s\b/g, 'N s') })) });
const gaps = (o: Outcome) => o.summary.scenarios.map((s) => (s.data?.entries ?? []).filter((e) => e.source === 'harness' && e.action === 'watch gap').map((e) => (e as { detail: string }).detail));

describe('the control plane disrupted mid-scenario', { timeout: 900_000 }, () => {
  let undisturbed: Outcome;

  before(async () => {
    cluster = await new LocalProvider().up({ name, nodes: 3, zones: ['a', 'b', 'c'], log: (l) => process.stderr.write(`  [cluster] ${l}\n`) });
    kube = Kube.fromKubeconfig(cluster.kubeconfigPath);
    nodes = new Informer<Node>(kube, 'Node');
    deployments = new Informer<KubeObject>(kube, 'Deployment');
    nodes.onGap((g) => seenGaps.push(g));
    nodes.onError((e) => process.stderr.write(`  [our node watch] ${(e as Error).message}\n`));
    await Promise.all([nodes.start(), deployments.start()]);
  });

  after(async () => {
    // Whatever happened, etcd runs again before the cluster goes.
    await component('etcd').then(({ pid }) => process.kill(pid, 'SIGCONT')).catch(() => undefined);
    await Promise.all([nodes?.stop(), deployments?.stop()]);
    await cluster?.down();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('undisturbed: the true claim passes, the false one fails, the cluster is left as found', async () => {
    undisturbed = await runFeature('undisturbed');
    assert.deepEqual(verdict(undisturbed).scenarios.map((s) => s.status), ['passed', 'failed'], undisturbed.done.out.slice(-3000));
    assert.equal(undisturbed.done.code, 1);
    assert.deepEqual(undisturbed.summary.leftAsFound?.residue, []);
    assert.deepEqual(gaps(undisturbed), [[], []], 'a gap without a disruption');
  });

  it('kube-apiserver restarted (and etcd compacted) while each expectation waits: the same verdict, the gap on the timeline, 410 relists', async () => {
    const restarted = await runFeature('apiserver-restart', async () => {
      const r = await restartApiServer();
      return `API server down and back in ${(r.downMs / 1000).toFixed(1)} s (our node watch: ${JSON.stringify(r.gap)})`;
    });
    assert.deepEqual(verdict(restarted), verdict(undisturbed), restarted.done.out.slice(-3000));
    assert.deepEqual(restarted.summary.leftAsFound?.residue, []);
    // The timeline shows the gap: in a scenario whose watches were open across the restart (a
    // scenario that began after the API server was back may have none), each as a 410 relist.
    const all = gaps(restarted);
    assert.ok(all.some((g) => g.length >= 1), `no gap on any scenario's timeline: ${JSON.stringify(all)}`);
    for (const g of all.flat()) assert.match(g, /no watch events for .* by listing again \(410 Gone\)/);
  });

  it('etcd frozen for 4 s while each expectation waits: the same verdict', async () => {
    const paused = await runFeature('etcd-pause', async () => {
      await pauseEtcd(4000);
      return 'etcd paused 4 s';
    });
    assert.deepEqual(verdict(paused), verdict(undisturbed), paused.done.out.slice(-3000));
    assert.deepEqual(paused.summary.leftAsFound?.residue, []);
    process.stderr.write(`  gaps recorded during the etcd pause: ${JSON.stringify(gaps(paused))}\n`);
  });
});
