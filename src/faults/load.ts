/**
 * Load offered to a workload, as CPU cores spread over its Ready pods — like traffic that a
 * Service balances over its ready endpoints, so when the HPA adds pods each one's share (and
 * the utilisation it reports) falls.
 *
 * Local cluster: no container runs, so CPU use is KWOK's, read from the pod annotation
 * kwok.x-k8s.io/usage-cpu (kwok's usage-from-annotation ResourceUsage, loaded by
 * src/cluster/local.ts) and served by metrics-server. The running pods are annotated, never
 * the template (that would roll the Deployment out). A pod watch keeps the spread current as
 * pods come, go, or change readiness. The undo — in the ledger before the first pod is
 * touched — puts every loaded pod back to the template's idle value (absent: kwok's default).
 *
 * Pods that all run on a local cluster's real nodes get real CPU load instead: HTTP requests
 * to the test app's /burn through their Service (http-load.ts).
 */
import type { Scenario } from '../scenario/scenario.js';
import { Slot } from '../scenario/slot.js';
import { BadInputError } from '../errors.js';
import { NotApplicable } from '../not-applicable.js';
import { isNotFound } from '../kube/errors.js';
import type { Change } from '../kube/informer.js';
import type { Pod } from '../kube/types.js';
import type { UndoOutcome } from '../ledger/undo-ops.js';
import { podReady } from '../timeline/timeline.js';
import { describeWorkload, selectorOf, workloadObject, type WorkloadRef } from '../workload/pods.js';
import { formatSelector, matches, type Requirement } from '../workload/selector.js';
import { injectFault, planThenAct } from './fault.js';
import { applyHttpLoad, type HttpLoad } from './http-load.js';

/** Read by kwok's usage-from-annotation ResourceUsage. */
export const USAGE_CPU_ANNOTATION = 'kwok.x-k8s.io/usage-cpu';
/** What kubeproof last wrote into USAGE_CPU_ANNOTATION on a pod: the undo leaves a pod alone if it now says something else. */
export const LOAD_WRITTEN_ANNOTATION = 'kubeproof.io/load-cpu';

/** Split `millicores` over the pods (sorted by name), the remainder one millicore each to the first. */
export function spreadLoad(millicores: number, pods: string[]): Map<string, string> {
  const sorted = [...pods].sort();
  const out = new Map<string, string>();
  if (sorted.length === 0) return out;
  const share = Math.floor(millicores / sorted.length);
  const rest = millicores - share * sorted.length;
  sorted.forEach((p, i) => out.set(p, `${share + (i < rest ? 1 : 0)}m`));
  return out;
}

export function parseCores(text: string): number {
  const cores = Number(text);
  if (!Number.isFinite(cores) || cores <= 0 || cores > 1000) throw new BadInputError(`"${text}" is not a number of CPU cores (e.g. 0.4 or 2)`);
  return cores;
}

export class LoadDriver {
  /** Pods this driver wrote to, with the resourceVersion of its last write. */
  private readonly written = new Map<string, bigint>();
  private off: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private lastSpread = '';
  /** Set when the undo ran elsewhere (Ctrl-C, `kubeproof clean`): the driver stops writing. */
  revertedElsewhere = false;
  lastError: string | undefined;
  /** Undo now through the ledger record: the pods back to idle. */
  revert: (() => Promise<UndoOutcome>) | undefined;

  constructor(
    private readonly s: Scenario,
    readonly workload: WorkloadRef,
    readonly millicores: number,
    readonly idle: string | null,
    private readonly selector: Requirement[],
    /** The fault's annotation (fault.kubeproof.io/<id> → run id), written with every load value. */
    private readonly marker: Record<string, string>,
  ) {}

  /** Start watching and resolve once the first spread is written. */
  async start(): Promise<void> {
    this.off = this.s.timeline.pods.on((c) => this.onPod(c));
    this.kick();
    await this.running;
  }

  /** Stop writing; resolves when no write is in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    this.off = undefined;
    await this.running;
  }

  private mine(p: Pod | undefined): boolean {
    return Boolean(p && p.metadata?.namespace === this.s.namespace && matches(p.metadata?.labels, this.selector));
  }

  private onPod(c: Change<Pod>): void {
    if (this.stopped || !this.mine(c.object)) return;
    const name = c.object.metadata!.name!;
    const wroteAt = this.written.get(name);
    const rv = c.object.metadata?.resourceVersion;
    const markerKey = Object.keys(this.marker)[0]!;
    // Our marker gone from a pod after our last write to it: the ledger's undo ran in another hand.
    if (wroteAt !== undefined && c.type !== 'deleted' && rv && /^\d+$/.test(rv) && BigInt(rv) > wroteAt && !c.object.metadata?.annotations?.[markerKey]) {
      this.revertedElsewhere = true;
      this.stopped = true;
      this.off?.();
      this.s.timeline.mark('load stopped', `${describeWorkload(this.workload)}: its undo ran elsewhere (pod ${name} was put back to idle)`);
      return;
    }
    this.kick();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.reconcile();
      } catch (err) {
        this.lastError = (err as Error).message;
        this.s.timeline.mark('load error', `${describeWorkload(this.workload)}: ${this.lastError}`);
      }
    } while (this.again && !this.stopped);
  }

  /** Write each pod's share: Ready pods split the load; pods not Ready (starting, broken) are idle. */
  private async reconcile(): Promise<void> {
    const tl = this.s.timeline;
    // Pods on real nodes (a local cluster with a real node) use real CPU: they get no share.
    const real = this.s.cluster.capabilities.realNodes;
    const pods = tl.pods.list().filter((p) => this.mine(p) && !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && !real.includes(p.spec?.nodeName ?? ''));
    const ready = pods.filter((p) => podReady(p)).map((p) => p.metadata!.name!);
    const spread = spreadLoad(this.millicores, ready);
    const summary = `${this.millicores}m over ${ready.length} Ready pod(s)${ready.length ? `: ${[...new Set(spread.values())].join('/')} each` : ' (none Ready: offered to nobody)'}`;
    if (summary !== this.lastSpread) {
      this.lastSpread = summary;
      tl.mark('load spread', `${describeWorkload(this.workload)}: ${summary}`);
    }
    for (const p of pods) {
      if (this.stopped) return;
      const name = p.metadata!.name!;
      // kwok applies the annotation to each container of the pod: split the pod's share between them.
      const share = spread.get(name);
      const containers = Math.max(1, p.spec?.containers?.length ?? 1);
      const want = share !== undefined ? `${Math.round(parseInt(share, 10) / containers)}m` : this.written.has(name) ? this.idle : undefined;
      if (want === undefined) continue; // never loaded and not Ready: leave it as its template made it
      const ann = p.metadata?.annotations ?? {};
      if ((ann[USAGE_CPU_ANNOTATION] ?? null) === want && ann[LOAD_WRITTEN_ANNOTATION] === (want ?? '') && this.written.has(name)) continue;
      try {
        const out = await this.s.kube.mergePatch('Pod', name, this.s.namespace, {
          metadata: { annotations: { [USAGE_CPU_ANNOTATION]: want, [LOAD_WRITTEN_ANNOTATION]: want ?? '', ...this.marker } },
        });
        const rv = out.metadata?.resourceVersion;
        this.written.set(name, rv && /^\d+$/.test(rv) ? BigInt(rv) : 0n);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}

/** Load offered to workloads in this scenario, by workload ("deployment shop"). */
export const LOADS = new Slot('loads', () => new Map<string, LoadDriver | HttpLoad>());

function loadKey(w: WorkloadRef): string {
  return describeWorkload(w);
}

/** The template's usage annotation: what the pods use when nobody loads them (null: kwok's default). */
function idleOf(s: Scenario, w: WorkloadRef): string | null {
  const obj = workloadObject(s.timeline, w) as { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } } | undefined;
  if (!obj) throw new BadInputError(`${describeWorkload(w)} does not exist in namespace ${s.namespace}`);
  return obj.spec?.template?.metadata?.annotations?.[USAGE_CPU_ANNOTATION] ?? null;
}

/** Offer `cores` CPU cores to a workload until removed or the scenario ends (in plan mode: print, change nothing). */
export async function applyLoad(s: Scenario, w: WorkloadRef, cores: number): Promise<void> {
  const millicores = Math.round(parseCores(String(cores)) * 1000);
  const onRealNodes = () => s.timeline.pods.list().some((p) => p.metadata?.namespace === s.namespace && s.cluster.capabilities.realNodes.includes(p.spec?.nodeName ?? '') && p.metadata?.labels && matches(p.metadata.labels, selectorOf(s.timeline, { workload: w }) ?? []));
  const planned = await planThenAct(s, cores, () => `offer ${cores} CPU core(s) to ${describeWorkload(w)}, ${onRealNodes() ? 'as real work: HTTP GET /burn through its Service' : `spread over its Ready pods (${USAGE_CPU_ANNOTATION})`}, until removed`, async () => true);
  if (!planned) return;
  if (s.state(LOADS).has(loadKey(w))) throw new BadInputError(`${describeWorkload(w)} is already under load in this scenario`);
  const selector = selectorOf(s.timeline, { workload: w });
  if (!selector?.length) throw new BadInputError(`${describeWorkload(w)} does not exist in namespace ${s.namespace} or selects no pods`);
  const real = s.cluster.capabilities.realNodes;
  const pods = s.timeline.pods.list().filter((p) => p.metadata?.namespace === s.namespace && matches(p.metadata?.labels, selector) && !p.metadata?.deletionTimestamp);
  const onReal = pods.filter((p) => real.includes(p.spec?.nodeName ?? ''));
  // Pods on real nodes use real CPU, which an annotation does not change: real work through their Service.
  if (onReal.length && onReal.length === pods.length) {
    s.state(LOADS).set(loadKey(w), await applyHttpLoad(s, w, cores));
    return;
  }
  if (onReal.length) throw new NotApplicable(`load on ${describeWorkload(w)} mixes pods with real containers (${onReal.map((p) => `${p.metadata?.name} on ${p.spec?.nodeName}`).join(', ')}) and simulated ones: schedule it on one kind of node`);
  if (s.cluster.capabilities.metricsSource !== 'kwok-annotation') {
    throw new NotApplicable(`load needs simulated CPU usage (metrics source kwok-annotation) or the test app on real nodes whose Service this machine reaches; this cluster's metrics come from "${s.cluster.capabilities.metricsSource}"`);
  }
  const idle = idleOf(s, w);
  await injectFault(
    s,
    {
      fault: 'apply load',
      target: { kind: w.kind, name: w.name, namespace: s.namespace },
      undo: { op: 'idle-usage', annotation: USAGE_CPU_ANNOTATION, written: LOAD_WRITTEN_ANNOTATION, idle, selector: formatSelector(selector) },
      detail: `${cores} CPU core(s) spread over the Ready pods (${USAGE_CPU_ANNOTATION}; idle ${idle ?? "kwok's default"})`,
    },
    async (injected) => {
      const driver = new LoadDriver(s, w, millicores, idle, selector, injected.annotations);
      driver.revert = injected.revert;
      s.state(LOADS).set(loadKey(w), driver);
      // Cleanups run last-in first-out: registered after the fault's revert, this stops the driver before that revert runs.
      s.onCleanup(`stop the load on ${describeWorkload(w)}`, () => driver.stop());
      await driver.start();
    },
  );
}

/** Remove the load now: stop the driver, then undo through the ledger (the pods go back to idle). */
export async function removeLoad(s: Scenario, w: WorkloadRef): Promise<void> {
  if (!(await planThenAct(s, w, () => `remove the load on ${describeWorkload(w)}`, async () => true))) return;
  const driver = s.state(LOADS).get(loadKey(w));
  if (!driver) throw new BadInputError(`no load was applied to ${describeWorkload(w)} in this scenario`);
  if (!(driver instanceof LoadDriver)) {
    await driver.stop();
    s.timeline.mark('remove load', `${describeWorkload(w)}: stopped, ${driver.describe()}`);
    return;
  }
  await driver.stop();
  s.timeline.mark('remove load', `${describeWorkload(w)}: pods back to ${driver.idle ?? "kwok's default usage"}`);
  const outcome = await driver.revert?.();
  if (outcome?.status === 'conflict') throw new Error(`could not remove the load on ${describeWorkload(w)}: ${outcome.detail}`);
}
