/**
 * Questions asked of a scenario's timeline after the fact: how many pods of a workload were
 * unavailable at the worst moment, how low a PDB's disruptionsAllowed went, the phases of a
 * node failure. Answers come from the recorded watch events, not from samples.
 */
import type { Timeline, WatchEntry } from './timeline.js';
import { matches, type Requirement } from '../workload/selector.js';

export interface Worst {
  value: number;
  at?: number;
  /** Number of events replayed. */
  events: number;
}

/**
 * The largest number of pods of a workload missing from its desired replicas at any moment
 * since `since`: desired (spec.replicas, as recorded) minus pods that were Ready and not terminating.
 */
export function maxUnavailable(tl: Timeline, opts: { kind: string; name: string; selector: Requirement[]; since: number }): Worst {
  const available = new Map<string, boolean>();
  let desired = 0;
  let worst: Worst = { value: 0, events: 0 };
  const count = () => [...available.values()].filter(Boolean).length;
  for (const e of tl.entries) {
    if (e.source !== 'watch') continue;
    if (e.kind === opts.kind && e.name === opts.name && e.figures?.replicas !== undefined) desired = e.figures.replicas;
    else if (e.kind === 'Pod' && e.namespace === tl.namespace && matches(e.labels, opts.selector)) available.set(e.name, e.type !== 'deleted' && e.figures?.available === 1);
    else continue;
    if (e.at < opts.since) continue;
    worst.events++;
    const missing = Math.max(0, desired - count());
    if (missing > worst.value) worst = { value: missing, at: e.at, events: worst.events };
  }
  return worst;
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
