/**
 * How each recorded fault is undone. An undo restores what was there before and only
 * that: every write carries the resourceVersion it was decided on (a conflicting write by
 * someone else makes it re-read and decide again), and a target that someone else changed
 * in the meantime is reported as a conflict, not overwritten.
 */
import type { Kube } from '../kube/client.js';
import { isConflict, isNotFound } from '../kube/errors.js';
import type { Node, Pod, Taint } from '../kube/types.js';
import type { UndoRecord } from './ledger.js';
import { FAULT_ANNOTATION_PREFIX } from './ledger.js';

export type UndoAction =
  /** The fault cordoned a node that was schedulable. */
  | { op: 'uncordon' }
  /** The fault added this taint (it was not there before). */
  | { op: 'remove-taint'; taint: Taint }
  /** The fault changed a label from `before` to `after` (null: absent). */
  | { op: 'restore-label'; key: string; before: string | null; after: string | null }
  /** The fault stopped the kubelet of a local cluster's real node: start it again with its recorded command line (src/cluster/kubelet.ts). */
  | { op: 'start-kubelet'; cluster: string }
  /** The fault ran a command in a pod's container (e.g. `/testapp ready off`); this one undoes it (`/testapp ready on`). */
  | { op: 'exec'; container: string; command: string[] }
  /** The fault stopped a machine by running a command; this starts it again. */
  | { op: 'run'; command: string[] }
  /**
   * The fault wrote usage `annotation` on the pods (of the target workload) matching `selector`,
   * noting each value in `written`: put each such pod back to `idle` (null: no annotation).
   */
  | { op: 'idle-usage'; annotation: string; written: string; idle: string | null; selector: string };

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
      const p = (patch ?? {}) as { metadata?: Record<string, unknown> };
      const body = { ...p, metadata: { ...p.metadata, resourceVersion: obj.metadata?.resourceVersion, annotations: annotation } };
      await kube.mergePatch(kind, name, namespace, body);
      return outcome;
    } catch (err) {
      if (isNotFound(err)) return { status: 'already', detail: `${kind} ${name} no longer exists` };
      if (!isConflict(err) || attempt === MAX_ATTEMPTS) throw err;
    }
  }
  return { status: 'failed', detail: 'unreachable' };
}

export async function undoOne(kube: Kube, rec: UndoRecord): Promise<UndoOutcome> {
  const what = `${rec.target.kind.toLowerCase()} ${rec.target.name}`;
  try {
    const u = rec.undo;
    switch (u.op) {
      case 'uncordon':
        return await onCurrent(kube, rec, (node) =>
          node.spec?.unschedulable
            ? { outcome: { status: 'reverted', detail: `uncordoned ${what}` }, patch: { spec: { unschedulable: null } } }
            : { outcome: { status: 'already', detail: `${what} was already uncordoned` } },
        );
      case 'remove-taint':
        return await onCurrent(kube, rec, (node) => {
          const taints = node.spec?.taints ?? [];
          if (taints.some((t) => sameTaint(t, u.taint))) {
            return { outcome: { status: 'reverted', detail: `removed taint ${describeTaint(u.taint)} from ${what}` }, patch: { spec: { taints: taints.filter((t) => !sameTaint(t, u.taint)) } } };
          }
          const changed = taints.find((t) => t.key === u.taint.key && t.effect === u.taint.effect);
          return changed
            ? { outcome: { status: 'conflict', detail: `${what}: taint ${describeTaint(u.taint)} was changed to ${describeTaint(changed)} by someone else; left as it is` } }
            : { outcome: { status: 'already', detail: `taint ${describeTaint(u.taint)} already gone from ${what}` } };
        });
      case 'restore-label':
        return await onCurrent(kube, rec, (obj) => {
          const now = obj.metadata?.labels?.[u.key] ?? null;
          if (now === u.before) return { outcome: { status: 'already', detail: `label ${u.key} of ${what} already restored` } };
          if (now !== u.after) return { outcome: { status: 'conflict', detail: `label ${u.key} of ${what} is now "${now}" (kubeproof set "${u.after}"); left as it is` } };
          return { outcome: { status: 'reverted', detail: `label ${u.key} of ${what} restored to ${u.before === null ? '(none)' : `"${u.before}"`}` }, patch: { metadata: { labels: { [u.key]: u.before } } } };
        });
      case 'idle-usage':
        return await idleUsage(kube, rec, u);
      case 'start-kubelet': {
        const { restartKubelet } = await import('../cluster/real-node/kubelet.js');
        const r = await restartKubelet(u.cluster);
        await onCurrent(kube, rec, () => ({ outcome: { status: 'reverted', detail: '' } }));
        return r.started
          ? { status: 'reverted', detail: `started the kubelet of ${what} again (pid ${r.pid})` }
          : { status: 'already', detail: `the kubelet of ${what} was already running (pid ${r.pid})` };
      }
      case 'exec': {
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
        await onCurrent(kube, rec, () => ({ outcome: { status: 'reverted', detail: '' } }));
        return { status: 'reverted', detail: `ran ${u.command.join(' ')} in ${what}` };
      }
      case 'run': {
        const { execa } = await import('execa');
        const [cmd, ...args] = u.command;
        const r = await execa(cmd!, args, { reject: false, all: true, timeout: 120_000 });
        if (r.exitCode !== 0) return { status: 'failed', detail: `${u.command.join(' ')} exited ${r.exitCode}: ${(r.all ?? '').trim().split('\n').slice(-3).join(' | ')}` };
        await onCurrent(kube, rec, () => ({ outcome: { status: 'reverted', detail: '' } }));
        return { status: 'reverted', detail: `ran ${u.command.join(' ')}` };
      }
    }
  } catch (err) {
    return { status: 'failed', detail: `${what}: ${(err as Error).message}` };
  }
}

/**
 * Each pod carrying the fault's annotation goes back to idle, unless its usage is no longer
 * what kubeproof wrote (someone else changed it: left alone, reported as a conflict).
 */
async function idleUsage(kube: Kube, rec: UndoRecord, u: Extract<UndoAction, { op: 'idle-usage' }>): Promise<UndoOutcome> {
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
