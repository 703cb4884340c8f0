/**
 * Which pods the requests through a Service reached: conditions over the HTTP probe's
 * responses (probes/http.ts), re-evaluated on each response. Only where availability is
 * measured by HTTP (real containers on this machine).
 */
import type { Scenario } from '../scenario/scenario.js';
import { NotApplicable } from '../not-applicable.js';
import { availabilityProbe } from '../probes/availability.js';
import type { HttpProbe } from '../probes/http.js';
import { now } from '../kube/informer.js';
import type { Condition } from '../wait/until.js';

/** Consecutive answers from other pods that count as "no longer reached": with 2 other pods, chance alone gives 20 in a row once in a million. */
export const CONSECUTIVE_AVOIDING = 20;

export function httpProbeOf(s: Scenario, service: string): HttpProbe {
  const p = availabilityProbe(s, service);
  if (!p.http) throw new NotApplicable(`requests through service ${service} are not measured: its pods are not real containers this machine can reach (availability is measured by ${p.mechanism})`);
  return p.http;
}

/** The last CONSECUTIVE_AVOIDING successful answers came from other pods than these. */
export function requestsAvoid(probe: HttpProbe, service: string, pods: string[]): Condition {
  return {
    description: `${CONSECUTIVE_AVOIDING} requests in a row through service ${service} answered by other pods than ${pods.join(', ')}`,
    sources: [probe],
    evaluate: () => {
      const ok = probe.results.filter((r) => r.ok).sort((a, b) => a.at - b.at);
      let run = 0;
      for (let i = ok.length - 1; i >= 0 && !pods.includes(ok[i]!.pod ?? ''); i--) run++;
      const last = ok.at(-1)?.pod ?? 'none yet';
      return { ok: run >= CONSECUTIVE_AVOIDING, observed: `${run} in a row from other pods; last answer from ${last}` };
    },
  };
}

/** Each of these pods answered a request sent after the wait began. */
export function requestsReach(probe: HttpProbe, service: string, pods: string[]): Condition {
  const since = now();
  return {
    description: `requests through service ${service} answered by ${pods.join(', ')}`,
    sources: [probe],
    evaluate: () => {
      const answered = new Set(probe.since(since).filter((r) => r.ok && r.pod).map((r) => r.pod!));
      const missing = pods.filter((p) => !answered.has(p));
      return { ok: missing.length === 0, observed: `answered by ${[...answered].join(', ') || 'nobody yet'}${missing.length ? `; not by ${missing.join(', ')}` : ''}` };
    },
  };
}
