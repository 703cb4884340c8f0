/**
 * Manifests from scenarios/ or from a docstring: parsed with positions, so a broken one
 * is reported as file:line; validated by the API server with a dry run of every document
 * before any is applied, so a bad manifest leaves nothing half-applied.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import YAML, { LineCounter } from 'yaml';
import { BadInputError, type ErrorLocation } from '../errors.js';
import type { Kube } from '../kube/client.js';
import { ApiError } from '../kube/errors.js';
import type { Manifest } from '../kube/types.js';

export interface LocatedManifest {
  object: Manifest;
  where: ErrorLocation;
}

/** The label on everything a run creates (one name, defined with the ledger). */
import { RUN_LABEL } from '../ledger/ledger.js';
export { RUN_LABEL };

/** Parse YAML text (one or more documents) into manifests with their file:line. */
export function parseManifests(text: string, file: string, firstLine = 1): LocatedManifest[] {
  const lineCounter = new LineCounter();
  const docs = YAML.parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const out: LocatedManifest[] = [];
  for (const doc of docs) {
    const line = (pos: number) => lineCounter.linePos(pos).line + firstLine - 1;
    const start = doc.range?.[0] ?? 0;
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      throw new BadInputError(`invalid YAML: ${e.message.split('\n')[0]}`, { where: { file, line: line(e.pos[0]) } });
    }
    const where = { file, line: line(doc.contents?.range?.[0] ?? start) };
    let value: unknown;
    try {
      value = doc.toJS();
    } catch (err) {
      // What only resolving the document finds: an alias without its anchor, too many aliases (a YAML bomb).
      throw new BadInputError(`invalid YAML: ${(err as Error).message.split('\n')[0]}`, { where });
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new BadInputError('a manifest must be a mapping with apiVersion, kind and metadata', { where });
    const obj = value as Manifest;
    if (obj.kind === 'List' && Array.isArray((obj as { items?: unknown }).items)) {
      for (const item of (obj as unknown as { items: Manifest[] }).items) out.push({ object: checkShape(item, where), where });
      continue;
    }
    out.push({ object: checkShape(obj, where), where });
  }
  if (out.length === 0) throw new BadInputError('no Kubernetes object in the manifest', { where: { file, line: firstLine } });
  return out;
}

function checkShape(obj: Manifest, where: ErrorLocation): Manifest {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new BadInputError('a manifest must be a mapping with apiVersion, kind and metadata', { where });
  const missing = (['apiVersion', 'kind'] as const).filter((k) => typeof obj[k] !== 'string' || !obj[k]);
  if (!obj.metadata?.name && !(obj.metadata as { generateName?: string } | undefined)?.generateName) missing.push('metadata.name' as never);
  // A kind that is not a string (a mapping whose toString is not a function, say) cannot be put in words.
  if (missing.length) throw new BadInputError(`manifest${typeof obj.kind === 'string' && obj.kind ? ` (${obj.kind})` : ''} is missing ${missing.join(', ')}`, { where });
  return obj;
}

/** Read a manifest file, or every .yaml/.yml/.json file of a directory (sorted), relative to `baseDir`. */
export async function loadManifests(path: string, baseDir: string, where?: ErrorLocation): Promise<LocatedManifest[]> {
  const full = resolve(baseDir, path);
  const s = await stat(full).catch(() => undefined);
  if (!s) throw new BadInputError(`manifest "${path}" does not exist (looked in ${baseDir})`, { where });
  const files = s.isDirectory()
    ? (await readdir(full)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => join(full, f))
    : [full];
  const out: LocatedManifest[] = [];
  for (const f of files) out.push(...parseManifests(await readFile(f, 'utf8'), relative(process.cwd(), f) || f));
  return out;
}

/** Put the object in the scenario's namespace (unless cluster-scoped or explicit) and label it with the run. */
function prepare(m: Manifest, namespace: string, runId: string): Manifest {
  const obj = structuredClone(m);
  obj.metadata ??= {};
  if (!obj.metadata.namespace && !CLUSTER_SCOPED.has(String(obj.kind))) obj.metadata.namespace = namespace;
  obj.metadata.labels = { ...obj.metadata.labels, [RUN_LABEL]: runId };
  return obj;
}

const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'PriorityClass', 'CustomResourceDefinition', 'APIService']);

function located(err: unknown, where: ErrorLocation, obj: Manifest): unknown {
  // A field of the wrong type fails server-side apply with a 500 "failed to create typed patch object": bad input too.
  const typeError = err instanceof ApiError && err.status === 500 && /failed to create typed patch object/.test(err.message);
  if (err instanceof ApiError && (err.status === 400 || err.status === 404 || err.status === 422 || err.status === 415 || typeError)) {
    return new BadInputError(`${obj.kind} ${obj.metadata?.name ?? ''} is invalid: ${err.message}`, { where, cause: err });
  }
  return err;
}

/**
 * Apply manifests into the scenario's namespace: first a server-side dry run of all of
 * them (so a broken one fails before anything changes), then the real apply.
 */
export async function applyManifests(kube: Kube, manifests: LocatedManifest[], opts: { namespace: string; runId: string }): Promise<Manifest[]> {
  const prepared = manifests.map((m) => ({ ...m, object: prepare(m.object, opts.namespace, opts.runId) }));
  for (const m of prepared) {
    try {
      await kube.apply(m.object, { dryRun: true });
    } catch (err) {
      // A namespaced object whose kind is served by a CRD in the same batch cannot be dry-run first; those are applied in order.
      if (err instanceof ApiError && err.status === 404 && prepared.some((o) => o.object.kind === 'CustomResourceDefinition')) continue;
      throw located(err, m.where, m.object);
    }
  }
  const applied: Manifest[] = [];
  for (const m of prepared) {
    try {
      applied.push(await kube.apply(m.object));
    } catch (err) {
      throw located(err, m.where, m.object);
    }
  }
  return applied;
}
