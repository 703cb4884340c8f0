/**
 * Real CPU load on real containers: HTTP requests to the test app's `/burn?ms=N` (which spins
 * one CPU for N ms) through the workload's Service ClusterIP, sent by the cluster's traffic
 * part — the same part, and the same figures, as availability measured by HTTP.
 *
 * Who sends: on a local cluster's real node, this process (kube-proxy routes the ClusterIP on
 * this machine; a generator pod would run on the one real node and compete for the very CPU
 * the HPA measures); the requests stop with this process (Ctrl-C, SIGKILL: nothing is left to
 * undo). On kind, where the host cannot reach ClusterIPs, a client pod on the control-plane
 * node (traffic/client-pod.ts): not on a worker whose pods the HPA measures, gone with the
 * scenario's namespace, and stopping by itself after MAX_DURATION_MS. Bounded by construction
 * either way: `cores` × 1000 / BURN_MS requests per second, each a fixed BURN_MS of one CPU,
 * at most MAX_IN_FLIGHT at once (a throttled pod answers late; the sender then skips rather
 * than piling up), for at most MAX_DURATION_MS. Going through the Service, with a new
 * connection per request, spreads the load over the Ready pods as the HPA adds them, as a
 * Service spreads real clients.
 */
import { isRefusal } from '../cluster/providers/provider.js';
import { NotApplicable } from '../not-applicable.js';
import { podReady } from '../timeline/timeline.js';
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';
import type { Pod, Service } from '../kube/types.js';
import { matches } from '../workload/selector.js';
import { describeWorkload, selectorOf, type WorkloadRef } from '../workload/pods.js';
import type { HttpResult, TrafficPlan, TrafficStream } from '../traffic/stream.js';
import type { Inject } from './fault.js';

/** One request keeps one CPU busy this long in the app. */
export const BURN_MS = 100;
const MAX_IN_FLIGHT = 8;
const MAX_DURATION_MS = 10 * 60_000;

/** The load's requests for `cores`: each /burn answers after BURN_MS of CPU, or late when the pod is throttled. */
export function loadPlan(cores: number): TrafficPlan {
  return { path: `/burn?ms=${BURN_MS}`, ratePerSecond: (cores * 1000) / BURN_MS, timeoutMs: 10_000, maxInFlight: MAX_IN_FLIGHT, maxDurationMs: MAX_DURATION_MS, purpose: 'load' };
}

/** The Service in the scenario's namespace that selects the workload's pods. */
export function serviceOf(s: Scenario, pods: Pod[]): Service | undefined {
  const services = s.timeline.informer('Service').list() as Service[];
  return services.find((svc) => {
    const sel = Object.entries(svc.spec?.selector ?? {}).map(([key, v]) => ({ key, operator: 'In' as const, values: [v] }));
    return svc.metadata?.namespace === s.namespace && sel.length > 0 && pods.every((p) => matches(p.metadata?.labels, sel));
  });
}

export class HttpLoad {
  readonly results: HttpResult[] = [];
  private off: (() => void) | undefined;
  startedAt = 0;

  constructor(
    readonly workload: WorkloadRef,
    readonly stream: TrafficStream,
    readonly cores: number,
  ) {}

  get url(): string {
    return this.stream.url;
  }

  get ratePerSecond(): number {
    return loadPlan(this.cores).ratePerSecond;
  }

  get skipped(): number {
    return this.stream.skipped;
  }

  /** Resolves once the sender sends (a client pod takes a few seconds to start). */
  async start(withinMs = 60_000): Promise<void> {
    this.off = this.stream.on((r) => this.results.push(r));
    await this.stream.start(withinMs);
    this.startedAt = this.results[0]?.at ?? Date.now();
  }

  async stop(): Promise<void> {
    await this.stream.stop();
    this.off?.();
  }

  describe(): string {
    const ok = this.results.filter((r) => r.ok).length;
    return `${this.results.length} request(s) to ${this.url} ${this.stream.from} (${ok} succeeded, ${this.skipped} skipped with ${MAX_IN_FLIGHT} in flight${this.stream.trouble ? `; ${this.stream.trouble}` : ''})`;
  }
}

/** Offer `cores` of real CPU to a workload whose pods all run on real nodes, through its Service. */
export async function applyHttpLoad(s: Scenario, w: WorkloadRef, cores: number, inject: Inject): Promise<HttpLoad> {
  const selector = selectorOf(s.timeline, { workload: w })!;
  const pods = s.timeline.pods.list().filter((p) => p.metadata?.namespace === s.namespace && matches(p.metadata?.labels, selector) && !p.metadata?.deletionTimestamp);
  const svc = serviceOf(s, pods);
  if (!svc?.spec?.clusterIP || svc.spec.clusterIP === 'None') throw new BadInputError(`no Service with a ClusterIP in namespace ${s.namespace} selects the pods of ${describeWorkload(w)}: real load goes through one`);
  const traffic = s.parts.serviceTraffic;
  const plan = loadPlan(cores);
  const stream = isRefusal(traffic) ? traffic : traffic.open({ kube: s.kube, namespace: s.namespace, pods: s.timeline.pods }, svc, pods.filter((p) => podReady(p)), plan);
  if (isRefusal(traffic) || isRefusal(stream)) throw new NotApplicable(`real CPU load on ${describeWorkload(w)} goes through its Service by HTTP: ${(isRefusal(traffic) ? traffic : (stream as { refused: string })).refused}`);
  const url = stream.url;
  const load = new HttpLoad(w, stream, cores);
  await inject(
    {
      fault: 'apply load',
      target: { kind: w.kind, name: w.name, namespace: s.namespace },
      noUndo: 'the requests stop with the step; their sender with this process (in-process) or with the scenario\'s namespace (a client pod, which also stops by itself)',
      detail: `${cores} CPU core(s) of real work: GET ${url} at ${load.ratePerSecond} req/s through service ${svc.metadata?.name}, ${traffic.from}`,
    },
    async () => {
      // Cleanups run last in, first out: the load stops before anything registered earlier is undone.
      s.onCleanup(`stop the load on ${describeWorkload(w)}`, async () => {
        await load.stop();
        s.timeline.mark('load stopped', `${describeWorkload(w)}: ${load.describe()}`);
      });
      await load.start();
      s.timeline.mark('load sending', `${describeWorkload(w)}: GET ${url} ${stream.from}`);
    },
  );
  return load;
}
