/**
 * A kind cluster: Kubernetes in Docker containers, one container per node, so containers,
 * kubelets and the network are real and a node can be stopped with `docker stop`.
 * kind fixes its nodes when it creates the cluster: no nodes can be added later.
 */
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { existsSync } from 'node:fs';
import { KIND_CLI_SET_ID, ensureKindCli, kindCacheDir } from '../build/kind-tools.js';
import { ensureKindNodeImage } from '../build/kind-node-image.js';
import { ETCD_VERSION } from '../build/versions.js';
import { execa } from 'execa';
import YAML from 'yaml';
import { BadInputError, EnvironmentError, KubeproofError } from '../../errors.js';
import { formatDuration, stderrLog, type Log } from '../../log.js';
import { Kube } from '../../kube/client.js';
import type { Node } from '../../kube/types.js';
import { cacheRoot } from '../paths.js';
import { NODE_TYPE_LABEL, REAL_NODE_TAINT, ZONE_LABEL, nodeReadyCondition } from '../nodes.js';
import { Informer } from '../../kube/informer.js';
import { kindFreeze } from './kind-freeze.js';
import { ConditionTimeout, until } from '../../wait/until.js';
import { canLowerOomScore } from '../real-node/containerd.js';
import { TESTAPP_IMAGE, TESTAPP_NEXT_REF, ensureLocalImages, imageNamesInArchive } from '../build/images.js';
import { commandStop } from './node-commands.js';
import { appSwitchBreaker, neverReadyPatch } from '../readiness.js';
import { installMetricsServer, metricsServed } from './kind-metrics.js';
import { ensureMetricsServerImage } from '../build/metrics-server-image.js';
import type { Pod, Service } from '../../kube/types.js';
import { clusterIpUrl, type TrafficContext, type TrafficPlan } from '../../traffic/stream.js';
import { ClientPodTraffic, type ClientPodPlacement } from '../../traffic/client-pod.js';
import { FAST_TIMINGS, UPSTREAM_TIMINGS, isRefusal, type ClusterParts, type NodeStopMode, type Cluster, ClusterCapabilities, ClusterProvider, ClusterTimings, ClusterUpOptions, NodeCommandLines, NodeSpec } from './provider.js';

export const DEFAULT_KIND_CLUSTER_NAME = 'kubeproof';
/** kind names containers `<name>-control-plane`, so the name must be a valid, short DNS label. */
const NAME_RE = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;
const CONTROL_PLANE_ROLE = 'node-role.kubernetes.io/control-plane';
/** kind's control-plane node, tainted NoSchedule for everything but what tolerates it: where traffic client pods run. */
export const KIND_CLIENT_PLACEMENT: ClientPodPlacement = {
  where: 'the control-plane node',
  nodeSelector: { [CONTROL_PLANE_ROLE]: '' },
  tolerations: [{ key: CONTROL_PLANE_ROLE, operator: 'Exists', effect: 'NoSchedule' }],
};

/** The kind CLI: $KUBEPROOF_KIND, else `kind` from PATH, else the pinned build in kubeproof's cache (KindProvider.up builds it when missing). */
export function kindBinary(): string {
  if (process.env.KUBEPROOF_KIND) return process.env.KUBEPROOF_KIND;
  const cached = join(kindCacheDir(), 'cli', KIND_CLI_SET_ID, 'kind');
  return !onPathSync('kind') && existsSync(cached) ? cached : 'kind';
}

function onPathSync(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, command)));
}

/** `--kind-image`: kind's own node image (default), kubeproof's image built offline from the pinned version set, or any image. */
export type KindImageChoice = 'kind-default' | 'offline' | string;

export function dockerBinary(): string {
  return process.env.KUBEPROOF_DOCKER || 'docker';
}

export function kindKubeconfigPath(name: string): string {
  return join(cacheRoot(), 'kind', `${name}.kubeconfig`);
}

/** The names kind gives worker containers: <name>-worker, <name>-worker2, … */
export function kindWorkerNames(name: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${name}-worker${i === 0 ? '' : i + 1}`);
}

/** kubeproof's names for a kind cluster's worker nodes, the same as the local cluster's: node-1, node-2, … */
export function workerNodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `node-${i + 1}`);
}

/**
 * The container a node of kind cluster `cluster` runs in: node-i is the i-th worker kind made,
 * real-i the i-th after them (`nodes`: the cluster's workers, to count the node-i).
 */
export function containerOf(cluster: string, node: string, nodes: string[] = []): string {
  const m = /^node-([1-9]\d*)$/.exec(node);
  if (m) return kindWorkerNames(cluster, Number(m[1])).at(-1)!;
  const r = /^real-([1-9]\d*)$/.exec(node);
  if (r) return kindWorkerNames(cluster, nodes.filter((n) => /^node-[1-9]\d*$/.test(n)).length + Number(r[1])).at(-1)!;
  return node;
}

export interface KindConfigOptions {
  /** Failure-detection timings to set (kubeadm patches); undefined: leave Kubernetes' own. */
  timings?: ClusterTimings;
  /** The node image's etcd when it is not the one kubeadm asks for (kubeproof's offline image). */
  etcdImageTag?: string;
  /**
   * Nothing in the nodes may lower oom_score_adj (this host lacks CAP_SYS_RESOURCE, as some
   * sandboxes do): the nodes' containerd must not ask to (kind sets this only when rootless).
   */
  restrictOomScoreAdj?: boolean;
  /**
   * Workers named real-1…M after node-1…N, labelled and tainted as the local cluster's real node
   * (kubeproof.io/node-type=real, NoSchedule), so @real scenarios run on kind unchanged.
   */
  realWorkers?: number;
}

/**
 * kind's v1alpha4 cluster config: one control plane and `workers` workers spread round-robin
 * over the zones, named node-1…N (kubeadm's nodeRegistration.name: their containers keep kind's
 * names), with the timings as kubeadm and kubelet settings.
 */
export function kindConfig(workers: number, zones: string[] = [], o: KindConfigOptions = {}): object {
  const t = o.timings;
  const cluster: Record<string, unknown> = {
    kind: 'ClusterConfiguration',
    ...(t
      ? {
          apiServer: { extraArgs: { 'default-not-ready-toleration-seconds': String(t.defaultNotReadyTolerationSeconds), 'default-unreachable-toleration-seconds': String(t.defaultUnreachableTolerationSeconds) } },
          controllerManager: {
            extraArgs: {
              'node-monitor-grace-period': `${t.nodeMonitorGracePeriodSeconds}s`,
              'node-monitor-period': `${t.nodeMonitorPeriodSeconds}s`,
              'horizontal-pod-autoscaler-sync-period': `${t.hpaSyncPeriodSeconds}s`,
              'horizontal-pod-autoscaler-downscale-stabilization': `${t.hpaDownscaleStabilizationSeconds}s`,
            },
          },
        }
      : {}),
    ...(o.etcdImageTag ? { etcd: { local: { imageTag: o.etcdImageTag } } } : {}),
  };
  const kubelet = {
    kind: 'KubeletConfiguration',
    // Kubelets ≥ 1.35 refuse cgroup v1 hosts unless told otherwise; ignored on v2.
    failCgroupV1: false,
    // The kubelet renews its Lease every quarter of its duration.
    ...(t ? { nodeStatusUpdateFrequency: `${t.nodeHeartbeatSeconds}s`, nodeLeaseDurationSeconds: t.nodeHeartbeatSeconds * 4 } : {}),
  };
  const patches = [cluster, kubelet].filter((d) => Object.keys(d).length > 1).map((d) => YAML.stringify(d));
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    ...(patches.length ? { kubeadmConfigPatches: patches } : {}),
    ...(o.restrictOomScoreAdj ? { containerdConfigPatches: ['[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n'] } : {}),
    nodes: [
      { role: 'control-plane' },
      ...workerNodeNames(workers).map((name, i) => ({
        role: 'worker',
        ...(zones.length ? { labels: { [ZONE_LABEL]: zones[i % zones.length] } } : {}),
        kubeadmConfigPatches: [YAML.stringify({ kind: 'JoinConfiguration', nodeRegistration: { name } })],
      })),
      ...Array.from({ length: o.realWorkers ?? 0 }, (_, i) => ({
        role: 'worker',
        labels: { [NODE_TYPE_LABEL]: 'real' },
        kubeadmConfigPatches: [YAML.stringify({ kind: 'JoinConfiguration', nodeRegistration: { name: `real-${i + 1}`, taints: [REAL_NODE_TAINT] } })],
      })),
    ],
  };
}

interface ToolResult {
  exitCode: number;
  stdout: string;
  output: string;
}

const TOOLS = {
  kind: { bin: kindBinary, envVar: 'KUBEPROOF_KIND', install: 'install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)' },
  docker: { bin: dockerBinary, envVar: 'KUBEPROOF_DOCKER', install: 'install Docker' },
} as const;

/** Run kind or docker; a missing binary is an EnvironmentError naming the env var that points at another one. */
async function runTool(tool: keyof typeof TOOLS, args: string[], opts: { timeoutMs?: number } = {}): Promise<ToolResult> {
  const { bin, envVar, install } = TOOLS[tool];
  const r = await execa(bin(), args, { reject: false, all: true, stripFinalNewline: false, timeout: opts.timeoutMs });
  if (r.code === 'ENOENT') {
    throw new EnvironmentError(`\`${bin()}\` is not installed (not found on PATH)`, { hint: `${install} or set ${envVar} to its path` });
  }
  if (r.timedOut) return { exitCode: -1, stdout: '', output: `timed out after ${formatDuration(opts.timeoutMs ?? 0)}` };
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), output: tail(String(r.all ?? '')) };
}

function tail(text: string, lines = 20): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** kind needs a running Docker engine; say so before kind prints its own, less direct, error. */
async function checkDockerEngine(): Promise<void> {
  const r = await runTool('docker', ['info'], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) {
    throw new EnvironmentError(`kind needs a Docker engine; \`${dockerBinary()} info\` failed: ${r.output || `exit code ${r.exitCode}`}`, {
      hint: 'start Docker (or check that this user may use its socket), or use --cluster local, which needs no Docker',
    });
  }
}

/**
 * A kind cluster's parts. Its nodes are containers: stopping one is a machine going away
 * (`docker stop`), freezing one stops every process on it (`docker pause`, or SIGSTOP where the
 * engine cannot freeze: kind-freeze.ts), and its kubelet
 * is a systemd unit inside it; containers die through the node's own containerd. The host
 * cannot reach a kind cluster's ClusterIPs, so Services are reached by HTTP from a client pod.
 */
export function kindParts(c: { name: string; nodes: string[] }): ClusterParts {
  const docker = dockerBinary();
  const isNode = (node: string) => c.nodes.includes(node) || node === `${c.name}-control-plane`;
  // The commands name the node's container; the ledger's undo is the start command with the container filled in.
  const on = (node: string, pair: { stop: string[]; start: string[] }) => ({ stop: pair.stop.map((a) => a.replace('{container}', containerOf(c.name, node, c.nodes))), start: pair.start.map((a) => a.replace('{container}', containerOf(c.name, node, c.nodes))) });
  const notOurs = (node: string) => ({ refused: `node ${node} is not a node of kind cluster "${c.name}" (${c.nodes.join(', ')})` });
  return {
    nodeControl: {
      mechanism(mode: NodeStopMode, n: Node) {
        const node = n.metadata!.name!;
        if (!isNode(node)) return notOurs(node);
        switch (mode) {
          case 'silent':
            return commandStop(node, on(node, { stop: [docker, 'stop', '{container}'], start: [docker, 'start', '{container}'] }), { phase: 'node stopped', how: 'stop its container (docker stop)', silent: true });
          case 'kubelet':
            return commandStop(node, on(node, { stop: [docker, 'exec', '{container}', 'systemctl', 'stop', 'kubelet'], start: [docker, 'exec', '{container}', 'systemctl', 'start', 'kubelet'] }), { phase: 'kubelet stopped', how: 'stop its kubelet (systemctl stop kubelet in the node)', silent: true });
          case 'freeze':
            return kindFreeze(node, containerOf(c.name, node, c.nodes), docker, (args) => runTool('docker', args, { timeoutMs: 120_000 }));
          case 'not-ready':
            return { refused: `a node that reports NotReady while up needs a KWOK node; kind's nodes run real kubelets` };
        }
      },
    },
    containerRuntime: {
      refuse: (p: Pod) => (isNode(p.spec?.nodeName ?? '') ? undefined : `${p.metadata?.name} runs on ${p.spec?.nodeName ?? 'no node'}, not a node of kind cluster "${c.name}"`),
      async kill(p: Pod, container: string, id: string) {
        const node = p.spec!.nodeName!;
        const r = await runTool('docker', ['exec', containerOf(c.name, node, c.nodes), 'ctr', '-n', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGKILL', id], { timeoutMs: 60_000 });
        if (r.exitCode !== 0) throw new EnvironmentError(`killing container ${container} of pod ${p.metadata?.name} on ${node} failed: ${r.output || `exit code ${r.exitCode}`}`);
      },
    },
    // This machine cannot reach the ClusterIPs of a kind cluster (they live inside its Docker
    // network): requests come from a client pod, on the control-plane node, which no shipped
    // fault takes down, drains or taints (they name workers), so the measuring client outlives
    // the faults it measures; and its CPU is not accounted to a worker whose pods an HPA reads.
    serviceTraffic: {
      from: `from a client pod on the control-plane node of kind cluster "${c.name}" (inside its network)`,
      open(ctx: TrafficContext, svc: Service, pods: Pod[], plan: TrafficPlan) {
        const url = clusterIpUrl(svc, plan.path);
        if (isRefusal(url)) return url;
        if (pods.length === 0) return { refused: `service ${svc.metadata?.name} has no Ready pod behind it` };
        return new ClientPodTraffic(ctx, url, plan, { image: TESTAPP_IMAGE.ref, placement: KIND_CLIENT_PLACEMENT, service: svc.metadata?.name ?? 'service' });
      },
    },
    imageLoader: {
      async load(tarball: string, name?: string) {
        if (name) throw new BadInputError(`kind loads an archive under the names it holds; give the image its name when it is saved (docker save NAME)`);
        const r = await runTool('kind', ['load', 'image-archive', tarball, '--name', c.name], { timeoutMs: 300_000 });
        if (r.exitCode !== 0) throw new EnvironmentError(`kind could not load ${tarball} into cluster "${c.name}": ${r.output || `exit code ${r.exitCode}`}`);
        return (await imageNamesInArchive(tarball)).names;
      },
    },
    readiness: { breaker: appSwitchBreaker, neverReady: (d) => neverReadyPatch(d, false) },
    // Real kubelets report real CPU (metrics-server, kind-metrics.ts): load is real work, sent by the traffic part.
    load: { mechanism: () => ({ via: 'service-http', how: 'as real work: HTTP GET /burn through its Service' }) },
    nodeSupply: { refused: `kind cannot add nodes to a running cluster: ask for every node when the cluster is created (--nodes), or use --cluster local` },
    realNode: { whyNone: async () => `needs a node with real containers; this kind cluster reports none` },
  };
}

/** The kind clusters kind knows of on this machine. */
export async function listKindClusters(): Promise<string[]> {
  const r = await runTool('kind', ['get', 'clusters'], { timeoutMs: 60_000 });
  return r.exitCode === 0 ? r.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !/No kind clusters found/.test(l)) : [];
}

/** `kubeproof cluster down --cluster kind`: the cluster, its kubeconfig, and the network kubeproof's create made. */
export async function deleteKindClusterByName(name: string, log: Log): Promise<void> {
  await deleteKindCluster(name, log);
  await rm(kindKubeconfigPath(name), { force: true });
}

const LIB_MODULES = '/lib/modules';

/** Where kubeproof notes what it made besides the cluster (kind never removes its `kind` network). */
function recordPath(name: string): string {
  return join(cacheRoot(), 'kind', `${name}.json`);
}

interface KindRecord {
  /** kubeproof's create made the `kind` docker network (it did not exist before). */
  madeNetwork: boolean;
  /** The timings the create set, for a later run that attaches to the cluster. */
  timings?: ClusterTimings;
  /** kind's node mounts /lib/modules and creates it empty when the host has none: removed with the last cluster. */
  madeLibModules?: boolean;
}

async function networkExists(): Promise<boolean> {
  return (await runTool('docker', ['network', 'inspect', 'kind'], { timeoutMs: 30_000 })).exitCode === 0;
}

async function deleteKindCluster(name: string, log: Log = stderrLog): Promise<void> {
  const r = await runTool('kind', ['delete', 'cluster', '--name', name], { timeoutMs: 300_000 });
  if (r.exitCode !== 0) {
    throw new EnvironmentError(`kind could not delete cluster "${name}": ${r.output || `exit code ${r.exitCode}`}`, { hint: `kind delete cluster --name ${name}` });
  }
  const record = await readFile(recordPath(name), 'utf8').then((t) => JSON.parse(t) as KindRecord).catch(() => undefined);
  await rm(recordPath(name), { force: true });
  if (!record?.madeNetwork && !record?.madeLibModules) return;
  // What kubeproof's create made on the host goes with the last kind cluster.
  const left = await listKindClusters();
  if (left.length) return log(`kind's docker network${record.madeLibModules ? ' and /lib/modules' : ''} stay: kind cluster(s) ${left.join(', ')} use them`);
  if (record.madeNetwork) {
    const rmNet = await runTool('docker', ['network', 'rm', 'kind'], { timeoutMs: 60_000 });
    if (rmNet.exitCode !== 0) log(`could not remove kind's docker network: ${rmNet.output}`);
  }
  // Only while empty: anything in it now is not kind's.
  if (record.madeLibModules) await rmdir(LIB_MODULES).catch((err: NodeJS.ErrnoException) => err.code !== 'ENOENT' && log(`left ${LIB_MODULES}: ${err.code === 'ENOTEMPTY' ? 'it holds files now' : err.message}`));
}

export class KindCluster implements Cluster {
  readonly kind = 'kind' as const;
  readonly context: string;
  readonly capabilities: ClusterCapabilities;
  constructor(
    readonly name: string,
    readonly kubeconfigPath: string,
    readonly apiServerUrl: string,
    readonly serverVersion: string,
    readonly nodes: string[],
    private readonly log: Log,
    readonly timings: ClusterTimings = UPSTREAM_TIMINGS,
    /** 'kubelet': metrics-server (kind-metrics.ts) serves the kubelets' CPU figures as metrics.k8s.io. */
    metricsSource: ClusterCapabilities['metricsSource'] = 'none',
  ) {
    this.context = `kind-${name}`;
    this.capabilities = {
      realContainers: true,
      realNodes: [...nodes],
      canStopNode: true,
      readinessMechanism: 'app-endpoint',
      metricsSource,
      simulatedNodes: false,
      othersChangeNodes: false,
    };
  }

  async addNodes(specs: NodeSpec[]): Promise<void> {
    throw new BadInputError(`kind cannot add nodes to a running cluster (asked for ${specs.map((s) => s.name).join(', ') || 'none'})`, {
      hint: `ask for every node when the cluster is created (--nodes), or use --cluster local`,
    });
  }

  get parts(): ClusterParts {
    return kindParts({ name: this.name, nodes: this.nodes });
  }

  /** Delete the cluster and its kubeconfig; `keep` leaves both for inspection. */
  async down(opts: { keep?: boolean } = {}): Promise<void> {
    if (opts.keep) {
      this.log(`kind cluster "${this.name}" kept: export KUBECONFIG=${this.kubeconfigPath}; remove it with kind delete cluster --name ${this.name}`);
      return;
    }
    await deleteKindCluster(this.name, this.log);
    await rm(this.kubeconfigPath, { force: true });
  }
}

export class KindProvider implements ClusterProvider {
  readonly kind = 'kind' as const;

  /** Whether kind knows a cluster of this name on this machine. */
  static async exists(name: string): Promise<boolean> {
    return (await listKindClusters().catch(() => [] as string[])).includes(name);
  }

  /** A running kind cluster, used as it is (and left running): its nodes, and the timings its create set if kubeproof made it. */
  async attach(name: string, log: Log = stderrLog): Promise<KindCluster> {
    const got = await runTool('kind', ['get', 'kubeconfig', '--name', name], { timeoutMs: 60_000 });
    if (got.exitCode !== 0) throw new EnvironmentError(`kind could not give the kubeconfig of cluster "${name}": ${got.output}`);
    const kubeconfigPath = kindKubeconfigPath(name);
    await mkdir(join(cacheRoot(), 'kind'), { recursive: true });
    await writeFile(kubeconfigPath, got.stdout, { mode: 0o600 });
    const kube = Kube.fromKubeconfig(kubeconfigPath, `kind-${name}`);
    const serverVersion = await kube.serverVersion();
    const workers = (await kube.list<Node>('Node')).items.filter((n) => n.metadata?.labels?.[CONTROL_PLANE_ROLE] === undefined).map((n) => n.metadata!.name!).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const record = await readFile(recordPath(name), 'utf8').then((t) => JSON.parse(t) as KindRecord).catch(() => undefined);
    const metrics = (await metricsServed(kube)) ? 'kubelet' : 'none';
    log(`using the running kind cluster "${name}" (${workers.length} worker(s); metrics.k8s.io ${metrics === 'kubelet' ? 'served' : 'not served'}; left running at the end)`);
    return new KindCluster(name, kubeconfigPath, kube.serverUrl, serverVersion, workers, log, record?.timings ?? { ...UPSTREAM_TIMINGS, source: 'assumed-upstream-defaults' }, metrics);
  }

  async up(opts: ClusterUpOptions = {}): Promise<KindCluster> {
    const log = opts.log ?? stderrLog;
    const name = opts.name ?? DEFAULT_KIND_CLUSTER_NAME;
    if (!NAME_RE.test(name)) throw new BadInputError(`cluster name "${name}" must be lower-case letters, digits and '-', at most 40 characters`);
    const workers = opts.nodes ?? 3;
    if (!Number.isInteger(workers) || workers < 1) throw new BadInputError(`a kind cluster needs at least one worker node, not ${workers}`);
    const realWorkers = opts.realNodes ?? 0;
    if (opts.nodeSpecs?.length) {
      throw new BadInputError('kind clusters take a node count and zones, not individual node specs', { hint: 'use --cluster local for nodes with their own labels, taints or sizes' });
    }
    const started = Date.now();
    await checkDockerEngine();
    // A kind CLI kubeproof builds itself (the pinned version, from the Go module proxy) when there is none.
    if (!process.env.KUBEPROOF_KIND && !onPathSync('kind')) await ensureKindCli({ log });
    const choice = opts.kindImage ?? 'kind-default';
    const image = choice === 'kind-default' ? undefined : choice === 'offline' ? (await ensureKindNodeImage({ log })).ref : choice;
    const timings: ClusterTimings = { ...(opts.upstreamTimings ? UPSTREAM_TIMINGS : FAST_TIMINGS), ...opts.timings };
    const config = kindConfig(workers, opts.zones ?? [], {
      ...(opts.upstreamTimings && !opts.timings ? {} : { timings }),
      restrictOomScoreAdj: !(await canLowerOomScore()),
      realWorkers,
      // kubeproof's offline image carries the local cluster's etcd, not the one kubeadm asks for.
      ...(choice === 'offline' ? { etcdImageTag: `${ETCD_VERSION}-0` } : {}),
    });
    const madeNetwork = !(await networkExists());
    const madeLibModules = !existsSync(LIB_MODULES);
    await mkdir(join(cacheRoot(), 'kind'), { recursive: true });
    await writeFile(recordPath(name), JSON.stringify({ madeNetwork, madeLibModules } satisfies KindRecord));
    await createKindCluster(name, config, image, log).catch(async (err: unknown) => {
      await deleteKindCluster(name, log).catch(() => undefined);
      throw err;
    });

    const kubeconfigPath = kindKubeconfigPath(name);
    try {
      const got = await runTool('kind', ['get', 'kubeconfig', '--name', name], { timeoutMs: 60_000 });
      if (got.exitCode !== 0) throw new EnvironmentError(`kind could not give the kubeconfig of cluster "${name}": ${got.output}`);
      await mkdir(join(cacheRoot(), 'kind'), { recursive: true });
      await writeFile(kubeconfigPath, got.stdout, { mode: 0o600 });

      const kube = Kube.fromKubeconfig(kubeconfigPath, `kind-${name}`);
      const serverVersion = await kube.serverVersion().catch((err: unknown) => {
        if (err instanceof KubeproofError) throw err;
        throw new EnvironmentError(`the API server of kind cluster "${name}" at ${kube.serverUrl} did not answer: ${(err as Error).message}`, { cause: err });
      });
      // kind's --wait covers the control plane only: the cluster is given out once every node is Ready.
      const nodes = await allNodesReady(kube, workers + realWorkers + 1, NODES_READY_WITHIN_MS);
      const workerNames = nodes
        .filter((n) => n.metadata?.labels?.[CONTROL_PLANE_ROLE] === undefined)
        .map((n) => n.metadata?.name ?? '')
        .filter(Boolean)
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      await loadProjectImages(name, log);
      await installKindMetricsServer(kube, name, log);
      const inForce = opts.upstreamTimings && !opts.timings ? UPSTREAM_TIMINGS : timings;
      await writeFile(recordPath(name), JSON.stringify({ madeNetwork, madeLibModules, timings: inForce } satisfies KindRecord));
      log(`kind cluster "${name}" (Kubernetes ${serverVersion}) up with ${workerNames.length} worker(s), every node Ready, in ${formatDuration(Date.now() - started)}`);
      return new KindCluster(name, kubeconfigPath, kube.serverUrl, serverVersion, workerNames, log, inForce, 'kubelet');
    } catch (err) {
      log(`bringing up kind cluster "${name}" failed; deleting it`);
      await deleteKindCluster(name).catch(() => undefined);
      await rm(kubeconfigPath, { force: true });
      throw err;
    }
  }
}

const NODES_READY_WITHIN_MS = 180_000;

/** The images the shipped scenarios run (built here from images/, no registry): the test app, also as its "next version" tag. */
async function loadProjectImages(name: string, log: Log): Promise<void> {
  const t0 = Date.now();
  const tar = (await ensureLocalImages({ log })).get(TESTAPP_IMAGE)!;
  const steps: string[][] = [
    ['kind', 'load', 'image-archive', tar, '--name', name],
    ['docker', 'load', '-i', tar],
    ['docker', 'tag', TESTAPP_IMAGE.ref, TESTAPP_NEXT_REF],
    ['kind', 'load', 'docker-image', TESTAPP_NEXT_REF, '--name', name],
  ];
  for (const [tool, ...args] of steps) {
    const r = await runTool(tool as 'kind' | 'docker', args, { timeoutMs: 300_000 });
    if (r.exitCode !== 0) throw new EnvironmentError(`loading the project's images into kind cluster "${name}" failed: ${tool} ${args.join(' ')}: ${r.output || `exit code ${r.exitCode}`}`);
  }
  log(`loaded ${TESTAPP_IMAGE.ref} and ${TESTAPP_NEXT_REF} into the nodes in ${formatDuration(Date.now() - t0)}`);
}

/** metrics-server from source: its image into the control-plane node (where it runs), then installed and waited for. */
async function installKindMetricsServer(kube: Kube, name: string, log: Log): Promise<void> {
  const t0 = Date.now();
  const image = await ensureMetricsServerImage({ log });
  const controlPlane = `${name}-control-plane`;
  const r = await runTool('kind', ['load', 'image-archive', image.tarball, '--name', name, '--nodes', controlPlane], { timeoutMs: 300_000 });
  if (r.exitCode !== 0) throw new EnvironmentError(`loading ${image.ref} into ${controlPlane} failed: ${r.output || `exit code ${r.exitCode}`}`);
  const loadedMs = Date.now() - t0;
  const { ms } = await installMetricsServer(kube, { image: image.ref, log });
  log(`metrics-server ${image.ref} serving metrics.k8s.io in ${formatDuration(Date.now() - t0)} (image into ${controlPlane} ${formatDuration(loadedMs)}, applied until its APIService was Available ${formatDuration(ms)})`);
}

/** Every one of `count` nodes Ready, as the node watch sees them (a worker's CNI may still be starting when kind returns). */
async function allNodesReady(kube: Kube, count: number, withinMs: number): Promise<Node[]> {
  const ready = (ns: Node[]) => ns.length >= count && ns.every((n) => nodeReadyCondition(n) === 'True');
  const listed = (await kube.list<Node>('Node')).items;
  if (ready(listed)) return listed;
  const nodes = new Informer<Node>(kube, 'Node');
  try {
    await nodes.start();
    await until(
      {
        description: `${count} kind node(s) Ready`,
        sources: [nodes],
        evaluate: () => ({ ok: ready(nodes.list()), observed: nodes.list().map((n) => `${n.metadata?.name} Ready=${nodeReadyCondition(n) ?? '?'}`).join(', ') || 'no node yet' }),
      },
      { within: withinMs },
    ).catch((err: unknown) => {
      // A node that never becomes Ready is this machine's or the node image's problem (exit 3), with each NotReady node's reason.
      if (!(err instanceof ConditionTimeout)) throw err;
      const why = nodes
        .list()
        .filter((n) => nodeReadyCondition(n) !== 'True')
        .map((n) => {
          const c = n.status?.conditions?.find((x) => x.type === 'Ready');
          return `${n.metadata?.name}: Ready=${c?.status ?? '?'}${c?.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`;
        });
      throw new EnvironmentError(
        `${nodes.list().length} of ${count} kind node(s) registered and not all Ready within ${formatDuration(withinMs)}${why.length ? `: ${why.join('; ')}` : ''}`,
        { hint: 'a worker stuck NotReady is usually its CNI: `docker exec <node> journalctl -u kubelet` shows why', cause: err },
      );
    });
    return nodes.list();
  } finally {
    await nodes.stop();
  }
}

async function createKindCluster(name: string, config: object, image: string | undefined, log: Log): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), `kubeproof-kind-${name}-`));
  try {
    const configFile = join(tmp, 'kind.yaml');
    await writeFile(configFile, YAML.stringify(config));
    const nodes = (config as { nodes: Array<{ role: string; labels?: Record<string, string> }> }).nodes;
    const zones = [...new Set(nodes.map((n) => n.labels?.[ZONE_LABEL]).filter(Boolean))];
    const real = nodes.filter((n) => n.labels?.[NODE_TYPE_LABEL] === 'real').length;
    log(`creating kind cluster "${name}" (1 control plane, ${nodes.length - 1} worker(s)${zones.length ? ` in zones ${zones.join(', ')}` : ''}${real ? `, ${real} of them real-N, labelled and tainted as the local cluster's real node` : ''}${image ? `, node image ${image}` : ''})`);
    const r = await runTool('kind', ['create', 'cluster', '--name', name, '--config', configFile, ...(image ? ['--image', image] : []), '--wait', '120s']);
    if (r.exitCode === 0) return;
    if (/already exist/i.test(r.output)) {
      throw new BadInputError(`a kind cluster named "${name}" already exists`, { hint: `kind delete cluster --name ${name}, or choose another --name` });
    }
    // kind removes a cluster it failed to create, but not when it was killed (a Ctrl-C reaches it too): remove what is left.
    await runTool('kind', ['delete', 'cluster', '--name', name]);
    throw new EnvironmentError(`kind could not create cluster "${name}":\n${r.output}`, { hint: 'run the same `kind create cluster` by hand to see more' });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
