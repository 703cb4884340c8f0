/**
 * Questions asked of a scenario's timeline after the fact: how many pods of a workload were
 * unavailable at the worst moment, how low a PDB's disruptionsAllowed went, the phases of a
 * node failure. Answers come from the recorded watch events, not from samples.
 */
import type { Timeline, WatchEntry } from './timeline.js';
import { matches, type Requirement } from '../workload/selector.js';
import { BadInputError } from '../errors.js';

export interface Worst {
  value: number;
  at?: number;
  /** Number of events replayed. */
  events: number;
}

/**
 * How many pods a workload means to have available, read from one of its watch entries:
 * a DaemonSet one per node it should run on (status.desiredNumberScheduled); a Deployment,
 * StatefulSet or ReplicaSet its spec.replicas. A Job has no such number — its pods are meant
 * to finish and go — so asking is refused.
 */
export function desiredPods(kind: string, e: Pick<WatchEntry, 'figures' | 'type'>): number | undefined {
  if (e.type === 'deleted') return 0;
  switch (kind) {
    case 'DaemonSet':
      return e.figures?.desired;
    case 'Deployment':
    case 'StatefulSet':
    case 'ReplicaSet':
      return e.figures?.replicas;
    case 'Job':
      throw new BadInputError(`a Job's pods run to completion and leave, so "unavailable" means nothing for it; assert "within … job … completes" instead`);
    default:
      throw new BadInputError(`"unavailable" is defined for Deployments, StatefulSets, ReplicaSets and DaemonSets, not for ${kind}`);
  }
}

/**
 * The largest number of pods of a workload missing from what it wants available at any
 * moment since `since`: desired (see desiredPods, as recorded) minus its pods that were Ready
 * and not terminating. `seen` says whether the workload was on the timeline at all.
 */
export function maxUnavailable(tl: Timeline, opts: { kind: string; name: string; selector: Requirement[]; since: number }): Worst & { seen: boolean } {
  desiredPods(opts.kind, { type: 'modified' });
  const available = new Map<string, boolean>();
  let desired = 0;
  let seen = false;
  let worst: Worst = { value: 0, events: 0 };
  const count = () => [...available.values()].filter(Boolean).length;
  for (const e of tl.entries) {
    if (e.source !== 'watch') continue;
    if (e.kind === opts.kind && e.name === opts.name && e.namespace === tl.namespace) {
      const d = desiredPods(opts.kind, e);
      if (d === undefined) continue;
      desired = d;
      seen = true;
    } else if (e.kind === 'Pod' && e.namespace === tl.namespace && matches(e.labels, opts.selector)) available.set(e.name, e.type !== 'deleted' && e.figures?.available === 1);
    else continue;
    if (e.at < opts.since) continue;
    worst.events++;
    const missing = Math.max(0, desired - count());
    if (missing > worst.value) worst = { value: missing, at: e.at, events: worst.events };
  }
  return { ...worst, seen };
}

/** The lowest disruptionsAllowed a PodDisruptionBudget reported since `since`. */
export function minDisruptionsAllowed(tl: Timeline, pdb: string, since: number): Worst {
  let worst: Worst = { value: Number.POSITIVE_INFINITY, events: 0 };
  for (const e of tl.watchEntries('PodDisruptionBudget')) {
    if (e.name !== pdb || e.type === 'deleted') continue;
    const v = e.figures?.disruptionsAllowed;
    if (v === undefined) continue;
    // The value in force at `since` counts too.
    if (e.at < since) {
      worst = { value: v, at: e.at, events: 0 };
      continue;
    }
    worst.events++;
    if (v < worst.value) worst = { value: v, at: e.at, events: worst.events };
  }
  return worst;
}

export interface Phase {
  name: string;
  at: number;
  /** Milliseconds after the fault. */
  afterMs: number;
}

/** First entry after `since` that satisfies `test`. */
export function firstAfter(tl: Timeline, since: number, test: (e: WatchEntry) => boolean): WatchEntry | undefined {
  return tl.entries.find((e): e is WatchEntry => e.source === 'watch' && e.at >= since && test(e));
}
