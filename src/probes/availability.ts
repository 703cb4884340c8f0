/**
 * Availability of a Service over a whole scenario, from EndpointSlice watch events: the
 * number of ready endpoints (what kube-proxy sends new connections to) at every moment.
 * Started by a step; the figures cover from then until the scenario ends (the faults'
 * reverts included) and go into the timeline's measurements, hence into summary.json and
 * the console summary.
 *
 * That signal exists on every cluster kind. Where the cluster's traffic part can send HTTP
 * requests to the Service (every pod behind it a real container: a local cluster's real node,
 * whose kube-proxy routes ClusterIPs from this machine; kind, from a client pod inside its
 * network), requests through the ClusterIP measure what a client saw instead (a ready
 * endpoint that does not answer counts as down): availability is then the share of requests
 * that succeeded and an outage a run of failed requests (probes/http.ts). The ready-endpoint
 * count is kept in both modes; the report says which mechanism produced the figures, and
 * from where the requests came.
 */
import { isRefusal } from '../cluster/providers/provider.js';
import type { Scenario } from '../scenario/scenario.js';
import { Slot } from '../scenario/slot.js';
import { unlessPlanning } from '../scenario/plan.js';
import type { Timeline } from '../timeline/timeline.js';
import type { EndpointSlice } from '../kube/types.js';
import { now } from '../kube/informer.js';
import { until } from '../wait/until.js';
import { BadInputError } from '../errors.js';
import { podReady } from '../timeline/timeline.js';
import { matches } from '../workload/selector.js';
import { seriesFigures, type Sample, type SeriesFigures } from './series.js';
import { HTTP_PROBE_RATE, HttpProbe, type HttpFigures } from './http.js';
import type { TrafficPlan, TrafficStream } from '../traffic/stream.js';
import type { Refusal } from '../cluster/providers/provider.js';
import type { Pod, Service } from '../kube/types.js';

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
  /** In HTTP mode: the requests' figures (availablePercent, outages and longestOutageMs come from them). */
  http?: HttpFigures;
}

export { HTTP_PROBE_RATE } from './http.js';

export function httpMechanism(url: string, rate: number, from: string): string {
  return `HTTP GET ${url} through the Service's ClusterIP ${from}, ${rate} req/s, new connection each`;
}

/** Availability requests: one second without an answer is a failure; in flight at most rate × timeout, so a hanging Service never piles up sockets. */
export const AVAILABILITY_TRAFFIC: TrafficPlan = { path: '/', ratePerSecond: HTTP_PROBE_RATE, timeoutMs: 1000, maxInFlight: HTTP_PROBE_RATE, maxDurationMs: 60 * 60_000, purpose: 'availability' };

export class AvailabilityProbe {
  readonly samples: Sample[] = [];
  private off: (() => void) | undefined;
  private endedAt: number | undefined;
  threshold = 0;
  /** Set when the Service's endpoints are real containers reachable from here. */
  http: HttpProbe | undefined;

  constructor(
    private readonly tl: Timeline,
    readonly service: string,
  ) {}

  get mechanism(): string {
    return this.http ? httpMechanism(this.http.url, this.http.ratePerSecond, this.http.stream.from) : AVAILABILITY_MECHANISM;
  }

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

  async stop(): Promise<void> {
    this.off?.();
    this.off = undefined;
    this.endedAt ??= now();
    await this.http?.stop();
  }

  /** Figures from the start of the measurement, or from `since` if later ("from now on"), to its end (or now). */
  figures(since?: number): AvailabilityFigures {
    const from = Math.max(this.samples[0]?.at ?? now(), since ?? Number.NEGATIVE_INFINITY);
    const to = this.endedAt ?? now();
    const base = { service: this.service, mechanism: this.mechanism, threshold: this.threshold, samples: [...this.samples], ...seriesFigures(this.samples, from, to, this.threshold) };
    if (!this.http) return base;
    const h = this.http.figures(since);
    return { ...base, availablePercent: h.successPercent, outages: h.outages, outageMs: h.outageMs, longestOutageMs: h.longestOutageMs, http: h };
  }
}

/** Start measuring a Service; figures are recorded when the scenario ends (after its faults are undone). */
export async function measureAvailability(s: Scenario, service: string): Promise<AvailabilityProbe | undefined> {
  const traffic = s.parts.serviceTraffic;
  const by = isRefusal(traffic) ? 'ready endpoints from EndpointSlices' : `HTTP requests through its ClusterIP ${traffic.from}, ${HTTP_PROBE_RATE} req/s, where its pods answer; else ready endpoints from EndpointSlices`;
  return unlessPlanning(s, () => `measure availability of service ${service} (${by})`, () => startMeasuring(s, service));
}

async function startMeasuring(s: Scenario, service: string): Promise<AvailabilityProbe> {
  if (s.state(AVAILABILITY_PROBES).has(service)) throw new BadInputError(`availability of service ${service} is already measured in this scenario`);
  const probe = new AvailabilityProbe(s.timeline, service);
  await probe.start();
  const stream = openTraffic(s, service, AVAILABILITY_TRAFFIC);
  if (!isRefusal(stream)) {
    probe.http = new HttpProbe(stream, AVAILABILITY_TRAFFIC.ratePerSecond);
    // A start that fails stops what it started (a client pod that never answered is deleted).
    await probe.http.start();
  }
  s.state(AVAILABILITY_PROBES).set(service, probe);
  s.timeline.mark('measure availability', `service ${service}: ${probe.threshold} ready endpoint(s) at start (${probe.mechanism})`);
  // Registered before any fault of the scenario, so it runs after their reverts: the whole scenario counts.
  s.onCleanup(`availability of service ${service}`, async () => {
    await probe.stop();
    recordAvailability(s, probe.figures());
  });
  return probe;
}

/**
 * HTTP requests to a Service from wherever the cluster's traffic part sends them (this
 * process where the host routes ClusterIPs, a client pod inside the cluster's network), when
 * the part can and the Service has Ready pods behind it; otherwise why not.
 */
export function openTraffic(s: Scenario, service: string, plan: TrafficPlan): TrafficStream | Refusal {
  const tl = s.timeline;
  const traffic = s.parts.serviceTraffic;
  if (isRefusal(traffic)) return traffic;
  const svc = tl.informer('Service').get(service, tl.namespace) as Service | undefined;
  if (!svc) return { refused: `service ${service} does not exist in namespace ${tl.namespace}` };
  const selector = Object.entries(svc.spec?.selector ?? {}).map(([key, v]) => ({ key, operator: 'In' as const, values: [v] }));
  const pods = tl.pods.list().filter((p: Pod) => p.metadata?.namespace === tl.namespace && matches(p.metadata?.labels, selector) && podReady(p) && !p.metadata?.deletionTimestamp);
  return traffic.open({ kube: s.kube, namespace: s.namespace, pods: tl.pods }, svc, pods, plan);
}

/** Availability probes of this scenario, by Service name. */
export const AVAILABILITY_PROBES = new Slot('availability probes', () => new Map<string, AvailabilityProbe>());

export function availabilityProbe(s: Scenario, service: string): AvailabilityProbe {
  const p = s.state(AVAILABILITY_PROBES).get(service);
  if (!p) throw new BadInputError(`availability of service ${service} is not measured in this scenario (add: Given availability of service "${service}" is measured)`);
  return p;
}

function recordAvailability(s: Scenario, f: AvailabilityFigures): void {
  const detail = { mechanism: f.mechanism, windowMs: Math.round(f.to - f.from), outages: f.outages };
  if (f.http) {
    const h = f.http;
    const http = { ...detail, requests: h.requests, succeeded: h.succeeded, byPod: h.byPod, errors: h.errors };
    s.timeline.measure({ name: `availability of service ${f.service} (HTTP requests that succeeded)`, value: round(f.availablePercent, 3), unit: '%', detail: http });
    s.timeline.measure({ name: `longest outage of service ${f.service} (consecutive failed HTTP requests)`, value: Math.round(f.longestOutageMs), unit: 'ms', detail: { outageTotalMs: Math.round(f.outageMs) } });
    if (h.latencyMs) {
      for (const p of ['p50', 'p90', 'p99'] as const) s.timeline.measure({ name: `HTTP latency ${p} of service ${f.service}`, value: round(h.latencyMs[p], 1), unit: 'ms', detail: { max: round(h.latencyMs.max, 1) } });
    }
  } else {
    s.timeline.measure({ name: `availability of service ${f.service} (time with ≥ 1 ready endpoint)`, value: round(f.availablePercent, 3), unit: '%', detail });
    s.timeline.measure({ name: `longest outage of service ${f.service} (no ready endpoint)`, value: Math.round(f.longestOutageMs), unit: 'ms', detail: { outageTotalMs: Math.round(f.outageMs) } });
  }
  s.timeline.measure({ name: `fewest ready endpoints of service ${f.service}`, value: f.min, unit: 'count', detail: { atStart: f.threshold } });
  s.timeline.measure({ name: `time service ${f.service} had fewer than ${f.threshold} ready endpoints`, value: Math.round(f.belowMs), unit: 'ms' });
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
