/** Changes a scenario makes to its own objects: scale, set image, patch, relabel. Each is a timeline action. */
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';
import { resourceType } from '../kube/resources.js';
import type { WorkloadRef } from './pods.js';
import { describeWorkload } from './pods.js';
import { until } from '../expect/until.js';
import { observed } from '../expect/conditions.js';
import type { KubeObject } from '../kube/types.js';

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
  s.timeline.mark('scale', `${describeWorkload(w)} to ${replicas}`);
  await seen(s, await s.kube.mergePatch(w.kind, w.name, s.namespace, { spec: { replicas } }));
}

/** Set the image of every container of a workload's pod template (a rollout for Deployments). */
export async function setImage(s: Scenario, w: WorkloadRef, image: string): Promise<void> {
  const obj = (await s.kube.get(w.kind, w.name, s.namespace)) as { spec?: { template?: { spec?: { containers?: unknown[] } } } };
  const n = obj.spec?.template?.spec?.containers?.length ?? 0;
  if (n === 0) throw new BadInputError(`${describeWorkload(w)} has no containers`);
  s.timeline.mark('set image', `${describeWorkload(w)} → ${image}`);
  await seen(s, await s.kube.jsonPatch(w.kind, w.name, s.namespace, Array.from({ length: n }, (_, i) => ({ op: 'replace', path: `/spec/template/spec/containers/${i}/image`, value: image }))));
}

export async function patchObject(s: Scenario, kindWord: string, name: string, patch: Record<string, unknown>): Promise<void> {
  const kind = kindOf(kindWord);
  s.timeline.mark('patch', `${kind}/${name}: ${JSON.stringify(patch)}`);
  await seen(s, await s.kube.mergePatch(kind, name, namespaceFor(s, kind), patch));
}

/** "key=value" sets a label, "key-" removes it. */
export async function labelObject(s: Scenario, kindWord: string, name: string, label: string): Promise<void> {
  const kind = kindOf(kindWord);
  const m = label.match(/^([\w./-]+)(?:=([\w.-]*)|(-))$/);
  if (!m) throw new BadInputError(`"${label}" is not a label (write key=value, or key- to remove it)`);
  const value = m[3] ? null : (m[2] ?? '');
  if (kind === 'Node') {
    // Nodes are shared by every scenario: put the label back as it was.
    const before = (await s.kube.get('Node', name)).metadata?.labels?.[m[1]!] ?? null;
    s.onCleanup(`restore label ${m[1]} of node ${name}`, () => s.kube.mergePatch('Node', name, undefined, { metadata: { labels: { [m[1]!]: before } } }).then(() => undefined));
  }
  s.timeline.mark('patch', `${kind}/${name} label ${label}`);
  await seen(s, await s.kube.mergePatch(kind, name, namespaceFor(s, kind), { metadata: { labels: { [m[1]!]: value } } }));
}
