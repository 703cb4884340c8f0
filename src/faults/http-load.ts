/**
 * Real CPU load on real containers: HTTP requests to the test app's `/burn?ms=N` (which spins
 * one CPU for N ms) through the workload's Service ClusterIP, sent from this process.
 *
 * Why in-process rather than a load-generator pod: a generator pod would run on the one real
 * node and compete for the very CPU the HPA measures, and would need an image and an undo;
 * requests from here stay on this machine (kube-proxy routes the ClusterIP locally), stop
 * with this process (Ctrl-C, SIGKILL: nothing is left to undo), and are bounded by
 * construction: `cores` × 1000 / BURN_MS requests per second, each a fixed BURN_MS of one CPU,
 * at most MAX_IN_FLIGHT at once (a throttled pod answers late; the generator then skips rather
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
import { getOnce, type HttpResult } from '../probes/http.js';
import { now } from '../kube/informer.js';
import { injectFault } from './fault.js';

/** One request keeps one CPU busy this long in the app. */
export const BURN_MS = 100;
const MAX_IN_FLIGHT = 8;
const MAX_DURATION_MS = 10 * 60_000;

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
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  skipped = 0;
  startedAt = 0;
  stoppedAt: number | undefined;

  constructor(
    readonly workload: WorkloadRef,
    readonly url: string,
    readonly cores: number,
  ) {}

  get ratePerSecond(): number {
    return (this.cores * 1000) / BURN_MS;
  }

  start(): void {
    this.startedAt = now();
    this.timer = setInterval(() => {
      if (now() - this.startedAt > MAX_DURATION_MS) return void this.stop();
      if (this.inFlight.size >= MAX_IN_FLIGHT) {
        this.skipped++;
        return;
      }
      const p = getOnce(this.url, 10_000).then((r) => {
        this.results.push(r);
        this.inFlight.delete(p);
      });
      this.inFlight.add(p);
    }, 1000 / this.ratePerSecond);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stoppedAt ??= now();
    await Promise.all([...this.inFlight]);
  }

  describe(): string {
    const ok = this.results.filter((r) => r.ok).length;
    return `${this.results.length} request(s) to ${this.url} (${ok} succeeded, ${this.skipped} skipped with ${MAX_IN_FLIGHT} in flight)`;
  }
}

/** Offer `cores` of real CPU to a workload whose pods all run on real nodes, through its Service. */
export async function applyHttpLoad(s: Scenario, w: WorkloadRef, cores: number): Promise<HttpLoad> {
  const selector = selectorOf(s.timeline, { workload: w })!;
  const pods = s.timeline.pods.list().filter((p) => p.metadata?.namespace === s.namespace && matches(p.metadata?.labels, selector) && !p.metadata?.deletionTimestamp);
  const svc = serviceOf(s, pods);
  if (!svc?.spec?.clusterIP || svc.spec.clusterIP === 'None') throw new BadInputError(`no Service with a ClusterIP in namespace ${s.namespace} selects the pods of ${describeWorkload(w)}: real load goes through one`);
  const traffic = s.parts.serviceTraffic;
  const base = isRefusal(traffic) ? traffic : traffic.url(svc, pods.filter((p) => podReady(p)));
  if (isRefusal(base)) throw new NotApplicable(`real CPU load on ${describeWorkload(w)} goes through its Service by HTTP: ${base.refused}`);
  const url = `${base.replace(/\/$/, '')}/burn?ms=${BURN_MS}`;
  const load = new HttpLoad(w, url, cores);
  await injectFault(
    s,
    {
      fault: 'apply load',
      target: { kind: w.kind, name: w.name, namespace: s.namespace },
      noUndo: 'the requests stop with the step or with this process',
      detail: `${cores} CPU core(s) of real work: GET ${url} at ${load.ratePerSecond} req/s through service ${svc.metadata?.name} (stops with this process)`,
    },
    async () => {
      // Cleanups run last in, first out: the load stops before anything registered earlier is undone.
      s.onCleanup(`stop the load on ${describeWorkload(w)}`, async () => {
        await load.stop();
        s.timeline.mark('load stopped', `${describeWorkload(w)}: ${load.describe()}`);
      });
      load.start();
    },
  );
  return load;
}
