/**
 * Lower bounds: what must not happen sooner than some time after the fault that causes it.
 * "within D" proves an upper bound; these prove the other side — an HPA that keeps its replicas
 * through its stabilization window, pods that stay on a failed or tainted node until their
 * toleration has passed, any timed expectation that was met no sooner than D after its fault.
 * Judged from the timeline's watch events: what already happened is read from the record, and
 * a bound still running is held on watch events until it has passed.
 */
import type { Scenario } from '../scenario/scenario.js';
import { Slot } from '../scenario/slot.js';
import { BadInputError } from '../errors.js';
import { formatDuration } from '../log.js';
import { now } from '../kube/informer.js';
import { holds, ConditionBroken, type ConditionSource } from '../wait/until.js';
import type { ActionEntry, WatchEntry } from '../timeline/timeline.js';
import type { Pod } from '../kube/types.js';

type Toleration = NonNullable<NonNullable<Pod['spec']>['tolerations']>[number];
import { nodeDownOf } from '../faults/node-down.js';
import { scaleDownWindow } from '../report/figures.js';

/** The last "within D …" of the scenario: what it waited for, when it was met, and the fault it was measured from. */
export interface MetExpectation {
  description: string;
  at: number;
  /** It already held when the step began: the moment it became true is not known. */
  alreadyTrue: boolean;
  fault?: { action: string; at: number };
}

export const LAST_MET = new Slot('last met expectation', (): { last?: MetExpectation } => ({}));

/** "…and it happened no sooner than D after the fault": the last timed expectation was met at least `minMs` after its fault. */
export function expectMetNoSooner(s: Scenario, minMs: number): void {
  const met = s.state(LAST_MET).last;
  if (!met) throw new BadInputError('no "within …" expectation was met earlier in this scenario');
  if (!met.fault) throw new BadInputError(`"${met.description}" was not preceded by a fault, so there is nothing to measure "sooner" from`);
  const after = met.at - met.fault.at;
  s.timeline.measure({ name: `${met.description} — no sooner than ${formatDuration(minMs)} after "${met.fault.action}"`, value: Math.round(after), unit: 'ms' });
  if (met.alreadyTrue) throw new Error(`"${met.description}" already held when its step began, ${formatDuration(after)} after "${met.fault.action}": when it became true is not known, so "no sooner than ${formatDuration(minMs)}" cannot be shown`);
  if (after < minMs) throw new Error(`"${met.description}" happened ${formatDuration(after)} after "${met.fault.action}", sooner than ${formatDuration(minMs)}`);
}

/**
 * Nothing `early` finds in the watch entries since `from` happens before `from + ms`: judged from
 * the record for what is past, and held on `sources` until the bound has passed.
 */
async function notBefore(opts: { sources: ConditionSource[]; from: number; untilAt: number; description: string; early: (since: number) => { entry: WatchEntry; why: string } | undefined; s: Scenario }): Promise<void> {
  const { s } = opts;
  const broken = () => {
    const hit = opts.early(opts.from);
    return hit && hit.entry.at < opts.untilAt ? hit : undefined;
  };
  const fail = (hit: { entry: WatchEntry; why: string }) => new Error(`${opts.description}: ${hit.why} ${formatDuration(hit.entry.at - opts.from)} after the fault, before ${formatDuration(opts.untilAt - opts.from)} had passed`);
  const past = broken();
  if (past) throw fail(past);
  const remaining = opts.untilAt - now();
  if (remaining <= 0) return;
  try {
    await holds({ description: opts.description, sources: opts.sources, evaluate: () => ({ ok: broken() === undefined, observed: broken()?.why ?? 'not yet' }) }, { forMs: remaining });
  } catch (err) {
    if (!(err instanceof ConditionBroken)) throw err;
    const hit = broken();
    throw hit ? fail(hit) : err;
  }
  s.timeline.mark('held', `${opts.description} (${formatDuration(opts.untilAt - opts.from)} after the fault)`);
}

/** HPA `hpa` does not lower its target's replicas before its scale-down stabilization window has passed since the load was removed. */
export async function expectNoScaleDownBeforeWindow(s: Scenario, hpa: string): Promise<void> {
  const tl = s.timeline;
  const h = tl.hpas.get(hpa, s.namespace);
  if (!h) throw new Error(`HorizontalPodAutoscaler ${hpa} does not exist in namespace ${s.namespace}`);
  const ref = h.spec?.scaleTargetRef;
  if (!ref || !tl.watches(ref.kind)) throw new Error(`HorizontalPodAutoscaler ${hpa} scales ${ref?.kind ?? '?'}/${ref?.name ?? '?'}, which kubeproof does not watch`);
  const removed = tl.lastAction('remove load');
  if (!removed) throw new BadInputError('no load was removed in this scenario: the scale-down window runs from the removal');
  const window = scaleDownWindow(h, s.cluster.timings);
  const replicas = (e: WatchEntry) => (e.kind === ref.kind && e.name === ref.name && e.type !== 'deleted' ? e.figures?.replicas : undefined);
  const early = (since: number) => {
    let last: number | undefined;
    for (const e of tl.watchEntries(ref.kind)) {
      const n = replicas(e);
      if (n === undefined) continue;
      if (e.at >= since && last !== undefined && n < last) return { entry: e, why: `${ref.kind.toLowerCase()} ${ref.name} went from ${last} to ${n} replicas` };
      last = n;
    }
    return undefined;
  };
  await notBefore({
    s,
    sources: [tl.informer(ref.kind), tl.hpas],
    from: removed.at,
    untilAt: removed.at + window.seconds * 1000,
    description: `HPA ${hpa} does not scale down within its ${window.seconds} s stabilization window (${window.source === 'hpa-behavior' ? "the HPA's behavior.scaleDown" : "the controller-manager's default"}) after the load was removed`,
    early,
  });
}

/** The fault that makes a node's pods go: the node taken down, or the last taint of it (whichever came last). */
function nodeFault(s: Scenario, node: string): { at: number; tolerationOf: (p: Pod | undefined) => number | undefined | 'unknown'; what: string } {
  const down = nodeDownOf(s, node);
  const taint = [...s.timeline.entries].reverse().find((e): e is ActionEntry => e.source === 'harness' && e.action === 'taint node' && e.detail.startsWith(`Node/${node}:`));
  if (taint && (!down || taint.at > down.at)) {
    const m = taint.detail.slice(`Node/${node}: `.length).match(/^([\w./-]+)(?:=([\w.-]*))?:(NoSchedule|PreferNoSchedule|NoExecute)/);
    if (!m) throw new Error(`cannot read the taint of node ${node} from "${taint.detail}"`);
    const [, key, value, effect] = m;
    if (effect !== 'NoExecute') throw new BadInputError(`the last taint of node ${node} is ${effect}: only NoExecute evicts`);
    return { at: taint.at, what: `the taint ${key}${value ? `=${value}` : ''}:NoExecute`, tolerationOf: (p) => (p ? tolerationSeconds(p.spec?.tolerations, key!, value ?? '', 'NoExecute') : 'unknown') };
  }
  if (down) {
    const key = down.silent ? 'node.kubernetes.io/unreachable' : 'node.kubernetes.io/not-ready';
    // Admission gives every pod a toleration of this taint (DefaultTolerationSeconds) unless it has its own.
    const admitted = down.silent ? s.cluster.timings.defaultUnreachableTolerationSeconds : s.cluster.timings.defaultNotReadyTolerationSeconds;
    return { at: down.at, what: `node ${node} going down (${key})`, tolerationOf: (p) => (p ? tolerationSeconds(p.spec?.tolerations, key, '', 'NoExecute') : admitted) };
  }
  throw new BadInputError(`node ${node} was neither tainted NoExecute nor taken down in this scenario`);
}

/** Seconds a pod tolerates a taint: 0 without a matching toleration, undefined for ever. */
export function tolerationSeconds(tolerations: Toleration[] | undefined, key: string, value: string, effect: string): number | undefined {
  const t = (tolerations ?? []).find((t) => (!t.effect || t.effect === effect) && (t.operator === 'Exists' ? !t.key || t.key === key : t.key === key && (t.value ?? '') === value));
  if (!t) return 0;
  return t.tolerationSeconds ?? undefined;
}

/**
 * The pods of the scenario on node N when the fault came are not evicted before their
 * toleration of it has passed (each its own: tolerationSeconds, the admission default for a node
 * failure); measured from the fault — the taint, or the node going down.
 */
export async function expectNotEvictedBeforeToleration(s: Scenario, node: string): Promise<void> {
  const tl = s.timeline;
  const fault = nodeFault(s, node);
  // The pods on the node at the fault, with their deadlines (a pod's last entry before the fault says where it was).
  const where = new Map<string, WatchEntry>();
  for (const e of tl.watchEntries('Pod')) if (e.at <= fault.at) where.set(e.name, e);
  const victims = [...where.values()].filter((e) => e.node === node && e.type !== 'deleted' && !e.state.startsWith('Terminating'));
  if (victims.length === 0) throw new Error(`no pod of this scenario was on node ${node} when ${fault.what} came`);
  // A pod already gone is read from a live pod of the same template (same labels), else from what admission gives.
  const sameTemplate = (v: WatchEntry) => tl.pods.get(v.name, s.namespace) ?? tl.pods.list().find((p) => JSON.stringify(p.metadata?.labels ?? {}) === JSON.stringify(v.labels ?? {}));
  const deadlines = new Map<string, number | undefined>();
  const unknown: string[] = [];
  for (const v of victims) {
    const sec = fault.tolerationOf(sameTemplate(v));
    if (sec === 'unknown') unknown.push(v.name);
    else deadlines.set(v.name, sec);
  }
  if (deadlines.size === 0) throw new Error(`the tolerations of ${unknown.join(', ')} are not known any more (gone, and no pod of the same template is left): put this step right after the fault`);
  const finite = [...deadlines.values()].filter((d): d is number => d !== undefined);
  const longest = finite.length ? Math.max(...finite) : 0;
  const early = (since: number) => {
    for (const e of tl.watchEntries('Pod', since)) {
      if (!deadlines.has(e.name) || !(e.type === 'deleted' || e.state.startsWith('Terminating'))) continue;
      const sec = deadlines.get(e.name);
      if (sec === undefined || e.at < since + sec * 1000) return { entry: e, why: `${e.name} (tolerates ${sec === undefined ? 'for ever' : `${sec} s`}) was evicted` };
    }
    return undefined;
  };
  const described = [...[...deadlines].map(([p, d]) => `${p}: ${d === undefined ? 'for ever' : `${d} s`}`), ...unknown.map((p) => `${p}: not known, not judged`)].join(', ');
  await notBefore({ s, sources: [tl.pods], from: fault.at, untilAt: fault.at + longest * 1000, description: `the pods of node ${node} stay until their toleration of ${fault.what} has passed (${described})`, early });
}
