/**
 * Figures over a step function of time: a count (ready endpoints) that holds from one
 * sample until the next. Pure, so the arithmetic of availability is tested without a cluster.
 */

export interface Sample {
  /** Epoch ms from which `value` holds. */
  at: number;
  value: number;
}

export interface SeriesFigures {
  from: number;
  to: number;
  /** Lowest value at any moment of [from, to]. */
  min: number;
  /** Milliseconds with value < threshold. */
  belowMs: number;
  /** Windows with value 0: how many, their total and the longest. */
  outages: number;
  outageMs: number;
  longestOutageMs: number;
  /** Percentage of [from, to] with value ≥ 1. */
  availablePercent: number;
}

/** The segments [start, end) with the value in force, clipped to [from, to]. */
function segments(samples: Sample[], from: number, to: number): Array<{ start: number; end: number; value: number }> {
  const sorted = [...samples].sort((a, b) => a.at - b.at);
  const out: Array<{ start: number; end: number; value: number }> = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = Math.max(from, sorted[i]!.at);
    const end = Math.min(to, sorted[i + 1]?.at ?? to);
    if (end > start || (out.length === 0 && end === start && i === sorted.length - 1)) out.push({ start, end, value: sorted[i]!.value });
  }
  return out;
}

export function seriesFigures(samples: Sample[], from: number, to: number, threshold: number): SeriesFigures {
  if (samples.length === 0) throw new Error('no samples');
  const segs = segments(samples, from, to);
  let min = Number.POSITIVE_INFINITY;
  let belowMs = 0;
  let outages = 0;
  let outageMs = 0;
  let longest = 0;
  let current = 0;
  for (const s of segs) {
    min = Math.min(min, s.value);
    const len = s.end - s.start;
    if (s.value < threshold) belowMs += len;
    if (s.value === 0) {
      if (current === 0) outages++;
      current += len;
      outageMs += len;
      longest = Math.max(longest, current);
    } else {
      current = 0;
    }
  }
  const total = to - from;
  return {
    from,
    to,
    min: Number.isFinite(min) ? min : 0,
    belowMs,
    outages,
    outageMs,
    longestOutageMs: longest,
    availablePercent: total > 0 ? (100 * (total - outageMs)) / total : outageMs > 0 ? 0 : 100,
  };
}
