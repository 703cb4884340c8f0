/**
 * ClusterProvider → Cluster: the one interface every way of getting a cluster fits
 * (local upstream control plane + KWOK, kind, an existing kubeconfig context).
 * Faults and probes pick their mechanism from `capabilities`, so one feature file
 * runs on all of them.
 */

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
  /** A node can be taken down (heartbeats stopped or machine stopped). */
  canStopNode: boolean;
  /** How pod readiness can be broken: a KWOK stage label, or the test app's readiness toggle. */
  readinessMechanism: 'kwok-stage' | 'app-endpoint';
  /** Where CPU usage comes from for metrics.k8s.io. */
  metricsSource: 'kwok-annotation' | 'kubelet' | 'none' | 'unknown';
  /** Simulated nodes (KWOK) whose lifecycle kubeproof drives. */
  simulatedNodes: boolean;
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
   * How to stop and start one node from any process (argv, `{node}` standing for the node's name):
   * kind: `docker stop/start`; existing: the commands configured in kubeproof.config.json;
   * absent where there is no such way. The local cluster stops its nodes through the API instead.
   */
  readonly nodeCommands?: NodeCommandLines;
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
  /** Override individual timings. */
  timings?: Partial<Omit<ClusterTimings, 'source'>>;
  log?: (line: string) => void;
}

export interface ClusterProvider {
  readonly kind: ClusterKind;
  up(opts: ClusterUpOptions): Promise<Cluster>;
}
