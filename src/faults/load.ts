/**
 * Load offered to a workload, as CPU cores spread over its Ready pods — like traffic that a
 * Service balances over its ready endpoints, so when the HPA adds pods each one's share (and
 * the utilisation it reports) falls.
 *
 * How the load reaches the pods is the cluster's choice (`parts.load`): simulated pods (KWOK,
 * the local cluster) use the CPU their annotation kwok.x-k8s.io/usage-cpu says (kwok's
 * usage-from-annotation ResourceUsage, loaded by src/cluster/providers/local.ts, served by
 * metrics-server). The running pods are annotated, never the template (that would roll the
 * Deployment out). A pod watch keeps the spread current as pods come, go, or change
 * readiness. The mechanism's undo — in the ledger before the first pod is touched — puts every
 * loaded pod back to the template's idle value (absent: kwok's default).
 *
 * Pods with real containers (a real node, kind) get real CPU load instead: HTTP requests to the
 * test app's /burn through their Service (http-load.ts).
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
import { injectFault, markChange, unlessPlanning } from './fault.js';
import { isRefusal, type LoadMechanism } from '../cluster/providers/provider.js';
import { applyHttpLoad, type HttpLoad } from './http-load.js';

export { LOAD_WRITTEN_ANNOTATION, USAGE_CPU_ANNOTATION } from '../cluster/usage.js';

type UsageMechanism = Extract<LoadMechanism, { via: 'usage-annotation' }>;

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
    private readonly how: UsageMechanism,
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
    const pods = tl.pods.list().filter((p) => this.mine(p) && !p.metadata?.deletionTimestamp && p.status?.phase === 'Running');
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
      const { annotation, written } = this.how;
      if ((ann[annotation] ?? null) === want && ann[written] === (want ?? '') && this.written.has(name)) continue;
      try {
        const out = await this.s.kube.mergePatch('Pod', name, this.s.namespace, {
          metadata: { annotations: { [annotation]: want, [written]: want ?? '', ...this.marker } },
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
function idleOf(s: Scenario, w: WorkloadRef, annotation: string): string | null {
  const obj = workloadObject(s.timeline, w) as { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } } | undefined;
  if (!obj) throw new BadInputError(`${describeWorkload(w)} does not exist in namespace ${s.namespace}`);
  return obj.spec?.template?.metadata?.annotations?.[annotation] ?? null;
}

/** The workload's pods (not terminating) and how the cluster loads them; NotApplicable with the cluster's reason. */
function loadMechanism(s: Scenario, w: WorkloadRef, selector: Requirement[]): LoadMechanism {
  const pods = s.timeline.pods.list().filter((p) => p.metadata?.namespace === s.namespace && matches(p.metadata?.labels, selector) && !p.metadata?.deletionTimestamp);
  const m = s.parts.load.mechanism(pods);
  if (isRefusal(m)) throw new NotApplicable(`load on ${describeWorkload(w)}: ${m.refused}`);
  return m;
}

/** Offer `cores` CPU cores to a workload until removed or the scenario ends (in plan mode: print, change nothing). */
export async function applyLoad(s: Scenario, w: WorkloadRef, cores: number): Promise<void> {
  const millicores = Math.round(parseCores(String(cores)) * 1000);
  const selector = selectorOf(s.timeline, { workload: w });
  const plan = () => {
    const m = selector?.length ? s.parts.load.mechanism(s.timeline.pods.list().filter((p) => p.metadata?.namespace === s.namespace && matches(p.metadata?.labels, selector) && !p.metadata?.deletionTimestamp)) : undefined;
    return `offer ${cores} CPU core(s) to ${describeWorkload(w)}, ${m === undefined ? 'which selects no pods' : isRefusal(m) ? `which is not applicable: ${m.refused}` : m.how}, until removed`;
  };
  await injectFault(s, cores, plan, async (_, inject) => {
    if (s.state(LOADS).has(loadKey(w))) throw new BadInputError(`${describeWorkload(w)} is already under load in this scenario`);
    if (!selector?.length) throw new BadInputError(`${describeWorkload(w)} does not exist in namespace ${s.namespace} or selects no pods`);
    const how = loadMechanism(s, w, selector);
    // Real containers use real CPU, which an annotation does not change: real work through their Service.
    if (how.via === 'service-http') {
      s.state(LOADS).set(loadKey(w), await applyHttpLoad(s, w, cores, inject));
      return;
    }
    const idle = idleOf(s, w, how.annotation);
    await inject(
      {
        fault: 'apply load',
        target: { kind: w.kind, name: w.name, namespace: s.namespace },
        undo: how.undo(idle, formatSelector(selector)),
        detail: `${cores} CPU core(s) spread over the Ready pods (${how.annotation}; idle ${idle ?? "kwok's default"})`,
      },
      async (injected) => {
        const driver = new LoadDriver(s, how, w, millicores, idle, selector, injected.annotations);
        driver.revert = injected.revert;
        s.state(LOADS).set(loadKey(w), driver);
        // Cleanups run last-in first-out: registered after the fault's revert, this stops the driver before that revert runs.
        s.onCleanup(`stop the load on ${describeWorkload(w)}`, () => driver.stop());
        await driver.start();
      },
    );
  });
}

/** Remove the load now: stop the driver, then undo through the ledger (the pods go back to idle). */
export async function removeLoad(s: Scenario, w: WorkloadRef): Promise<void> {
  await unlessPlanning(s, () => `remove the load on ${describeWorkload(w)}`, async () => {
    const driver = s.state(LOADS).get(loadKey(w));
    if (!driver) throw new BadInputError(`no load was applied to ${describeWorkload(w)} in this scenario`);
    if (!(driver instanceof LoadDriver)) {
      await driver.stop();
      markChange(s, 'remove load', `${describeWorkload(w)}: stopped, ${driver.describe()}`);
      return;
    }
    await driver.stop();
    markChange(s, 'remove load', `${describeWorkload(w)}: pods back to ${driver.idle ?? "kwok's default usage"}`);
    const outcome = await driver.revert?.();
    if (outcome?.status === 'conflict') throw new Error(`could not remove the load on ${describeWorkload(w)}: ${outcome.detail}`);
  });
}
