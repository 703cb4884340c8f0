/** Assertions on a Service's availability, from its probe's figures so far (see probes/availability.ts). */
import type { Scenario } from '../scenario/scenario.js';
import { availabilityProbe, type AvailabilityFigures } from '../probes/availability.js';
import { formatDuration } from '../log.js';
import type { Window } from './window.js';

function words(f: AvailabilityFigures): string {
  const h = f.http;
  if (h) {
    const lat = h.latencyMs ? `; latency p50 ${h.latencyMs.p50.toFixed(1)} ms, p99 ${h.latencyMs.p99.toFixed(1)} ms` : '';
    return `${h.succeeded} of ${h.requests} requests succeeded (${f.availablePercent.toFixed(3)} %) over ${formatDuration(f.to - f.from)}; ${f.outages} outage(s), longest ${formatDuration(f.longestOutageMs)}${lat}${h.errors.length ? `; first failures: ${h.errors.join(', ')}` : ''}; fewest ready endpoints ${f.min}; ${f.mechanism}${h.trouble ? `; the requests stopped early: ${h.trouble}` : ''}`;
  }
  return `${f.availablePercent.toFixed(3)} % available over ${formatDuration(f.to - f.from)}; ${f.outages} outage(s), longest ${formatDuration(f.longestOutageMs)}; fewest ready endpoints ${f.min} (${f.threshold} at start); ${f.mechanism}`;
}

/** Figures of requests that stopped before the measurement ended (the client pod died, say) prove nothing about the rest: the claim fails. */
function figures(s: Scenario, service: string, window?: Window): AvailabilityFigures {
  const f = availabilityProbe(s, service).figures(window?.at);
  if (f.http?.trouble) throw new Error(`availability of service ${service} cannot be judged: the HTTP requests stopped before the measurement ended (${f.http.trouble}; ${words(f)})`);
  return f;
}

/** Over the whole measurement, or over a window ("from now on"). */
export function expectAvailability(s: Scenario, service: string, minPercent: number, window?: Window): void {
  const f = figures(s, service, window);
  if (f.availablePercent < minPercent) throw new Error(`service ${service} was available ${f.availablePercent.toFixed(3)} % of the time, less than ${minPercent} % (${words(f)})`);
}

export function expectNoOutageLongerThan(s: Scenario, service: string, maxMs: number, window?: Window): void {
  const f = figures(s, service, window);
  if (f.longestOutageMs > maxMs) throw new Error(`service ${service} had an outage of ${formatDuration(f.longestOutageMs)}, longer than ${formatDuration(maxMs)} (${words(f)})`);
}

export function expectReadyEndpointsAlways(s: Scenario, service: string, min: number, window?: Window): void {
  const f = availabilityProbe(s, service).figures(window?.at);
  if (f.min < min) throw new Error(`service ${service} had only ${f.min} ready endpoint(s) at one moment, fewer than ${min} (${words(f)})`);
}
