/**
 * What can be known of a scenario without a cluster, beyond matching its steps: every manifest
 * a step applies parses (files under scenarios/ and docstrings, with file:line), and every
 * object a step names in the scenario's own namespace — a workload, pod, Service, HPA or
 * PodDisruptionBudget — is defined by a manifest an earlier step (or the same one) applies.
 * Each scenario has a namespace of its own, so nothing else can define them.
 */
import { BadInputError } from '../errors.js';
import { loadManifests, parseManifests, type LocatedManifest } from '../workload/manifests.js';
import { parsePatch } from '../workload/deploy.js';
import { needsOf } from './preconditions.js';
import type { CheckedStep, Problem } from './match.js';

/** The word before a quoted name, as steps say it, and the kind it names. Nodes are the cluster's, not the scenario's: not checked. */
const KIND_WORDS: Record<string, string> = {
  deployment: 'Deployment',
  statefulset: 'StatefulSet',
  daemonset: 'DaemonSet',
  replicaset: 'ReplicaSet',
  job: 'Job',
  pod: 'Pod',
  service: 'Service',
  hpa: 'HorizontalPodAutoscaler',
  horizontalpodautoscaler: 'HorizontalPodAutoscaler',
  poddisruptionbudget: 'PodDisruptionBudget',
  pdb: 'PodDisruptionBudget',
  configmap: 'ConfigMap',
  resourcequota: 'ResourceQuota',
};

export interface ObjectRef {
  kind: string;
  name: string;
}

/** The objects a step names: each quoted argument right after a kind word ("deployment "web"", "pod "db-1"", "HPA "shop""). */
export function namedObjects(step: Pick<CheckedStep, 'text' | 'args' | 'argTexts'>): ObjectRef[] {
  const refs: ObjectRef[] = [];
  (step.argTexts ?? []).forEach((a, i) => {
    const value = step.args?.[i] as { name?: string; workload?: ObjectRef } | undefined;
    // {pod}: `pod "db-1"` names a pod, `the oldest pod of deployment "web"` a workload.
    if (a.type === 'pod' && value) refs.push(value.workload ? value.workload : { kind: 'Pod', name: String(value.name) });
    if (a.type !== 'string' || a.start < 0) return;
    const word = step.text.slice(0, a.start).trimEnd().split(/\s+/).at(-1)?.toLowerCase() ?? '';
    const kind = KIND_WORDS[word];
    const name = step.args?.[i];
    if (kind && typeof name === 'string') refs.push({ kind, name });
  });
  return refs;
}

/** Manifests by path, loaded once per check (a Background's manifest is applied by every scenario). */
type Loaded = Map<string, Promise<LocatedManifest[] | BadInputError>>;

async function load(cache: Loaded, path: string, projectDir: string, where: { file: string; line: number }): Promise<LocatedManifest[] | BadInputError> {
  let p = cache.get(path);
  if (!p) {
    p = loadManifests(path, projectDir, where).catch((err: unknown) => {
      if (err instanceof BadInputError) return err;
      throw err;
    });
    cache.set(path, p);
  }
  return p;
}

function whereOf(step: CheckedStep): { file: string; line: number } {
  const m = step.where.match(/^(.*):(\d+)$/);
  return m ? { file: m[1]!, line: Number(m[2]) } : { file: step.where, line: 0 };
}

function problemFrom(err: BadInputError, fallback: { file: string; line: number }): Problem {
  return { file: err.where?.file ?? fallback.file, line: err.where?.line ?? fallback.line, message: err.message };
}

/** A pod is known by its manifest, or as a member of a StatefulSet the scenario defines (db-0, db-1, …). */
function defines(objects: Map<string, Set<string>>, ref: ObjectRef): boolean {
  if (objects.get(ref.kind)?.has(ref.name)) return true;
  if (ref.kind !== 'Pod') return false;
  const m = ref.name.match(/^(.*)-\d+$/);
  return Boolean(m && objects.get('StatefulSet')?.has(m[1]!));
}

function describeObjects(objects: Map<string, Set<string>>): string {
  const all = [...objects].flatMap(([kind, names]) => [...names].map((n) => `${kind}/${n}`));
  return all.length ? `it defines ${all.slice(0, 8).join(', ')}${all.length > 8 ? `, … (${all.length} in all)` : ''}` : 'it applies no manifest before this step';
}

/** Every problem the static checks find in the matched scenarios (deduplicated: a Background is in every scenario). */
export async function staticProblems(scenarios: CheckedStep[][], projectDir: string): Promise<Problem[]> {
  const cache: Loaded = new Map();
  const problems = new Map<string, Problem>();
  const add = (p: Problem) => problems.set(`${p.file}:${p.line}: ${p.message}`, p);
  for (const steps of scenarios) {
    const objects = new Map<string, Set<string>>();
    const define = (ms: LocatedManifest[]) => {
      for (const m of ms) {
        const kind = String(m.object.kind);
        const name = m.object.metadata?.name;
        if (!name) continue;
        objects.set(kind, (objects.get(kind) ?? new Set()).add(name));
      }
    };
    for (const st of steps) {
      const where = whereOf(st);
      const applies = needsOf(st.code)?.applies?.(...(st.args ?? []));
      for (const path of applies?.paths ?? []) {
        const loaded = await load(cache, path, projectDir, where);
        if (loaded instanceof BadInputError) add(problemFrom(loaded, where));
        else define(loaded);
      }
      if (applies?.docString && st.docString) {
        const at = { file: where.file, line: st.docString.line };
        try {
          if (applies.docString === 'patch') parsePatch(st.docString.content, at);
          else {
            const ms = parseManifests(st.docString.content, at.file, at.line);
            if (applies.docString === 'manifest') define(ms);
          }
        } catch (err) {
          if (!(err instanceof BadInputError)) throw err;
          add(problemFrom(err, at));
        }
      }
      for (const ref of namedObjects(st)) {
        if (!defines(objects, ref)) add({ ...where, message: `"${st.text}": ${ref.kind} "${ref.name}" is not defined by any manifest applied earlier in its scenario (${describeObjects(objects)})` });
      }
    }
  }
  return [...problems.values()];
}
