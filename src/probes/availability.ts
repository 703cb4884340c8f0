/**
 * Availability of a Service over a whole scenario, from EndpointSlice watch events: the
 * number of ready endpoints (what kube-proxy sends new connections to) at every moment.
 * Started by a step; the figures cover from then until the scenario ends (the faults'
 * reverts included) and go into the timeline's measurements, hence into summary.json and
 * the console summary.
 *
 * This is the same signal on every cluster kind. Where containers are real, an HTTP probe
 * through the Service would measure more (a ready endpoint that does not answer); that is
 * not built yet, and the report says which mechanism produced the figures.
 */
import type { Scenario } from '../scenario.js';
import type { Timeline } from '../timeline/timeline.js';
import type { EndpointSlice } from '../kube/types.js';
import { now } from '../kube/informer.js';
import { until } from '../expect/until.js';
import { BadInputError } from '../errors.js';
import { podReady } from '../timeline/timeline.js';
import { matches } from '../workload/selector.js';
import { seriesFigures, type Sample, type SeriesFigures } from './series.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const AVAILABILITY_MECHANISM = 'EndpointSlice ready endpoints (watch)';

/** Endpoints of a Service by pod (or address), with their readiness, across all its EndpointSlices. */
export function serviceEndpoints(tl: Timeline, service: string): Map<string, { ready: boolean; terminating: boolean }> {
  const out = new Map<string, { ready: boolean; terminating: boolean }>();
  for (const slice of tl.endpointSlices.list() as EndpointSlice[]) {
    if (slice.metadata?.namespace !== tl.namespace || slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== service) continue;
    for (const e of slice.endpoints ?? []) {
      // One pod appears once per address family: key by the pod.
      const key = e.targetRef?.name ?? e.addresses?.[0] ?? '?';
      // A nil `ready` is to be read as true (discovery.k8s.io/v1).
      const ready = e.conditions?.ready !== false;
      const prev = out.get(key);
      out.set(key, { ready: (prev?.ready ?? false) || ready, terminating: Boolean(e.conditions?.terminating) });
    }
  }
  return out;
}

export function readyEndpointCount(tl: Timeline, service: string): number {
  return [...serviceEndpoints(tl, service).values()].filter((e) => e.ready).length;
}

export interface AvailabilityFigures extends SeriesFigures {
  service: string;
  mechanism: string;
  /** "time below" counts the moments with fewer ready endpoints than this (the count when measuring began). */
  threshold: number;
  samples: Sample[];
}

export class AvailabilityProbe {
  readonly samples: Sample[] = [];
  private off: (() => void) | undefined;
  private endedAt: number | undefined;
  threshold = 0;

  constructor(
    private readonly tl: Timeline,
    readonly service: string,
  ) {}

  /**
   * Begin once the EndpointSlices agree with the Service's Ready pods (a Deployment reported
   * ready a moment before the EndpointSlice controller caught up is not an outage).
   */
  async start(withinMs = 30_000): Promise<void> {
    const tl = this.tl;
    const svc = tl.informer('Service').get(this.service, tl.namespace) as { spec?: { selector?: Record<string, string> } } | undefined;
    if (!svc) throw new BadInputError(`service ${this.service} does not exist in namespace ${tl.namespace}`);
    const selector = Object.entries(svc.spec?.selector ?? {}).map(([key, v]) => ({ key, operator: 'In' as const, values: [v] }));
    const readyPods = () => tl.pods.list().filter((p) => p.metadata?.namespace === tl.namespace && matches(p.metadata?.labels, selector) && podReady(p) && !p.metadata?.deletionTimestamp).length;
    await until(
      {
        description: `the EndpointSlices of service ${this.service} list every Ready pod as a ready endpoint`,
        sources: [tl.endpointSlices, tl.pods],
        evaluate: () => {
          const eps = readyEndpointCount(tl, this.service);
          const pods = readyPods();
          return { ok: pods > 0 && eps === pods, observed: `${eps} ready endpoint(s), ${pods} Ready pod(s)` };
        },
      },
      { within: withinMs },
    );
    this.threshold = readyEndpointCount(tl, this.service);
    this.samples.push({ at: now(), value: this.threshold });
    this.off = tl.endpointSlices.on((c) => {
      if (c.object.metadata?.labels?.[SERVICE_NAME_LABEL] !== this.service && c.old?.metadata?.labels?.[SERVICE_NAME_LABEL] !== this.service) return;
      const n = readyEndpointCount(tl, this.service);
      if (n !== this.samples.at(-1)!.value) this.samples.push({ at: c.at, value: n });
    });
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
    this.endedAt ??= now();
  }

  figures(): AvailabilityFigures {
    const from = this.samples[0]?.at ?? now();
    const to = this.endedAt ?? now();
    return { service: this.service, mechanism: AVAILABILITY_MECHANISM, threshold: this.threshold, samples: [...this.samples], ...seriesFigures(this.samples, from, to, this.threshold) };
  }
}

/** Start measuring a Service; figures are recorded when the scenario ends (after its faults are undone). */
export async function measureAvailability(s: Scenario, service: string): Promise<AvailabilityProbe | undefined> {
  if (s.planOnly) {
    s.plans.push(`measure availability of service ${service} (ready endpoints from EndpointSlices)`);
    return undefined;
  }
  if (s.availability.has(service)) throw new BadInputError(`availability of service ${service} is already measured in this scenario`);
  const probe = new AvailabilityProbe(s.timeline, service);
  await probe.start();
  s.availability.set(service, probe);
  s.timeline.mark('measure availability', `service ${service}: ${probe.threshold} ready endpoint(s) at start (${AVAILABILITY_MECHANISM})`);
  // Registered before any fault of the scenario, so it runs after their reverts: the whole scenario counts.
  s.onCleanup(`availability of service ${service}`, async () => {
    probe.stop();
    recordAvailability(s, probe.figures());
  });
  return probe;
}

export function availabilityProbe(s: Scenario, service: string): AvailabilityProbe {
  const p = s.availability.get(service);
  if (!p) throw new BadInputError(`availability of service ${service} is not measured in this scenario (add: Given availability of service "${service}" is measured)`);
  return p;
}

function recordAvailability(s: Scenario, f: AvailabilityFigures): void {
  const detail = { mechanism: f.mechanism, windowMs: Math.round(f.to - f.from), outages: f.outages };
  s.timeline.measure({ name: `availability of service ${f.service} (time with ≥ 1 ready endpoint)`, value: round(f.availablePercent, 3), unit: '%', detail });
  s.timeline.measure({ name: `longest outage of service ${f.service} (no ready endpoint)`, value: Math.round(f.longestOutageMs), unit: 'ms', detail: { outageTotalMs: Math.round(f.outageMs) } });
  s.timeline.measure({ name: `fewest ready endpoints of service ${f.service}`, value: f.min, unit: 'count', detail: { atStart: f.threshold } });
  s.timeline.measure({ name: `time service ${f.service} had fewer than ${f.threshold} ready endpoints`, value: Math.round(f.belowMs), unit: 'ms' });
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
