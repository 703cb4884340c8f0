/**
 * The local cluster: upstream etcd, kube-apiserver, kube-controller-manager, kube-scheduler
 * and metrics-server (built from source, see binaries.ts) run by kwokctl's binary runtime,
 * with KWOK simulating the kubelets of the nodes kubeproof creates through the API.
 */
import { cp, mkdtemp, readFile, readdir, rm, writeFile, mkdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { BadInputError, EnvironmentError } from '../../errors.js';
import { stderrLog, formatDuration, type Log } from '../../log.js';
import { Kube } from '../../kube/client.js';
import { Informer, now } from '../../kube/informer.js';
import type { Node } from '../../kube/types.js';
import { until } from '../../wait/until.js';
import { ensureBinaries, findBinaries, type BinarySet } from '../build/binaries.js';
import { DEFAULT_CLUSTER_NAME, clusterDir, kubeconfigPathOf, kwokWorkdir } from '../paths.js';
import { withDirLock } from '../lock.js';
import { kwokNode, nodeSpecsFor, nodeReadyCondition, KWOK_NODE_LABEL } from '../nodes.js';
import { assertRealNodeHost } from '../real-node/host.js';
import { realNodeName, startRealNode } from '../real-node/node.js';
import { hasRealNode, mountsUnder, realNodeHolder, tearDownRealNode } from '../real-node/teardown.js';
import { localParts } from './local-parts.js';
import { createNodes } from './kwok-nodes.js';

export { createNodes };
import { FAST_TIMINGS, type ClusterParts, UPSTREAM_TIMINGS, type Cluster, type ClusterCapabilities, type ClusterProvider, type ClusterTimings, type ClusterUpOptions, type NodeSpec } from './provider.js';

import { projectRoot } from '../../project.js';
import { processAlive, processStartTime } from '../../host.js';


const NAME_RE = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;

function metaPath(name: string): string {
  return join(clusterDir(name), 'kubeproof.json');
}

interface ClusterMeta {
  name: string;
  createdAt: string;
  versionSetId: string;
  timings: ClusterTimings;
  nodes: string[];
  /** Nodes that run real containers (kubelet + containerd), a subset of `nodes`. */
  realNodes?: string[];
  /** The components kwokctl started, with their kernel start times (see componentPids). */
  processes?: Record<string, { pid: number; startTime: string }>;
}

function kwokEnv(bins: BinarySet): Record<string, string> {
  return {
    KWOK_WORKDIR: kwokWorkdir(),
    // kwokctl shells out to kubectl (kustomize, apply); ours comes first.
    PATH: `${bins.dir}:${process.env.PATH ?? ''}`,
  };
}

function kwokctlConfig(bins: BinarySet, t: ClusterTimings, withRealNodes: boolean): object[] {
  const seconds = (s: number) => `${s}s`;
  const config = {
    apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
    kind: 'KwokctlConfiguration',
    options: {
      runtime: 'binary',
      bindAddress: '127.0.0.1',
      kubeApiserverBinary: bins.path('kube-apiserver'),
      kubeControllerManagerBinary: bins.path('kube-controller-manager'),
      kubeSchedulerBinary: bins.path('kube-scheduler'),
      kubectlBinary: bins.path('kubectl'),
      etcdBinary: bins.path('etcd'),
      kwokControllerBinary: bins.path('kwok'),
      metricsServerBinary: bins.path('metrics-server'),
      enableMetricsServer: true,
      metricsServerManifests: [join(projectRoot, 'scenarios', 'metrics-server')],
      heartbeatFactor: 1,
      kubeControllerManagerNodeMonitorPeriodMilliseconds: t.nodeMonitorPeriodSeconds * 1000,
      kubeControllerManagerNodeMonitorGracePeriodMilliseconds: t.nodeMonitorGracePeriodSeconds * 1000,
      nodeStatusUpdateFrequencyMilliseconds: t.nodeHeartbeatSeconds * 1000,
      // kwok renews a node's Lease every quarter of its duration.
      nodeLeaseDurationSeconds: t.nodeHeartbeatSeconds * 4,
      disableQPSLimits: true,
    },
    componentsPatches: [
      {
        name: 'kube-apiserver',
        extraArgs: [
          { key: 'default-not-ready-toleration-seconds', value: String(t.defaultNotReadyTolerationSeconds) },
          { key: 'default-unreachable-toleration-seconds', value: String(t.defaultUnreachableTolerationSeconds) },
          // A real kubelet's node name resolves nowhere: logs, exec and port-forward go to its InternalIP.
          // KWOK nodes have no InternalIP and keep going to their Hostname address.
          ...(withRealNodes ? [{ key: 'kubelet-preferred-address-types', value: 'InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP' }] : []),
        ],
      },
      {
        name: 'kube-controller-manager',
        extraArgs: [
          { key: 'horizontal-pod-autoscaler-sync-period', value: seconds(t.hpaSyncPeriodSeconds) },
          { key: 'horizontal-pod-autoscaler-downscale-stabilization', value: seconds(t.hpaDownscaleStabilizationSeconds) },
        ],
      },
      {
        // Manage only nodes that carry the label, so a fault can take one node away from
        // kwok (its Lease stops) and the real node-lifecycle controller sees it fail. A label,
        // not an annotation: the API server's watch tells kwok when a node stops matching a
        // label selector, while kwok filters annotations itself and never lets go of a node.
        name: 'kwok-controller',
        extraArgs: [
          { key: 'manage-all-nodes', value: 'false', override: true },
          { key: 'manage-nodes-with-label-selector', value: `${KWOK_NODE_LABEL}=fake` },
        ],
      },
      {
        name: 'metrics-server',
        // KWOK nodes have only a Hostname address; a real node's name resolves nowhere, so it is scraped on its InternalIP.
        extraArgs: [
          { key: 'kubelet-preferred-address-types', value: withRealNodes ? 'InternalIP,Hostname,ExternalIP' : 'Hostname,InternalIP,ExternalIP', override: true },
          // Scrape every 10 s (its minimum; kwokctl sets 15 s): a new pod has metrics after two scrapes, so the HPA sees it
          // sooner. The request timeout must stay below the resolution or metrics-server refuses to start; kwokctl does not
          // pass that flag, so it is added (override only replaces flags kwokctl passes).
          { key: 'metric-resolution', value: '10s', override: true },
          { key: 'kubelet-request-timeout', value: '5s' },
        ],
      },
    ],
  };
  return [config];
}

/** Pods annotated with this (a Go duration, e.g. "2s") become Ready that long after they start: a simulated startup time. */
export const READY_AFTER_ANNOTATION = 'kubeproof.io/ready-after';

/** kwok's own stages the cluster needs, plus the project's from scenarios/stages. */
async function stageDocuments(bins: BinarySet): Promise<string[]> {
  const k = bins.kwokKustomizeDir;
  const read = (p: string) => readFile(join(k, p), 'utf8');
  const upstream = await Promise.all(
    [
      'stage/node/fast/node-initialize.yaml',
      'stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
      'stage/node/chaos/node-not-ready.yaml',
      'stage/pod/fast/pod-complete.yaml',
      'stage/pod/fast/pod-delete.yaml',
      'metrics/resource/metrics-resource.yaml',
      'metrics/usage/usage-from-annotation.yaml',
    ].map(read),
  );
  // kwok's fast pod-ready stage, with a per-pod startup delay read from an annotation.
  const podReady = YAML.parse(await read('stage/pod/fast/pod-ready.yaml')) as { spec: Record<string, unknown> };
  podReady.spec.delay = { durationMilliseconds: 0, durationFrom: { expressionFrom: `.metadata.annotations["${READY_AFTER_ANNOTATION}"]` } };
  const ownDir = join(projectRoot, 'scenarios', 'stages');
  const own = (await readdir(ownDir)).filter((f) => f.endsWith('.yaml')).sort();
  return [...upstream, YAML.stringify(podReady), ...(await Promise.all(own.map((f) => readFile(join(ownDir, f), 'utf8'))))];
}

export interface LocalClusterInfo {
  name: string;
  createdAt?: Date;
  apiServerUrl?: string;
  nodes: string[];
  realNodes: string[];
  alive: boolean;
  /** Component processes whose pid files point at dead processes. */
  dead: string[];
  kubeconfigPath: string;
}

interface ComponentPid {
  component: string;
  pid: number;
  /** The pid file names a live process. */
  alive: boolean;
  /** That process is the one this cluster started (its start time as recorded at `up`, or its command line names the cluster's dir). */
  ours: boolean;
}

/** Whether a live pid is still the cluster's component: after a reboot a pid can name anything. */
async function isOurs(name: string, pid: number, recordedStart: string | undefined): Promise<boolean> {
  const started = await processStartTime(pid);
  if (recordedStart !== undefined) return started === recordedStart;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.split('\0').some((arg) => arg.includes(clusterDir(name)));
}

/** The component processes kwokctl started for a cluster (from its pid files), alive or not, ours or not. */
async function componentPids(name: string): Promise<ComponentPid[]> {
  const dir = join(clusterDir(name), 'pids');
  const files = await readdir(dir).catch(() => [] as string[]);
  const meta = await readMeta(name);
  const out: ComponentPid[] = [];
  for (const f of files.filter((f) => f.endsWith('.pid'))) {
    const pid = Number((await readFile(join(dir, f), 'utf8').catch(() => '')).trim());
    if (!pid) continue;
    const component = f.replace(/\.pid$/, '');
    const alive = processAlive(pid);
    out.push({ component, pid, alive, ours: alive && (await isOurs(name, pid, meta?.processes?.[component]?.startTime)) });
  }
  return out;
}

/** Record each component's start time, so `down` can tell it from a process that later reused its pid. */
async function recordComponents(name: string): Promise<void> {
  const processes: NonNullable<ClusterMeta['processes']> = {};
  for (const p of await componentPids(name)) {
    const startTime = p.alive ? await processStartTime(p.pid) : undefined;
    if (startTime) processes[p.component] = { pid: p.pid, startTime };
  }
  await writeMeta(name, { processes });
}

async function readMeta(name: string): Promise<ClusterMeta | undefined> {
  return readFile(metaPath(name), 'utf8').then((t) => JSON.parse(t) as ClusterMeta).catch(() => undefined);
}

export async function localClusterInfo(name: string): Promise<LocalClusterInfo | undefined> {
  const dir = clusterDir(name);
  if (!existsSync(dir)) return undefined;
  const meta = await readFile(metaPath(name), 'utf8').then((t) => JSON.parse(t) as ClusterMeta).catch(() => undefined);
  const pids = await componentPids(name);
  const kubeconfigPath = kubeconfigPathOf(name);
  let apiServerUrl: string | undefined;
  try {
    const kc = YAML.parse(await readFile(kubeconfigPath, 'utf8')) as { clusters?: Array<{ cluster?: { server?: string } }> };
    apiServerUrl = kc.clusters?.[0]?.cluster?.server;
  } catch {
    apiServerUrl = undefined;
  }
  const createdAt = meta ? new Date(meta.createdAt) : await stat(dir).then((s) => s.birthtime).catch(() => undefined);
  return {
    name,
    createdAt,
    apiServerUrl,
    nodes: meta?.nodes ?? [],
    realNodes: meta?.realNodes ?? [],
    alive: pids.length > 0 && pids.every((p) => p.ours),
    dead: pids.filter((p) => !p.ours).map((p) => p.component),
    kubeconfigPath,
  };
}

export async function listLocalClusters(): Promise<LocalClusterInfo[]> {
  const names = await readdir(join(kwokWorkdir(), 'clusters')).catch(() => [] as string[]);
  const infos = await Promise.all(names.map((n) => localClusterInfo(n)));
  return infos.filter((i): i is LocalClusterInfo => i !== undefined);
}

/** Stop a local cluster's processes and remove its work dir (keep: stop only, leave the dir and logs). */
export async function deleteLocalCluster(name: string, opts: { keep?: boolean; log?: Log } = {}): Promise<void> {
  const log = opts.log ?? stderrLog;
  if (!existsSync(clusterDir(name))) throw new BadInputError(`no local cluster named "${name}"`, { hint: 'kubeproof cluster list' });
  const bins = await findBinaries();
  let realNodeError: unknown;
  if (hasRealNode(name)) {
    // First, while the API server may still answer: the real node's pods, kubelet, containerd, mounts, network.
    const alive = (await componentPids(name)).some((p) => p.component === 'kube-apiserver' && p.ours);
    const kube = alive && existsSync(kubeconfigPathOf(name)) ? Kube.fromKubeconfig(kubeconfigPathOf(name)) : undefined;
    await tearDownRealNode(name, { kube, bins, keepDir: opts.keep, log }).catch((err) => (realNodeError = err));
  }
  // Never let kwokctl remove a directory that still has mounts under it: stop only, and report.
  // Nor one whose real node is not fully torn down: its record (real-node.json) lets the next `down` finish.
  const mounted = (await mountsUnder(clusterDir(name))).length > 0;
  const keep = opts.keep || mounted || realNodeError !== undefined;
  // A pid file that names some other process now (the pid was reused, e.g. after a reboot):
  // neither kwokctl nor kubeproof signals it. Its pid file goes, so kwokctl cannot either.
  for (const p of await componentPids(name)) {
    if (!p.alive || p.ours) continue;
    log(`${p.component}: pid ${p.pid} is no longer this cluster's process (another process has that pid now); left alone`);
    await rm(join(clusterDir(name), 'pids', `${p.component}.pid`), { force: true });
  }
  if (bins) {
    const verb = keep ? 'stop' : 'delete';
    const r = await execa(bins.path('kwokctl'), [verb, 'cluster', '--name', name], { env: kwokEnv(bins), reject: false, all: true });
    if (r.exitCode !== 0) log(`kwokctl ${verb} cluster ${name} failed: ${r.all?.trim().split('\n').slice(-5).join('\n')}`);
  }
  // Whatever kwokctl left (or could not run): end only the processes this cluster started.
  for (const p of await componentPids(name)) {
    if (p.ours) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  if (!keep) await rm(clusterDir(name), { recursive: true, force: true });
  if (realNodeError) throw realNodeError;
}

export class LocalCluster implements Cluster {
  readonly kind = 'local' as const;
  readonly context: string;
  readonly capabilities: ClusterCapabilities;
  nodes: string[];

  constructor(
    readonly name: string,
    readonly kubeconfigPath: string,
    readonly apiServerUrl: string,
    readonly timings: ClusterTimings,
    readonly serverVersion: string,
    nodes: string[],
    private readonly kube: Kube,
    private readonly log: Log,
    realNodes: string[] = [],
  ) {
    this.context = kube.contextName;
    this.nodes = nodes;
    this.capabilities = {
      // Pods on realNodes run as containers; pods on the other (KWOK) nodes are simulated.
      realContainers: realNodes.length > 0,
      realNodes: [...realNodes],
      canStopNode: true,
      readinessMechanism: 'kwok-stage',
      metricsSource: 'kwok-annotation',
      simulatedNodes: true,
      othersChangeNodes: false,
    };
  }

  get parts(): ClusterParts {
    return localParts({ name: this.name, realNodes: this.capabilities.realNodes });
  }

  async addNodes(specs: NodeSpec[]): Promise<void> {
    await createNodes(this.kube, specs, this.log);
    this.nodes = [...this.nodes, ...specs.map((s) => s.name)];
    await writeMeta(this.name, { nodes: this.nodes });
  }

  async down(opts: { keep?: boolean } = {}): Promise<void> {
    await deleteLocalCluster(this.name, { keep: opts.keep, log: this.log });
  }
}

async function writeMeta(name: string, patch: Partial<ClusterMeta>): Promise<void> {
  const old = await readFile(metaPath(name), 'utf8').then((t) => JSON.parse(t) as ClusterMeta).catch(() => ({}) as ClusterMeta);
  await writeFile(metaPath(name), JSON.stringify({ ...old, ...patch }, null, 2));
}


export class LocalProvider implements ClusterProvider {
  readonly kind = 'local' as const;

  async up(opts: ClusterUpOptions = {}): Promise<LocalCluster> {
    const log = opts.log ?? stderrLog;
    const name = opts.name ?? DEFAULT_CLUSTER_NAME;
    if (!NAME_RE.test(name)) throw new BadInputError(`cluster name "${name}" must be lower-case letters, digits and '-', at most 40 characters`);
    const started = now();
    const bins = await ensureBinaries({ log });
    const timings: ClusterTimings = { ...(opts.upstreamTimings ? UPSTREAM_TIMINGS : FAST_TIMINGS), ...opts.timings };
    const specs = [...nodeSpecsFor(opts.nodes ?? 3, opts.zones), ...(opts.nodeSpecs ?? [])];
    const duplicate = specs.map((s) => s.name).find((n, i, all) => all.indexOf(n) !== i);
    if (duplicate) throw new BadInputError(`node "${duplicate}" is asked for twice`);
    const realNodes = Array.from({ length: opts.realNodes ?? 0 }, (_, i) => realNodeName(i + 1));
    if (realNodes.length > 1) {
      throw new BadInputError(`--real-nodes ${realNodes.length}: one real node per machine for now`, {
        hint: 'a kubelet holds fixed host ports (10250, 10248) and one kube-proxy owns the host\'s Service rules; several would need a network namespace each (not implemented)',
      });
    }
    if (realNodes.length) await assertRealNodeHost();

    // kwokctl picks free ports while it creates a cluster: serialise creations.
    await withDirLock(join(kwokWorkdir(), '.create.lock'), async () => {
      const existing = await localClusterInfo(name);
      if (existing) {
        throw new BadInputError(
          existing.alive
            ? `a local cluster named "${name}" is already running (${existing.apiServerUrl ?? 'unknown URL'})`
            : `a local cluster named "${name}" exists but is dead (stopped: ${existing.dead.join(', ') || 'all components'})`,
          { hint: `kubeproof cluster down --name ${name}, or choose another --name` },
        );
      }
      if (realNodes.length) {
        const holder = await realNodeHolder(name);
        const other = holder ? { name: holder } : undefined;
        // A dead cluster's real-node leftovers hold nothing: finish their teardown first (what it cannot undo is reported, not fatal).
        for (const dead of (await listLocalClusters()).filter((c) => c.name !== name && hasRealNode(c.name) && c.name !== holder)) {
          await tearDownRealNode(dead.name, { log }).catch((err) => log(`the dead cluster "${dead.name}"'s real node: ${(err as Error).message}`));
        }
        if (other) {
          throw new BadInputError(`cluster "${other.name}" already has a real node on this machine; only one can exist at a time`, {
            hint: `kubeproof cluster down --name ${other.name}`,
          });
        }
      }
      await createOrRemove(name, bins, timings, log, realNodes.length > 0);
    }, { onWait: () => log('another cluster is being created; waiting for it') });

    const kubeconfigPath = kubeconfigPathOf(name);
    try {
      const kube = Kube.fromKubeconfig(kubeconfigPath);
      const serverVersion = await kube.serverVersion();
      await writeMeta(name, { name, createdAt: new Date().toISOString(), versionSetId: bins.versionSetId, timings, nodes: [], realNodes });
      await recordComponents(name);
      const cluster = new LocalCluster(name, kubeconfigPath, kube.serverUrl, timings, serverVersion, [], kube, log, realNodes);
      await Promise.all([
        cluster.addNodes(specs),
        ...realNodes.map((n) =>
          startRealNode({ cluster: name, nodeName: n, adminKubeconfig: kubeconfigPath, pki: join(clusterDir(name), 'pki'), apiServerUrl: kube.serverUrl, bins, timings, kube, log }),
        ),
      ]);
      if (realNodes.length) {
        cluster.nodes = [...cluster.nodes, ...realNodes];
        await writeMeta(name, { nodes: cluster.nodes });
      }
      // A component that dies on a bad flag does so a moment after kwokctl reported success: look again.
      const dead = (await componentPids(name)).filter((p) => !p.ours);
      if (dead.length) throw new EnvironmentError(`cluster "${name}" came up but ${dead.map((d) => d.component).join(', ')} exited`, { hint: `see ${join(clusterDir(name), 'logs')}` });
      log(`local cluster "${name}" (Kubernetes ${serverVersion}) up with ${specs.length} KWOK node(s)${realNodes.length ? ` and ${realNodes.length} real node(s)` : ''} in ${formatDuration(now() - started)}`);
      return cluster;
    } catch (err) {
      log(`bringing up "${name}" failed; removing it`);
      await deleteLocalCluster(name, { log }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * A handle on a local cluster that is already running (`kubeproof cluster up --name N`, or a
   * kept run's), with the timings it was started with. Its `down()` is the caller's choice: a
   * run that attached to a cluster leaves it running.
   */
  async attach(name: string, log: Log = stderrLog): Promise<LocalCluster> {
    const info = await localClusterInfo(name);
    if (!info) throw new BadInputError(`no local cluster named "${name}"`, { hint: 'kubeproof cluster list shows them; kubeproof cluster up --name N starts one' });
    if (!info.alive) throw new EnvironmentError(`local cluster "${name}" is dead (stopped: ${info.dead.join(', ') || 'all components'})`, { hint: `kubeproof cluster down --name ${name}, then start it again` });
    const meta = JSON.parse(await readFile(metaPath(name), 'utf8')) as ClusterMeta;
    const kube = Kube.fromKubeconfig(info.kubeconfigPath);
    const serverVersion = await kube.serverVersion();
    return new LocalCluster(name, info.kubeconfigPath, kube.serverUrl, meta.timings, serverVersion, meta.nodes, kube, log, meta.realNodes ?? []);
  }
}

/**
 * kwokctl's create, and nothing left behind when it fails: the half-made cluster's processes
 * are stopped and its directory removed (its logs kept in a temporary directory the error
 * names). A component that exited at start because the API server did not answer yet (seen:
 * metrics-server's "connection refused" on a loaded machine; kwokctl starts it regardless and
 * does not restart it) is a race, not a broken setup: the cluster is made once more.
 */
async function createOrRemove(name: string, bins: BinarySet, timings: ClusterTimings, log: Log, withRealNodes: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await createWithKwokctl(name, bins, timings, log, withRealNodes);
      return;
    } catch (err) {
      const raced = attempt === 1 && err instanceof ComponentsExited && (await startedBeforeApiServer(name, err.components));
      const made = existsSync(clusterDir(name));
      // Its logs, unless the cluster is simply made again.
      const kept = made && !raced ? await mkdtemp(join(tmpdir(), `kubeproof-failed-${name}-logs-`)) : undefined;
      if (kept) await cp(join(clusterDir(name), 'logs'), kept, { recursive: true }).catch(() => undefined);
      if (made) await deleteLocalCluster(name, { log }).catch((e: unknown) => log(`removing the half-made cluster "${name}" failed: ${(e as Error).message}`));
      if (raced) {
        log(`${(err as ComponentsExited).components.join(', ')} exited at start: the API server was not answering yet (a loaded machine); creating cluster "${name}" again`);
        continue;
      }
      if (err instanceof EnvironmentError && kept) throw new EnvironmentError(err.message, { hint: `the half-made cluster was removed; its logs are in ${kept}`, cause: err.cause });
      throw err;
    }
  }
}

class ComponentsExited extends EnvironmentError {
  constructor(
    name: string,
    readonly components: string[],
  ) {
    super(`cluster "${name}" started but ${components.join(', ')} exited`, { hint: `see ${join(clusterDir(name), 'logs')}` });
  }
}

/** Whether every one of these components' logs ends on a refused connection to the API server. */
async function startedBeforeApiServer(name: string, components: string[]): Promise<boolean> {
  for (const c of components) {
    const text = await readFile(join(clusterDir(name), 'logs', `${c}.log`), 'utf8').catch(() => '');
    if (!/connect: connection refused/.test(text.slice(-4000))) return false;
  }
  return components.length > 0;
}

async function createWithKwokctl(name: string, bins: BinarySet, timings: ClusterTimings, log: Log, withRealNodes: boolean): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), `kubeproof-${name}-`));
  try {
    const configFile = join(tmp, 'kwokctl.yaml');
    const docs = [...kwokctlConfig(bins, timings, withRealNodes).map((d) => YAML.stringify(d)), ...(await stageDocuments(bins))];
    await writeFile(configFile, docs.map((d) => d.replace(/^---\n/, '')).join('\n---\n'));
    await mkdir(kwokWorkdir(), { recursive: true });
    const t0 = now();
    log(`starting local cluster "${name}" (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, metrics-server, kwok)`);
    const r = await execa(
      bins.path('kwokctl'),
      ['create', 'cluster', '--name', name, '--runtime', 'binary', '--heartbeat-factor', '1', '--wait', '2m', '--kubeconfig', kubeconfigPathOf(name), '-c', configFile],
      { env: kwokEnv(bins), reject: false, all: true },
    );
    if (r.exitCode !== 0) {
      throw new EnvironmentError(`kwokctl could not create cluster "${name}":\n${(r.all ?? '').trim().split('\n').slice(-25).join('\n')}`, {
        hint: `logs: ${join(clusterDir(name), 'logs')}`,
      });
    }
    // kwokctl reports success even when a component died right after starting (e.g. metrics-server's flag check).
    const dead = (await componentPids(name)).filter((p) => !p.ours);
    if (dead.length) throw new ComponentsExited(name, dead.map((d) => d.component));
    log(`control plane ready in ${formatDuration(now() - t0)}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
