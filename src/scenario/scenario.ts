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
import type { ClusterCapabilities, ClusterParts, NodeCommandLines } from '../cluster/providers/provider.js';
import { isNotFound } from '../kube/errors.js';
import { Ledger } from '../ledger/ledger.js';
import type { Slot } from './slot.js';

export interface Cleanup {
  what: string;
  undo: () => Promise<void>;
}

export class Scenario {
  readonly timeline: Timeline;
  readonly startedAt = now();
  private readonly cleanups: Cleanup[] = [];
  readonly faults: ScenarioData['faults'] = [];
  notApplicable?: string;
  /** Undo records of this scenario's faults live in the cluster (see ledger/). */
  readonly ledger: Ledger;
  /** State of the modules that act in this scenario (faults, probes), by their slot. */
  private readonly slots = new Map<Slot<unknown>, unknown>();
  /** Set in plan mode: faults are planned and printed, never injected. */
  planOnly = false;
  readonly plans: string[] = [];

  constructor(
    readonly kube: Kube,
    readonly cluster: ClusterInfo & { capabilities: ClusterCapabilities; nodes: string[]; nodeCommands?: NodeCommandLines },
    /** What kubeproof can do to the cluster: faults and probes ask these parts, never the cluster's kind. */
    readonly parts: ClusterParts,
    readonly runId: string,
    readonly namespace: string,
    /** Directory that scenario-relative paths (scenarios/…) resolve against. */
    readonly projectDir: string,
  ) {
    this.timeline = new Timeline(kube, namespace);
    this.ledger = new Ledger(kube, runId);
  }

  /** The value of a module's slot in this scenario (made on first use). */
  state<T>(slot: Slot<T>): T {
    if (!this.slots.has(slot as Slot<unknown>)) this.slots.set(slot as Slot<unknown>, slot.initial());
    return this.slots.get(slot as Slot<unknown>) as T;
  }

  static namespaceFor(runId: string): string {
    return `kp-${runId.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, '')}-${randomBytes(3).toString('hex')}`;
  }

  /** Create the scenario's namespace (labelled with the run) and start watching. */
  async begin(): Promise<void> {
    // Made as a unit the run's undo waits for (Ctrl-C meanwhile: the undo finds it and deletes it).
    await this.ledger.injecting(() => this.kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespace, labels: { [RUN_LABEL]: this.runId, 'kubeproof.io/scenario': 'true' } } }));
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

  /** The scenario's report data; `figures` adds what the probes measured (see report/figures). */
  data(figures: Partial<ScenarioData> = {}, maxEntries = 5000): ScenarioData {
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
      ...figures,
      ...(this.notApplicable ? { notApplicable: this.notApplicable } : {}),
      ...(this.planOnly ? { plans: this.plans.length ? this.plans : ['this scenario injects no fault'] } : {}),
    };
  }
}
