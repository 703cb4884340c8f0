/**
 * The data a scenario hands to the report (attached to the cucumber run as a message
 * attachment of media type SCENARIO_MEDIA_TYPE), and summary.json's shape. Bump
 * SUMMARY_SCHEMA_VERSION on any incompatible change; reports/README.md documents it.
 */
import type { ClusterTimings, ClusterKind } from '../cluster/providers/provider.js';
import type { Measurement, TimelineEntry } from '../timeline/timeline.js';

export const SUMMARY_SCHEMA_VERSION = 1;
export const SCENARIO_MEDIA_TYPE = 'application/vnd.kubeproof.scenario+json';

export interface ClusterInfo {
  kind: ClusterKind;
  name: string;
  context: string;
  serverVersion: string;
  timings: ClusterTimings;
}

/** What the World attaches at the end of each scenario. */
export interface ScenarioData {
  namespace: string;
  cluster: ClusterInfo;
  /** Epoch ms. */
  startedAt: number;
  endedAt: number;
  measurements: Measurement[];
  /** The scenario's timeline (capped; `entriesDropped` says how many were left out). */
  entries: TimelineEntry[];
  entriesDropped: number;
  /** Faults injected and what became of their undo. */
  faults: Array<{ id: string; type: string; target: string; injectedAt: number; revertedAt?: number; revert: 'reverted' | 'failed' | 'pending' | 'none'; detail?: string }>;
  /** Set when a step needed a capability the cluster lacks: the scenario is reported not applicable. */
  notApplicable?: string;
  /** Plan mode (`kubeproof plan`): what each fault would have done; nothing was injected. */
  plans?: string[];
  /** Services whose availability was measured, with their figures and ready-endpoint curve. */
  availability?: AvailabilityReport[];
  /** HorizontalPodAutoscalers seen in the scenario: their replica curve and the windows in force. */
  hpa?: HpaCurve[];
}

export interface AvailabilityReport {
  service: string;
  /** How the figures were measured, e.g. "EndpointSlice ready endpoints (watch)". */
  mechanism: string;
  /** Epoch ms of the measured window: from the probe's start to the end of the scenario (its undo included). */
  from: number;
  to: number;
  /** Percentage of the window with at least one ready endpoint (HTTP mode: of the requests that succeeded). */
  availablePercent: number;
  /** HTTP mode: requests, successes, latency percentiles (ms) and successful responses per pod. */
  http?: { url: string; /** Where the requests came from. */ from?: string; /** Why they stopped before the measurement ended. */ trouble?: string; ratePerSecond: number; requests: number; succeeded: number; latencyMs?: { p50: number; p90: number; p99: number; max: number }; byPod: Record<string, number> };
  /** Fewest ready endpoints at any moment. */
  minReady: number;
  /** Ready endpoints when measuring began; `belowThresholdMs` is the time with fewer. */
  threshold: number;
  belowThresholdMs: number;
  /** Windows with no ready endpoint: how many, their total and the longest (ms). */
  outages: number;
  outageMs: number;
  longestOutageMs: number;
  /** Ready endpoints over time: each value holds from `at` until the next point. */
  points: Array<{ at: number; ready: number }>;
}

export interface HpaCurve {
  name: string;
  /** The scaled workload, e.g. "Deployment/shop". */
  target?: string;
  minReplicas?: number;
  maxReplicas?: number;
  /** Scale-down stabilization window in force (s) and where it came from: the HPA's behavior, or the cluster's controller flag. */
  scaleDownStabilizationSeconds?: number;
  scaleDownStabilizationSource?: 'hpa-behavior' | 'cluster';
  /** The HPA's status over time: replicas it had, replicas it wanted, the CPU utilisation it acted on (%), its conditions' reasons. */
  points: Array<{ at: number; current: number; desired: number; cpuUtilization?: number; reasons?: string }>;
  /** The target workload's replicas over time (spec.replicas as the HPA set it, and Ready). */
  replicas: Array<{ at: number; replicas: number; ready: number }>;
}

/** `planned`: walked in plan mode (`kubeproof plan`): faults printed, nothing injected, no check run. */
export type ScenarioStatus = 'passed' | 'failed' | 'skipped' | 'not-applicable' | 'planned' | 'undefined' | 'ambiguous' | 'pending' | 'unknown';

export interface ScenarioSummary {
  name: string;
  feature: string;
  /** "features/pod-kill.feature:12" */
  location: string;
  tags: string[];
  status: ScenarioStatus;
  durationMs: number;
  /** First failing step's message, when failed. */
  error?: string;
  failedStep?: { text: string; location: string };
  /** Every step and hook as it ran, in order: when it started (ISO), how long it took, and how it ended. */
  steps?: StepTiming[];
  data?: ScenarioData;
}

export interface StepTiming {
  /** The step's text, or "Before hook …" / "After hook …". */
  text: string;
  location: string;
  status: ScenarioStatus;
  startedAt: string;
  durationMs: number;
}

export interface RunSummary {
  schemaVersion: typeof SUMMARY_SCHEMA_VERSION;
  runId: string;
  startedAt: string; // ISO
  finishedAt: string; // ISO
  durationMs: number;
  kubeproofVersion: string;
  cluster?: ClusterInfo;
  totals: { scenarios: number; passed: number; failed: number; skipped: number; notApplicable: number; planned?: number };
  exitCode: number;
  /** Whether the nodes were back to their state before the run once every fault was undone (absent in plan mode). */
  leftAsFound?: LeftAsFound;
  scenarios: ScenarioSummary[];
}

export interface LeftAsFound {
  checked: boolean;
  /** Nodes compared (schedulability, taints, labels, annotations). */
  nodes: number;
  /** What still differed after the undo, one line each; empty when the cluster was left as found. */
  residue: string[];
}
