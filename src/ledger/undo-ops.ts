/**
 * How each recorded fault is undone: a table from an undo op's name to its handler. The
 * generic ops (a node's cordon, taints, labels and fields, pods' usage, an exec, a command)
 * are registered here; a mechanism that makes an op of its own (a provider's kubelet stop)
 * registers its handler where it is made, so this folder imports no provider. An undo
 * restores what was there before and only that: every write carries the resourceVersion it
 * was decided on (a conflicting write by someone else makes it re-read and decide again), and
 * a target that someone else changed in the meantime is reported as a conflict, not
 * overwritten.
 */
import { heartbeatRenewed } from './heartbeat.js';
import type { Kube } from '../kube/client.js';
import { isConflict, isNotFound } from '../kube/errors.js';
import type { Node, Pod, Taint } from '../kube/types.js';
import { FAULT_ANNOTATION_PREFIX, type UndoRecord } from './record.js';

/**
 * The undo ops and their arguments. A module that registers an op of its own adds it here by
 * declaration merging (`declare module '…/ledger/undo-ops.js' { interface UndoOps { … } }`).
 */
export interface UndoOps {
  /** The fault cordoned a node that was schedulable. */
  uncordon: Record<never, never>;
  /** The fault added this taint (it was not there before). */
  'remove-taint': { taint: Taint };
  /** The fault changed a label from `before` to `after` (null: absent). */
  'restore-label': { key: string; before: string | null; after: string | null };
  /**
   * The fault merge-patched fields of the target: `before` holds each touched leaf as it was
   * (null: absent), `after` as the fault wrote it, both as nested objects in merge-patch shape.
   */
  'restore-fields': { before: Record<string, unknown>; after: Record<string, unknown> };
  /** The fault ran a command in a pod's container (e.g. `/testapp ready off`); this one undoes it (`/testapp ready on`). */
  exec: { container: string; command: string[] };
  /** The fault stopped a machine by running a command; this starts it again (env: e.g. KUBEPROOF_NODE). */
  /** `alreadyIf`: a regexp; a failed command whose output matches it found nothing to undo (e.g. "is not paused": the stop never landed). */
  run: { command: string[]; env?: Record<string, string>; alreadyIf?: string };
  /**
   * The fault wrote usage `annotation` on the pods (of the target workload) matching `selector`,
   * noting each value in `written`: put each such pod back to `idle` (null: no annotation).
   */
  'idle-usage': { annotation: string; written: string; idle: string | null; selector: string };
}

export type UndoOp = keyof UndoOps;
export type UndoAction = { [K in UndoOp]: { op: K } & UndoOps[K] }[UndoOp];
export type UndoOf<K extends UndoOp> = Extract<UndoAction, { op: K }>;

export interface UndoOutcome {
  /** reverted: undone now; already: nothing left to undo; conflict: changed by someone else, left alone; failed: could not. */
  status: 'reverted' | 'already' | 'conflict' | 'failed';
  detail: string;
}

const MAX_ATTEMPTS = 5;

function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect && (a.value ?? '') === (b.value ?? '');
}

export function describeTaint(t: Taint): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}

/** Decide on the current object, write with its resourceVersion, decide again if someone wrote in between. */
async function onCurrent(kube: Kube, rec: UndoRecord, decide: (obj: Node) => { outcome: UndoOutcome; patch?: object }): Promise<UndoOutcome> {
  const { kind, name, namespace } = rec.target;
  const annotation = { [`${FAULT_ANNOTATION_PREFIX}${rec.id}`]: null };
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const obj = await kube.find<Node>(kind, name, namespace);
    if (!obj) return { status: 'already', detail: `${kind} ${name} no longer exists` };
    const { outcome, patch } = decide(obj);
    const hasAnnotation = Object.hasOwn(obj.metadata?.annotations ?? {}, Object.keys(annotation)[0]!);
    if (!patch && !hasAnnotation) return outcome;
    try {
      const p = (patch ?? {}) as { metadata?: { annotations?: Record<string, unknown> } & Record<string, unknown> };
      // The undo's own annotations (a patched annotation put back) and the fault's mark removed, in one write.
      const body = { ...p, metadata: { ...p.metadata, resourceVersion: obj.metadata?.resourceVersion, annotations: { ...p.metadata?.annotations, ...annotation } } };
      await kube.mergePatch(kind, name, namespace, body);
      return outcome;
    } catch (err) {
      if (isNotFound(err)) return { status: 'already', detail: `${kind} ${name} no longer exists` };
      if (!isConflict(err) || attempt === MAX_ATTEMPTS) throw err;
    }
  }
  return { status: 'failed', detail: 'unreachable' };
}

/** What a handler gets: the client, the record, and the conflict-checked write on the target. */
export interface UndoContext<K extends UndoOp> {
  kube: Kube;
  rec: UndoRecord & { undo: UndoOf<K> };
  undo: UndoOf<K>;
  /** "node x", "pod y": for details. */
  what: string;
  /** Decide on the current target, write with its resourceVersion (and drop the fault's annotation), decide again on a conflict. */
  onCurrent(decide: (obj: Node) => { outcome: UndoOutcome; patch?: object }): Promise<UndoOutcome>;
}

export type UndoHandler<K extends UndoOp> = (ctx: UndoContext<K>) => Promise<UndoOutcome>;

const handlers = new Map<string, UndoHandler<UndoOp>>();

/** Register how an op is undone: by the module that makes the op (a fault or a provider's mechanism). */
export function registerUndo<K extends UndoOp>(op: K, handler: UndoHandler<K>): void {
  handlers.set(op, handler as unknown as UndoHandler<UndoOp>);
}

export async function undoOne(kube: Kube, rec: UndoRecord): Promise<UndoOutcome> {
  const what = `${rec.target.kind.toLowerCase()} ${rec.target.name}`;
  const handler = handlers.get(rec.undo.op);
  if (!handler) return { status: 'failed', detail: `${what}: no handler for undo op "${rec.undo.op}" in this process (written by a newer kubeproof?); the record is kept` };
  try {
    const outcome = await handler({ kube, rec, undo: rec.undo, what, onCurrent: (decide) => onCurrent(kube, rec, decide) } as UndoContext<UndoOp>);
    if (outcome.status === 'reverted' && rec.awaitHeartbeat !== undefined && rec.target.kind === 'Node') {
      try {
        await heartbeatRenewed(kube, rec.target.name, rec.awaitHeartbeat);
      } catch (err) {
        // Kept: the next clean runs the undo again (starting what runs is harmless) and waits once more.
        return { status: 'failed', detail: `${outcome.detail}, but ${(err as Error).message}` };
      }
      return { ...outcome, detail: `${outcome.detail}; heartbeating again` };
    }
    return outcome;
  } catch (err) {
    return { status: 'failed', detail: `${what}: ${(err as Error).message}` };
  }
}

registerUndo('uncordon', ({ what, onCurrent }) =>
  onCurrent((node) =>
    node.spec?.unschedulable
      ? { outcome: { status: 'reverted', detail: `uncordoned ${what}` }, patch: { spec: { unschedulable: null } } }
      : { outcome: { status: 'already', detail: `${what} was already uncordoned` } },
  ),
);

registerUndo('remove-taint', ({ undo: u, what, onCurrent }) =>
  onCurrent((node) => {
    const taints = node.spec?.taints ?? [];
    if (taints.some((t) => sameTaint(t, u.taint))) {
      return { outcome: { status: 'reverted', detail: `removed taint ${describeTaint(u.taint)} from ${what}` }, patch: { spec: { taints: taints.filter((t) => !sameTaint(t, u.taint)) } } };
    }
    const changed = taints.find((t) => t.key === u.taint.key && t.effect === u.taint.effect);
    return changed
      ? { outcome: { status: 'conflict', detail: `${what}: taint ${describeTaint(u.taint)} was changed to ${describeTaint(changed)} by someone else; left as it is` } }
      : { outcome: { status: 'already', detail: `taint ${describeTaint(u.taint)} already gone from ${what}` } };
  }),
);

registerUndo('restore-label', ({ undo: u, what, onCurrent }) =>
  onCurrent((obj) => {
    const now = obj.metadata?.labels?.[u.key] ?? null;
    if (now === u.before) return { outcome: { status: 'already', detail: `label ${u.key} of ${what} already restored` } };
    if (now !== u.after) return { outcome: { status: 'conflict', detail: `label ${u.key} of ${what} is now "${now}" (kubeproof set "${u.after}"); left as it is` } };
    return { outcome: { status: 'reverted', detail: `label ${u.key} of ${what} restored to ${u.before === null ? '(none)' : `"${u.before}"`}` }, patch: { metadata: { labels: { [u.key]: u.before } } } };
  }),
);

registerUndo('restore-fields', ({ undo: u, what, onCurrent }) =>
  onCurrent((obj) => {
    const leaves = fieldLeaves(u.after);
    const conflicts: string[] = [];
    const restore: Array<{ path: string[]; value: unknown }> = [];
    for (const { path, value: after } of leaves) {
      const now = valueAt(obj, path);
      const before = valueAt(u.before, path);
      if (sameValue(now, before)) continue;
      if (!sameValue(now, after)) conflicts.push(`${path.join('.')} is now ${JSON.stringify(now ?? null)} (kubeproof set ${JSON.stringify(after)})`);
      else restore.push({ path, value: before ?? null });
    }
    const restored = restore.map((r) => r.path.join('.')).join(', ');
    if (conflicts.length) {
      return { outcome: { status: 'conflict', detail: `${what}: ${conflicts.join('; ')}; left as it is${restored ? `; restored ${restored}` : ''}` }, ...(restore.length ? { patch: patchOf(restore) } : {}) };
    }
    if (restore.length === 0) return { outcome: { status: 'already', detail: `${what}: ${leaves.map((l) => l.path.join('.')).join(', ')} already as before` } };
    return { outcome: { status: 'reverted', detail: `${what}: restored ${restored}` }, patch: patchOf(restore) };
  }),
);

registerUndo('idle-usage', ({ kube, rec, undo }) => idleUsage(kube, rec, undo));

registerUndo('exec', async ({ kube, rec, undo: u, what, onCurrent }) => {
  const ns = rec.target.namespace ?? 'default';
  const pod = await kube.find<Pod>('Pod', rec.target.name, ns);
  if (!pod || pod.metadata?.deletionTimestamp) return { status: 'already', detail: `${what} no longer exists` };
  const running = pod.status?.containerStatuses?.find((c) => c.name === u.container)?.state?.running;
  if (!running) return { status: 'already', detail: `container ${u.container} of ${what} is not running (a restarted container starts afresh)` };
  // The exec goes through the pod's kubelet, which may have just come back (a stopped-kubelet
  // undo runs right before): transport errors are retried with backoff for up to 30 s.
  const { default: pRetry } = await import('p-retry');
  const r = await pRetry(() => kube.exec(ns, rec.target.name, u.container, u.command), { retries: 10, minTimeout: 200, maxTimeout: 5000, maxRetryTime: 30_000 });
  if (r.exitCode !== 0) return { status: 'failed', detail: `${what}: ${u.command.join(' ')} exited ${r.exitCode}: ${r.stderr.trim()}` };
  await onCurrent(() => ({ outcome: { status: 'reverted', detail: '' } }));
  return { status: 'reverted', detail: `ran ${u.command.join(' ')} in ${what}` };
});

registerUndo('run', async ({ undo: u, onCurrent }) => {
  const { execa } = await import('execa');
  const [cmd, ...args] = u.command;
  const r = await execa(cmd!, args, { reject: false, all: true, timeout: 120_000, env: u.env });
  if (r.exitCode !== 0 && u.alreadyIf && new RegExp(u.alreadyIf).test(String(r.all ?? ''))) return { status: 'already', detail: `${u.command.join(' ')}: nothing to undo (${String(r.all ?? '').trim().split('\n').at(-1)})` };
  if (r.exitCode !== 0) return { status: 'failed', detail: `${u.command.join(' ')} exited ${r.exitCode}: ${(r.all ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  await onCurrent(() => ({ outcome: { status: 'reverted', detail: '' } }));
  return { status: 'reverted', detail: `ran ${u.command.join(' ')}` };
});

// ---------------------------------------------------------------------------------------------
// Fields in merge-patch shape: a nested object whose leaves are what a merge patch replaces
// whole (scalars, arrays, null).

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The leaves a merge patch writes: every path to a value that is not a plain object. */
export function fieldLeaves(patch: Record<string, unknown>, prefix: string[] = []): Array<{ path: string[]; value: unknown }> {
  return Object.entries(patch).flatMap(([k, v]) => (isPlainObject(v) && Object.keys(v).length ? fieldLeaves(v, [...prefix, k]) : [{ path: [...prefix, k], value: v }]));
}

export function valueAt(obj: unknown, path: string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** A merge patch that writes these values at these paths (null: remove). */
export function patchOf(values: Array<{ path: string[]; value: unknown }>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { path, value } of values) {
    let cur = out;
    path.slice(0, -1).forEach((k) => (cur = (cur[k] ??= {}) as Record<string, unknown>));
    cur[path[path.length - 1]!] = value;
  }
  return out;
}

/** What an object holds at the leaves a merge patch would write (null where absent), in the patch's shape. */
export function fieldsBefore(obj: unknown, patch: Record<string, unknown>): Record<string, unknown> {
  return patchOf(fieldLeaves(patch).map(({ path }) => ({ path, value: valueAt(obj, path) ?? null })));
}

/**
 * Each pod carrying the fault's annotation goes back to idle, unless its usage is no longer
 * what kubeproof wrote (someone else changed it: left alone, reported as a conflict).
 */
async function idleUsage(kube: Kube, rec: UndoRecord, u: UndoOf<'idle-usage'>): Promise<UndoOutcome> {
  const marker = `${FAULT_ANNOTATION_PREFIX}${rec.id}`;
  const ns = rec.target.namespace;
  const reverted: string[] = [];
  const conflicts: string[] = [];
  const pods = await kube.list<Pod>('Pod', { namespace: ns, labelSelector: u.selector });
  for (const listed of pods.items.filter((p) => Object.hasOwn(p.metadata?.annotations ?? {}, marker))) {
    const name = listed.metadata!.name!;
    for (let attempt = 1; ; attempt++) {
      const pod = attempt === 1 ? listed : await kube.find<Pod>('Pod', name, ns);
      const ann = pod?.metadata?.annotations ?? {};
      if (!pod || !Object.hasOwn(ann, marker)) break;
      const current = ann[u.annotation] ?? null;
      const mine = current === (ann[u.written] || null);
      const annotations: Record<string, string | null> = { [marker]: null, [u.written]: null, ...(mine ? { [u.annotation]: u.idle } : {}) };
      try {
        await kube.mergePatch('Pod', name, ns, { metadata: { resourceVersion: pod.metadata?.resourceVersion, annotations } });
        if (!mine) conflicts.push(`${name} (now ${current ?? 'none'})`);
        else if (current !== u.idle) reverted.push(name);
        break;
      } catch (err) {
        if (isNotFound(err)) break;
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }
  const idle = u.idle ?? '(none)';
  if (conflicts.length) return { status: 'conflict', detail: `${u.annotation} of ${conflicts.join(', ')} changed by someone else; left as it is${reverted.length ? `; ${reverted.length} pod(s) back to ${idle}` : ''}` };
  if (reverted.length) return { status: 'reverted', detail: `${u.annotation} back to ${idle} on ${reverted.join(', ')}` };
  return { status: 'already', detail: `no pod of ${rec.target.kind.toLowerCase()} ${rec.target.name} carries the load any more` };
}
