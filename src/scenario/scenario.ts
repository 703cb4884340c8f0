/**
 * One scenario's state, shared by the steps and the library: the cluster, the scenario's
 * own namespace, its timeline, and a last-in-first-out cleanup stack that runs whether the
 * scenario passed, failed or was interrupted.
 */
import { randomBytes } from 'node:crypto';
import type { Kube } from '../kube/client.js';
import { Timeline } from '../timeline/timeline.js';
import { now } from '../kube/informer.js';
import { RUN_LABEL } from '../workload/manifests.js';
import type { ClusterInfo, ScenarioData } from '../report/schema.js';
import type { ClusterCapabilities, NodeCommandLines } from '../cluster/providers/provider.js';
import { isNotFound } from '../kube/errors.js';
import { Ledger } from '../ledger/ledger.js';
import type { DrainResult } from '../faults/drain.js';
import type { NodeDown } from '../faults/node-down.js';
import type { ReadinessBreak } from '../faults/readiness.js';
import type { ContainerKill } from '../faults/container-kill.js';
import type { LoadDriver } from '../faults/load.js';
import type { HttpLoad } from '../faults/http-load.js';
import type { AvailabilityProbe } from '../probes/availability.js';
import { scenarioFigures } from '../report/figures.js';

export interface Cleanup {
  what: string;
  undo: () => Promise<void>;
}

export class Scenario {
  readonly timeline: Timeline;
  readonly startedAt = now();
  private readonly cleanups: Cleanup[] = [];
  readonly faults: ScenarioData['faults'] = [];
  /** Per-trial values of the last repeated fault, for percentile steps. */
  trials: number[] = [];
  notApplicable?: string;
  /** Undo records of this scenario's faults live in the cluster (see ledger/). */
  readonly ledger: Ledger;
  /** Drains of this scenario, by node, for the steps that assert on them. */
  readonly drains = new Map<string, DrainResult>();
  /** Nodes this scenario took down, for the steps that assert on their failure. */
  readonly nodeDowns = new Map<string, NodeDown>();
  /** Readiness breaks of this scenario, for the steps that assert on their victims. */
  readonly readinessBreaks: ReadinessBreak[] = [];
  /** Containers whose process this scenario killed. */
  readonly containerKills: ContainerKill[] = [];
  /** Load offered to workloads, by workload ("deployment shop"). */
  readonly loads = new Map<string, LoadDriver | HttpLoad>();
  /** Availability probes, by Service name. */
  readonly availability = new Map<string, AvailabilityProbe>();
  /** Set in plan mode: faults are planned and printed, never injected. */
  planOnly = false;
  readonly plans: string[] = [];

  constructor(
    readonly kube: Kube,
    readonly cluster: ClusterInfo & { capabilities: ClusterCapabilities; nodes: string[]; nodeCommands?: NodeCommandLines },
    readonly runId: string,
    readonly namespace: string,
    /** Directory that scenario-relative paths (scenarios/…) resolve against. */
    readonly projectDir: string,
  ) {
    this.timeline = new Timeline(kube, namespace);
    this.ledger = new Ledger(kube, runId);
  }

  static namespaceFor(runId: string): string {
    return `kp-${runId.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, '')}-${randomBytes(3).toString('hex')}`;
  }

  /** Create the scenario's namespace (labelled with the run) and start watching. */
  async begin(): Promise<void> {
    await this.kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespace, labels: { [RUN_LABEL]: this.runId, 'kubeproof.io/scenario': 'true' } } });
    await this.timeline.start();
  }

  /** Register an undo to run at the end of the scenario (last registered runs first). */
  onCleanup(what: string, undo: () => Promise<void>): void {
    this.cleanups.push({ what, undo });
  }

  /** Run every cleanup (LIFO), then delete the namespace. Returns what could not be undone. */
  async end(): Promise<string[]> {
    const failures: string[] = [];
    while (this.cleanups.length) {
      const c = this.cleanups.pop()!;
      try {
        await c.undo();
      } catch (err) {
        failures.push(`${c.what}: ${(err as Error).message}`);
      }
    }
    await this.timeline.stop();
    try {
      await this.kube.delete('Namespace', this.namespace);
    } catch (err) {
      if (!isNotFound(err)) failures.push(`delete namespace ${this.namespace}: ${(err as Error).message}`);
    }
    return failures;
  }

  data(maxEntries = 5000): ScenarioData {
    const entries = this.timeline.entries;
    const dropped = Math.max(0, entries.length - maxEntries);
    return {
      namespace: this.namespace,
      cluster: { kind: this.cluster.kind, name: this.cluster.name, context: this.cluster.context, serverVersion: this.cluster.serverVersion, timings: this.cluster.timings },
      startedAt: this.startedAt,
      endedAt: now(),
      measurements: this.timeline.measurements,
      entries: dropped ? [...entries.slice(0, maxEntries / 2), ...entries.slice(-maxEntries / 2)] : entries,
      entriesDropped: dropped,
      faults: this.faults,
      ...scenarioFigures(this),
      ...(this.notApplicable ? { notApplicable: this.notApplicable } : {}),
      ...(this.planOnly ? { plans: this.plans.length ? this.plans : ['this scenario injects no fault'] } : {}),
    };
  }
}
