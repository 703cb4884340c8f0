/** Changes a scenario makes to its own objects: scale, set image, patch, relabel. Each is a timeline action. */
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';
import { resourceType } from '../kube/resources.js';
import type { WorkloadRef } from './pods.js';
import { describeWorkload } from './pods.js';
import { until } from '../wait/until.js';
import { observed } from '../expect/conditions.js';
import type { KubeObject } from '../kube/types.js';
import type { ActionEntry, Timeline } from '../timeline/timeline.js';
import { fieldsBefore } from '../ledger/undo-ops.js';
import { isConflict } from '../kube/errors.js';
import { injectFault, markChange, unlessPlanning } from '../faults/fault.js';

/** Return once the scenario's watch has seen the write, so later checks read its result. */
export async function seen(s: Scenario, written: KubeObject): Promise<void> {
  const kind = String(written.kind);
  const rv = written.metadata?.resourceVersion;
  if (!rv || kind === 'Node' || !s.timeline.watches(kind)) return;
  await until(observed(s.timeline, kind, String(written.metadata?.name), written.metadata?.namespace, rv), { within: 30_000 });
}

function kindOf(word: string): string {
  const r = resourceType(word);
  if (!r) throw new BadInputError(`unknown kind "${word}"`);
  return r.kind;
}

function namespaceFor(s: Scenario, kind: string): string | undefined {
  return resourceType(kind)?.namespaced ? s.namespace : undefined;
}

export async function scaleWorkload(s: Scenario, w: WorkloadRef, replicas: number): Promise<void> {
  if (w.kind === 'DaemonSet' || w.kind === 'Job') throw new BadInputError(`a ${w.kind} cannot be scaled by replicas`);
  await unlessPlanning(s, () => `scale ${describeWorkload(w)} to ${replicas}${IN_PLAN}`, async () => {
    markChange(s, 'scale', `${describeWorkload(w)} to ${replicas}`);
    await seen(s, await s.kube.mergePatch(w.kind, w.name, s.namespace, { spec: { replicas } }));
  });
}

/**
 * Plan mode makes the scenario's namespace and its Given workloads (so faults can name their
 * victims) but no change a When step makes to them: those start pods, pull images, roll out.
 */
const IN_PLAN = ' (planned, not made: later steps are planned on the workload as it is)';

/**
 * The last change of a workload's replicas by hand — a scale, or a patch that writes
 * spec.replicas — as this module marks them on the timeline. An HPA's decisions are not here:
 * they are the controller's writes, seen only on the watch.
 */
export function lastScaleByHand(tl: Timeline, w: WorkloadRef): ActionEntry | undefined {
  const scaled = `${describeWorkload(w)} to `;
  const patched = `${w.kind}/${w.name}: `;
  return tl.entries.findLast((e): e is ActionEntry => {
    if (e.source !== 'harness') return false;
    if (e.action === 'scale') return e.detail.startsWith(scaled);
    // A relabel is marked "Kind/name label k=v": only a patch has the JSON after "Kind/name: ".
    if (e.action !== 'patch' || !e.detail.startsWith(patched)) return false;
    return (JSON.parse(e.detail.slice(patched.length)) as { spec?: { replicas?: unknown } }).spec?.replicas !== undefined;
  });
}

/** Set the image of every container of a workload's pod template (a rollout for Deployments). */
export async function setImage(s: Scenario, w: WorkloadRef, image: string): Promise<void> {
  const obj = (await s.kube.get(w.kind, w.name, s.namespace)) as { spec?: { template?: { spec?: { containers?: unknown[] } } } };
  const n = obj.spec?.template?.spec?.containers?.length ?? 0;
  if (n === 0) throw new BadInputError(`${describeWorkload(w)} has no containers`);
  await unlessPlanning(s, () => `set the image of ${describeWorkload(w)} to ${image}${IN_PLAN}`, async () => {
    markChange(s, 'set image', `${describeWorkload(w)} → ${image}`);
    await seen(s, await s.kube.jsonPatch(w.kind, w.name, s.namespace, Array.from({ length: n }, (_, i) => ({ op: 'replace', path: `/spec/template/spec/containers/${i}/image`, value: image }))));
  });
}

/**
 * Patch or relabel an object. The scenario's own objects (in its namespace) are changed
 * directly: they go with the namespace. Anything else (a Node, another cluster-scoped object)
 * is shared: the change goes through the fault pipeline — its fields as they were are written
 * to the ledger first, the object is annotated in the same write, and the undo puts those
 * fields back when the scenario ends (or on Ctrl-C, or from `kubeproof clean`), unless someone
 * else changed them since, which is reported as a conflict.
 */
export async function patchObject(s: Scenario, kindWord: string, name: string, patch: Record<string, unknown>): Promise<void> {
  await change(s, kindOf(kindWord), name, patch, 'patch', JSON.stringify(patch));
}

/** "key=value" sets a label, "key-" removes it. */
export async function labelObject(s: Scenario, kindWord: string, name: string, label: string): Promise<void> {
  const kind = kindOf(kindWord);
  const m = label.match(/^([\w./-]+)(?:=([\w.-]*)|(-))$/);
  if (!m) throw new BadInputError(`"${label}" is not a label (write key=value, or key- to remove it)`);
  const value = m[3] ? null : (m[2] ?? '');
  await change(s, kind, name, { metadata: { labels: { [m[1]!]: value } } }, 'label', `label ${label}`);
}

async function change(s: Scenario, kind: string, name: string, patch: Record<string, unknown>, fault: 'patch' | 'label', detail: string): Promise<void> {
  const namespace = namespaceFor(s, kind);
  if (namespace) {
    const what = `${kind}/${name}${fault === 'label' ? ' ' : ': '}${detail}`;
    await unlessPlanning(s, () => `${fault} ${what}${IN_PLAN}`, async () => {
      markChange(s, 'patch', what);
      await seen(s, await s.kube.mergePatch(kind, name, namespace, patch));
    });
    return;
  }
  const obj = await s.kube.find(kind, name);
  if (!obj) throw new BadInputError(`${kind} "${name}" does not exist`);
  const before = fieldsBefore(obj, patch);
  await injectFault(s, obj, () => `${fault} ${kind.toLowerCase()} ${name}: ${detail} (put back from the ledger when the scenario ends)`, (_, inject) =>
    inject({ fault, target: { kind, name }, undo: { op: 'restore-fields', before, after: patch }, detail }, ({ annotations }) => writeOnVersion(s, obj, patch, before, annotations)),
  );
}

/**
 * Write on the version "before" was read from, so nothing is undone wrongly later. A node's
 * status changes every few seconds: on a conflict, read again and write if the patched fields
 * are still as recorded; if someone changed them in between, refuse.
 */
async function writeOnVersion(s: Scenario, read: KubeObject, patch: Record<string, unknown>, before: Record<string, unknown>, annotations: Record<string, string>): Promise<void> {
  const p = patch as { metadata?: { annotations?: Record<string, unknown> } & Record<string, unknown> };
  const kind = String(read.kind);
  const name = String(read.metadata?.name);
  let obj: KubeObject | undefined = read;
  for (let attempt = 1; obj; attempt++) {
    if (JSON.stringify(fieldsBefore(obj, patch)) !== JSON.stringify(before)) throw new Error(`${kind} ${name} changed while kubeproof was about to change it (${JSON.stringify(before)} → ${JSON.stringify(fieldsBefore(obj, patch))}); nothing written`);
    try {
      await s.kube.mergePatch(kind, name, undefined, { ...p, metadata: { ...p.metadata, resourceVersion: obj.metadata?.resourceVersion, annotations: { ...p.metadata?.annotations, ...annotations } } });
      return;
    } catch (err) {
      if (!isConflict(err) || attempt >= 5) throw err;
      obj = await s.kube.find(kind, name);
    }
  }
  throw new Error(`${kind} ${name} no longer exists`);
}
