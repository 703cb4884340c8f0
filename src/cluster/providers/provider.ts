/**
 * ClusterProvider → Cluster: the one interface every way of getting a cluster fits
 * (local upstream control plane + KWOK, kind, an existing kubeconfig context).
 * A cluster's capabilities are parts (node control, container runtime, traffic to Services,
 * image loading, readiness, CPU load, nodes a scenario adds): each is made by the provider that can do it and brings its own undo op. Faults
 * and probes ask for a part, never for the cluster's kind, so one feature file runs on all
 * of them; a part that is missing says why, and the scenario is not applicable.
 */
import type { Kube } from '../../kube/client.js';
import type { Deployment, Node, Pod, Service } from '../../kube/types.js';
import type { UndoAction } from '../../ledger/undo-ops.js';
import type { TrafficContext, TrafficPlan, TrafficStream } from '../../traffic/stream.js';

export type ClusterKind = 'local' | 'kind' | 'existing';

/** Failure-detection timings in force on the cluster, stated in every report. */
export interface ClusterTimings {
  /** kube-controller-manager --node-monitor-grace-period, seconds. */
  nodeMonitorGracePeriodSeconds: number;
  /** kube-controller-manager --node-monitor-period, seconds. */
  nodeMonitorPeriodSeconds: number;
  /** How often a node renews its Lease / reports status, seconds. */
  nodeHeartbeatSeconds: number;
  /** apiserver --default-not-ready-toleration-seconds. */
  defaultNotReadyTolerationSeconds: number;
  /** apiserver --default-unreachable-toleration-seconds. */
  defaultUnreachableTolerationSeconds: number;
  /** kube-controller-manager --horizontal-pod-autoscaler-sync-period, seconds. */
  hpaSyncPeriodSeconds: number;
  /** kube-controller-manager --horizontal-pod-autoscaler-downscale-stabilization, seconds. */
  hpaDownscaleStabilizationSeconds: number;
  /** Where these numbers come from: set by kubeproof, Kubernetes' defaults, or unknown (existing clusters). */
  source: 'kubeproof-fast' | 'upstream-defaults' | 'assumed-upstream-defaults';
}

/** Fast failure detection so node-failure scenarios finish in seconds, not minutes. */
export const FAST_TIMINGS: ClusterTimings = {
  nodeMonitorGracePeriodSeconds: 10,
  nodeMonitorPeriodSeconds: 1,
  nodeHeartbeatSeconds: 2,
  defaultNotReadyTolerationSeconds: 10,
  defaultUnreachableTolerationSeconds: 10,
  hpaSyncPeriodSeconds: 5,
  hpaDownscaleStabilizationSeconds: 15,
  source: 'kubeproof-fast',
};

/** Kubernetes' own defaults (1.37). */
export const UPSTREAM_TIMINGS: ClusterTimings = {
  nodeMonitorGracePeriodSeconds: 50,
  nodeMonitorPeriodSeconds: 5,
  nodeHeartbeatSeconds: 10,
  defaultNotReadyTolerationSeconds: 300,
  defaultUnreachableTolerationSeconds: 300,
  hpaSyncPeriodSeconds: 15,
  hpaDownscaleStabilizationSeconds: 300,
  source: 'upstream-defaults',
};

export interface ClusterCapabilities {
  /** Containers really run (kubelet + runtime). False on KWOK-only clusters. */
  realContainers: boolean;
  /** Nodes whose pods are real containers (names). */
  realNodes: string[];
  /** Some node can be taken down (reported; faults ask `parts.nodeControl`). */
  canStopNode: boolean;
  /** How pod readiness can be broken, reported (faults ask `parts.readiness`): a KWOK stage label, or the test app's readiness toggle. */
  readinessMechanism: 'kwok-stage' | 'app-endpoint';
  /** Where CPU usage comes from for metrics.k8s.io, reported (the load fault asks `parts.load`, whose mechanism follows from it). */
  metricsSource: 'kwok-annotation' | 'kubelet' | 'none' | 'unknown';
  /** Simulated nodes (KWOK) whose lifecycle kubeproof drives. */
  simulatedNodes: boolean;
  /** Other hands change its nodes too (a cluster kubeproof did not make): only kubeproof's own traces count as residue. */
  othersChangeNodes: boolean;
}

/** How a node is taken down: silent (heartbeats stop: the machine or its kubelet is gone), reporting NotReady while up, its kubelet process stopped, or frozen (paused). */
export type NodeStopMode = 'silent' | 'not-ready' | 'kubelet' | 'freeze';

/** Why a part cannot do what was asked: the scenario is not applicable, with this reason. */
export interface Refusal {
  refused: string;
}

/** A refusal whose cause in full takes a look at this machine (e.g. which packages a real node lacks): for the not-applicable reason. */
export interface ExplainedRefusal extends Refusal {
  explain(): Promise<string>;
}

export function isRefusal(v: unknown): v is Refusal {
  return typeof v === 'object' && v !== null && 'refused' in v;
}

/** A refusal's reason in full (its `explain`, else its text). */
export async function reasonOf(r: Refusal): Promise<string> {
  const explain = (r as Partial<ExplainedRefusal>).explain;
  return typeof explain === 'function' ? explain.call(r) : r.refused;
}

/** One way of taking one node down, made by the provider that can do it. */
export interface NodeStopMechanism {
  /** The first phase of the failure, as the report names it ("heartbeats stopped"). */
  readonly phase: string;
  /** What it does, for plans: "stop its heartbeats". */
  readonly how: string;
  /** Ready → Unknown (true: nothing reports any more) or Ready → False (false). */
  readonly silent: boolean;
  /** The undo the ledger keeps; written before `stop` acts. */
  readonly undo: UndoAction;
  /** Act. `annotations` (the ledger's mark) go on the Node, in the mechanism's own write where it writes the Node. Returns the detail for the timeline. */
  stop(kube: Kube, annotations: Record<string, string>): Promise<string>;
}

export interface NodeControl {
  mechanism(mode: NodeStopMode, node: Node): NodeStopMechanism | Refusal;
}

/** Kills a container's main process through the node's own runtime; the kubelet restarts it. */
export interface ContainerRuntime {
  /** Why this pod's containers are out of reach (undefined: they can be killed). */
  refuse(pod: Pod): string | undefined;
  kill(pod: Pod, container: string, containerId: string): Promise<void>;
}

/**
 * HTTP requests to a Service as a client would send them, with their results as they come.
 * Who sends them is the provider's choice: this process where the host routes ClusterIPs (a
 * local cluster's real node), a client pod inside the cluster's network where it cannot (kind).
 */
export interface ServiceTraffic {
  /** Where the requests come from, in words, for plans ("from this machine", "from a client pod on the control-plane node"). */
  readonly from: string;
  /** Requests to the Service, given the Ready pods behind it, or why it cannot be reached this way. Nothing is sent before `start`. */
  open(ctx: TrafficContext, svc: Service, pods: Pod[], plan: TrafficPlan): TrafficStream | Refusal;
}

/** Puts an image tarball (docker-archive or OCI) into the nodes that run real containers: there is no registry. */
export interface ImageLoader {
  /** Resolves with the image names now on the nodes (`name`: the name to give an archive that names none). */
  load(tarball: string, name?: string): Promise<string[]>;
}

/** One way of making one running pod report Ready=False while its containers keep running. */
export interface ReadinessBreaker {
  /** What it does, for plans and the timeline ("label kubeproof.io/unready=true: …"). */
  readonly how: string;
  /** The undo the ledger keeps, written before `break` acts; absent when the pod is already so (nothing of ours to undo). */
  readonly undo?: UndoAction;
  /** Act. `annotations` (the ledger's mark) go on the pod first or in the same write. */
  break(kube: Kube, annotations: Record<string, string>): Promise<void>;
}

/** How pod readiness is broken on this cluster: per running pod, and for a rollout whose pods never become ready. */
export interface ReadinessControl {
  breaker(pod: Pod): ReadinessBreaker | Refusal;
  /** The JSON patch that makes a Deployment's next version never Ready, and how; NotApplicable when no mechanism reaches its pods. */
  neverReady(d: Deployment): { ops: object[]; mechanisms: string[] };
}

/**
 * How CPU load reaches a workload's pods: real work (HTTP requests to the test app's /burn
 * through its Service, sent by `serviceTraffic`), or simulated usage written on each pod in
 * `annotation` (KWOK), `written` recording what kubeproof wrote, `undo` putting them back.
 */
export type LoadMechanism =
  | { via: 'service-http'; how: string }
  | { via: 'usage-annotation'; how: string; annotation: string; written: string; undo(idle: string | null, selector: string): UndoAction };

export interface CpuLoad {
  /** The mechanism for these pods (a workload's, not terminating), or why they cannot be loaded. */
  mechanism(pods: Pod[]): LoadMechanism | Refusal;
}

/** Nodes a scenario adds for itself (KWOK nodes through the API), labelled with its run so a later `kubeproof clean` finds them. */
export interface NodeSupply {
  /** What removes one added node (the ledger keeps it, written before the node is made). */
  readonly undo: UndoAction;
  /** Create the nodes (their specs carry the run label); resolves when every one is Ready. */
  add(kube: Kube, specs: NodeSpec[]): Promise<void>;
}

/** Why this cluster has no node whose pods are real containers, with the fix for that cause ("needs …"). */
export interface RealNodeAdvice {
  whyNone(): Promise<string>;
}

/** The capabilities of a cluster as parts; rebuilt in any process from the cluster's description. */
export interface ClusterParts {
  nodeControl: NodeControl;
  containerRuntime: ContainerRuntime | Refusal;
  serviceTraffic: ServiceTraffic | Refusal;
  imageLoader: ImageLoader | Refusal;
  readiness: ReadinessControl;
  load: CpuLoad;
  nodeSupply: NodeSupply | Refusal;
  realNode: RealNodeAdvice;
}

export interface NodeSpec {
  name: string;
  zone?: string;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }>;
  /** Allocatable (and capacity) resources, e.g. { cpu: '4', memory: '16Gi', pods: '110' }. */
  allocatable?: Record<string, string>;
}

export interface NodeCommandLines {
  stop: string[];
  start: string[];
}

export interface Cluster {
  readonly kind: ClusterKind;
  readonly name: string;
  /** Absolute path of a kubeconfig file holding `context`; never the user's ~/.kube/config for local clusters. */
  readonly kubeconfigPath: string;
  readonly context: string;
  readonly apiServerUrl: string;
  readonly capabilities: ClusterCapabilities;
  readonly timings: ClusterTimings;
  /** Node names known at start (more can be added with addNodes where supported). */
  readonly nodes: string[];
  /** Version the API server reports, e.g. v1.37.2. */
  readonly serverVersion: string;
  /**
   * How to stop and start one node from any process (argv, `{node}` standing for the node's
   * name, also in $KUBEPROOF_NODE): existing clusters' commands from kubeproof.config.json.
   */
  readonly nodeCommands?: NodeCommandLines;
  /** What kubeproof can do to it, as parts (see ClusterParts). */
  readonly parts: ClusterParts;
  /** Add nodes (local: KWOK nodes through the API; kind: refused). Resolves when every new node is Ready. */
  addNodes(specs: NodeSpec[]): Promise<void>;
  /** Stop and remove what `up()` created (for existing clusters: nothing). */
  down(opts?: { keep?: boolean }): Promise<void>;
}

export interface ClusterUpOptions {
  name?: string;
  nodes?: number;
  zones?: string[];
  /** Extra node specs beyond the `nodes` count. */
  nodeSpecs?: NodeSpec[];
  /** Real nodes (kubelet + containerd + runc) beside the simulated ones; local clusters only, at most 1 per machine. */
  realNodes?: number;
  /** Use Kubernetes' own default timings instead of kubeproof's fast ones. */
  upstreamTimings?: boolean;
  /** kind: the node image — kind's own (default), 'offline' (kubeproof's, built from the pinned version set), or an image name. */
  kindImage?: string;
  /** Override individual timings. */
  timings?: Partial<Omit<ClusterTimings, 'source'>>;
  log?: (line: string) => void;
}

export interface ClusterProvider {
  readonly kind: ClusterKind;
  up(opts: ClusterUpOptions): Promise<Cluster>;
}
