/**
 * The data a scenario hands to the report (attached to the cucumber run as a message
 * attachment of media type SCENARIO_MEDIA_TYPE), and summary.json's shape. Bump
 * SUMMARY_SCHEMA_VERSION on any incompatible change; reports/README.md documents it.
 */
import type { ClusterTimings, ClusterKind } from '../cluster/provider.js';
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
  faults: Array<{ id: string; type: string; target: string; injectedAt: number; revertedAt?: number; revert: 'reverted' | 'failed' | 'pending'; detail?: string }>;
  /** Set when a step needed a capability the cluster lacks: the scenario is reported not applicable. */
  notApplicable?: string;
}

export type ScenarioStatus = 'passed' | 'failed' | 'skipped' | 'not-applicable' | 'undefined' | 'ambiguous' | 'pending' | 'unknown';

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
  data?: ScenarioData;
}

export interface RunSummary {
  schemaVersion: typeof SUMMARY_SCHEMA_VERSION;
  runId: string;
  startedAt: string; // ISO
  finishedAt: string; // ISO
  durationMs: number;
  kubeproofVersion: string;
  cluster?: ClusterInfo;
  totals: { scenarios: number; passed: number; failed: number; skipped: number; notApplicable: number };
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
