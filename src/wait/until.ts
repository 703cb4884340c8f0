/**
 * Conditions over watched state, with a deadline. A condition is a value (a description
 * and a function that reads the informers' caches); `until` resolves on the first watch
 * event after which it holds, `holds` fails on the first event after which it does not.
 * Nothing here polls: each evaluation is triggered by an event.
 */
import { now, type Change } from '../kube/informer.js';
import { formatDuration } from '../log.js';

export interface Verdict {
  ok: boolean;
  /** What was seen, in words, for the failure message ("2 of 3 pods Ready: web-1 NotReady"). */
  observed: string;
}

/** What a condition is re-evaluated on: an informer, or any other event source that speaks like one (e.g. the HTTP probe). */
export interface ConditionSource {
  start(): Promise<void>;
  on(listener: (change: Change) => void): () => void;
}

export interface Condition {
  /** What must become (or stay) true, in words ("deployment web has 3 ready replicas"). */
  description: string;
  /** The informers whose events can change the verdict. */
  sources: ConditionSource[];
  evaluate(): Verdict;
}

export interface Outcome {
  /** Epoch ms of the event that made the condition true (or the start, if it already was). */
  at: number;
  /** Milliseconds from the start of the wait. */
  elapsedMs: number;
  observed: string;
  /** The change that decided it (undefined if it held from the start). */
  change?: Change;
}

export class ConditionTimeout extends Error {
  constructor(
    readonly condition: string,
    readonly withinMs: number,
    readonly lastObserved: string,
    readonly context?: string,
  ) {
    super(`timed out after ${formatDuration(withinMs)} waiting for: ${condition}\n  last seen: ${lastObserved}${context ? `\n${context}` : ''}`);
    this.name = 'ConditionTimeout';
  }
}

export class ConditionBroken extends Error {
  constructor(
    readonly condition: string,
    readonly afterMs: number,
    readonly observed: string,
    readonly change?: Change,
  ) {
    const what = change ? ` (${change.type} ${change.kind} ${change.object.metadata?.name})` : '';
    super(`stopped holding after ${formatDuration(afterMs)}: ${condition}\n  seen: ${observed}${what}`);
    this.name = 'ConditionBroken';
  }
}

export interface WaitOptions {
  within: number; // ms
  /** Start of the measured interval (defaults to now): e.g. the moment a fault was injected. */
  since?: number;
  signal?: AbortSignal;
  /** Called on timeout to add context to the error (e.g. recent Events of the objects). */
  explain?: () => Promise<string> | string;
}

function subscribe(condition: Condition, onChange: (c: Change) => void): () => void {
  const offs = condition.sources.map((s) => s.on(onChange));
  return () => offs.forEach((off) => off());
}

/** Resolve at the first event after which `condition` holds; reject at the deadline. */
export async function until(condition: Condition, opts: WaitOptions): Promise<Outcome> {
  await Promise.all(condition.sources.map((s) => s.start()));
  const since = opts.since ?? now();
  let last = condition.evaluate();
  if (last.ok) return { at: now(), elapsedMs: now() - since, observed: last.observed };
  return new Promise<Outcome>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      off();
      clearTimeout(deadline);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const off = subscribe(condition, (change) => {
      try {
        last = condition.evaluate();
      } catch (err) {
        finish(() => reject(err));
        return;
      }
      if (last.ok) finish(() => resolve({ at: change.at, elapsedMs: change.at - since, observed: last.observed, change }));
    });
    const remaining = Math.max(0, opts.within - (now() - since));
    const deadline = setTimeout(() => {
      const fail = async () => {
        let context: string | undefined;
        try {
          context = opts.explain ? await opts.explain() : undefined;
        } catch {
          context = undefined;
        }
        return new ConditionTimeout(condition.description, opts.within, last.observed, context);
      };
      if (settled) return;
      settled = true;
      off();
      opts.signal?.removeEventListener('abort', onAbort);
      void fail().then(reject);
    }, remaining);
    const onAbort = () => finish(() => reject(opts.signal?.reason ?? new Error('aborted')));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Resolve when `condition` has held throughout `forMs`; reject at the first event after
 * which it does not hold (with that event), or at once if it does not hold now.
 */
export async function holds(condition: Condition, opts: { forMs: number; signal?: AbortSignal }): Promise<{ observed: string }> {
  await Promise.all(condition.sources.map((s) => s.start()));
  const start = now();
  const first = condition.evaluate();
  if (!first.ok) throw new ConditionBroken(condition.description, 0, first.observed);
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      off();
      clearTimeout(end);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    let last = first;
    const off = subscribe(condition, (change) => {
      last = condition.evaluate();
      if (!last.ok) finish(() => reject(new ConditionBroken(condition.description, change.at - start, last.observed, change)));
    });
    const end = setTimeout(() => finish(() => resolve({ observed: last.observed })), opts.forMs);
    const onAbort = () => finish(() => reject(opts.signal?.reason ?? new Error('aborted')));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
