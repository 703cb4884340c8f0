/** Deploying workloads into a scenario: apply manifests, wait until they are ready, expect rejections. */
import YAML from 'yaml';
import type { Scenario } from '../scenario/scenario.js';
import { applyManifests, loadManifests, parseManifests, type LocatedManifest } from './manifests.js';
import type { ErrorLocation } from '../errors.js';
import { BadInputError } from '../errors.js';
import type { Condition } from '../wait/until.js';
import { expectWithin } from '../expect/expect.js';
import { ApiError } from '../kube/errors.js';
import { rolloutComplete, jobFinished, quotaEnforced } from '../expect/conditions.js';
import { until } from '../wait/until.js';
import { seen } from './change.js';
import { describeWorkload, workloadObject, podsOf, podInState, type WorkloadRef } from './pods.js';
import type { Manifest } from '../kube/types.js';

async function apply(s: Scenario, manifests: LocatedManifest[], label: string): Promise<Manifest[]> {
  const applied = await applyManifests(s.kube, manifests, { namespace: s.namespace, runId: s.runId });
  s.timeline.mark('apply', `${label}: ${applied.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  // The next step reads the scenario's watches: return once they have seen every object applied.
  await Promise.all(applied.filter((o) => o.metadata?.namespace === s.namespace).map((o) => seen(s, o)));
  // A quota is in force only once its controller has computed it; wait for that, as a user would expect.
  for (const q of applied.filter((o) => o.kind === 'ResourceQuota' && o.metadata?.namespace === s.namespace)) {
    await until(quotaEnforced(s.timeline, String(q.metadata?.name)), { within: 30_000 });
  }
  return applied;
}

/** Apply a manifest file or every manifest of a directory (paths relative to the project). */
export async function applyPath(s: Scenario, path: string, where?: ErrorLocation): Promise<Manifest[]> {
  return apply(s, await loadManifests(path, s.projectDir, where), path);
}

/** Apply manifests written in the feature file (a docstring starting at `where`). */
export async function applyText(s: Scenario, text: string, where: ErrorLocation): Promise<Manifest[]> {
  return apply(s, parseManifests(text, where.file, where.line), `${where.file}:${where.line}`);
}

/** The pods a workload wants Ready, as its controller counts them: a DaemonSet one per node it should run on, the others spec.replicas. */
function wantedPods(w: WorkloadRef, o: { spec?: { replicas?: number }; status?: Record<string, number> }): number {
  return w.kind === 'DaemonSet' ? (o.status?.desiredNumberScheduled ?? 0) : (o.spec?.replicas ?? 1);
}

/**
 * A workload is ready as its controller reports it: Deployment rolled out; StatefulSet,
 * ReplicaSet and DaemonSet with all wanted pods ready; Job complete. Only a status
 * the controller wrote for the current generation counts: a DaemonSet as created says
 * "0 of 0 ready", which is not a DaemonSet that is ready.
 */
function controllerSaysReady(s: Scenario, w: WorkloadRef): Condition {
  const tl = s.timeline;
  switch (w.kind) {
    case 'Deployment':
      return rolloutComplete(tl, w.name);
    case 'Job':
      return jobFinished(tl, w.name, 'Complete');
    default:
      return {
        description: `${describeWorkload(w)} has all replicas ready`,
        sources: [tl.informer(w.kind)],
        evaluate: () => {
          const o = workloadObject(tl, w) as { metadata?: { generation?: number }; spec?: { replicas?: number }; status?: Record<string, number> } | undefined;
          if (!o) return { ok: false, observed: `${describeWorkload(w)} does not exist` };
          const st = o.status ?? {};
          const want = wantedPods(w, o);
          const observedGeneration = st.observedGeneration ?? 0;
          const current = observedGeneration >= (o.metadata?.generation ?? 1);
          const [ready, total] = w.kind === 'DaemonSet' ? [st.numberReady ?? 0, st.currentNumberScheduled ?? 0] : [st.readyReplicas ?? 0, st.replicas ?? 0];
          const ok = current && ready === want && total === want;
          return { ok, observed: current ? `${ready} of ${want} ready (${total} in all)` : `status not yet written for generation ${o.metadata?.generation ?? 1} (observed ${observedGeneration})` };
        },
      };
  }
}

/**
 * A workload is ready: its controller says so, and the scenario's pod watch has seen as many
 * Ready pods (the workload's and the pods' watches are separate streams; a step right after
 * this one reads the pods).
 */
export function workloadReady(s: Scenario, w: WorkloadRef): Condition {
  const controller = controllerSaysReady(s, w);
  if (w.kind === 'Job') return controller;
  const tl = s.timeline;
  return {
    description: controller.description,
    sources: [...controller.sources, tl.pods],
    evaluate: () => {
      const v = controller.evaluate();
      if (!v.ok) return v;
      const o = workloadObject(tl, w) as { spec?: { replicas?: number }; status?: Record<string, number> } | undefined;
      const want = w.kind === 'Deployment' ? (o?.status?.readyReplicas ?? 0) : wantedPods(w, o ?? {});
      const seen = (podsOf(tl, { workload: w }) ?? []).filter((p) => podInState(p, 'Ready')).length;
      return seen >= want ? v : { ok: false, observed: `${v.observed}; ${seen} of ${want} Ready pod(s) seen so far` };
    },
  };
}

/** Apply the manifests and wait until the named workload is ready. */
export async function deployWorkload(s: Scenario, w: WorkloadRef, path: string, withinMs: number, where?: ErrorLocation): Promise<void> {
  const applied = await applyPath(s, path, where);
  if (!applied.some((o) => o.kind === w.kind && o.metadata?.name === w.name)) {
    throw new BadInputError(`${path} does not define ${describeWorkload(w)} (it defines ${applied.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')})`, { where });
  }
  await expectWithin(s, workloadReady(s, w), withinMs);
}

/**
 * Send the manifest to the API server and expect it to be refused with `status` and a
 * message containing `text`. Anything accepted by mistake is deleted again.
 */
export async function expectRejected(s: Scenario, text: string, where: ErrorLocation, status: number, messageContains: string): Promise<void> {
  const manifests = parseManifests(text, where.file, where.line);
  try {
    const applied = await applyManifests(s.kube, manifests, { namespace: s.namespace, runId: s.runId });
    for (const o of applied) await s.kube.delete(String(o.kind), String(o.metadata?.name), o.metadata?.namespace).catch(() => undefined);
    throw new Error(`expected the API server to reject ${manifests.map((m) => `${m.object.kind}/${m.object.metadata?.name}`).join(', ')} with ${status}, but it was accepted`);
  } catch (err) {
    const api = err instanceof ApiError ? err : err instanceof BadInputError && err.cause instanceof ApiError ? err.cause : undefined;
    if (!api) throw err;
    s.timeline.mark('rejected', `${api.status} ${api.reason}: ${api.message}`);
    if (api.status !== status || !api.message.toLowerCase().includes(messageContains.toLowerCase())) {
      throw new Error(`expected rejection ${status} with a message containing "${messageContains}", got ${api.status} ${api.reason}: ${api.message}`);
    }
  }
}

/** Parse a YAML docstring into a plain object (for patches). */
export function parsePatch(text: string, where: ErrorLocation): Record<string, unknown> {
  try {
    const v = YAML.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('a patch must be a YAML mapping');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new BadInputError(`invalid patch: ${(err as Error).message}`, { where });
  }
}
