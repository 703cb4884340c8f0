/**
 * The context guard: kubeproof only injects faults into clusters it made (local, kind-*)
 * or into contexts explicitly allowed, and pins the run to the cluster's kube-system
 * namespace UID, so a kubeconfig edited mid-run cannot redirect the faults elsewhere.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BadInputError, EnvironmentError } from '../../errors.js';
import { jsonErrorLine } from '../../json-syntax.js';
import type { Kube } from '../../kube/client.js';
import type { ClusterKind } from './provider.js';

export const PROJECT_CONFIG_FILE = 'kubeproof.config.json';

export interface ClusterFingerprint {
  context: string;
  server: string;
  kubeSystemUid: string;
}

export interface ProjectConfig {
  /** Context names (or `*` globs) kubeproof may run against besides its own clusters. */
  allowContexts: string[];
  /** Shell commands that stop and start one node of an existing cluster (`{node}`: its name), e.g. over ssh. */
  nodeCommands?: { stop: string; start: string };
}

/** `*` matches any run of characters; everything else is literal. */
export function contextMatches(pattern: string, context: string): boolean {
  const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${pattern.split('*').map(literal).join('.*')}$`).test(context);
}

export function contextAllowed(clusterKind: ClusterKind, context: string, allowContexts: string[]): boolean {
  return clusterKind === 'local' || context.startsWith('kind-') || allowContexts.some((p) => contextMatches(p, context));
}

/** Refuse a context that is not allowed, from its name alone: called before any request is sent to it. */
export function assertContextAllowed(clusterKind: ClusterKind, context: string, allowContexts: string[]): void {
  if (!contextAllowed(clusterKind, context, allowContexts)) {
    throw new BadInputError(`context "${context}" is not on the allowlist`, {
      hint: `if faults may really be injected there, pass --allow-context ${context}, or add it to "allowContexts" in ${PROJECT_CONFIG_FILE}`,
    });
  }
}

/** Refuse a context that is not allowed, else fingerprint its cluster (the run is pinned to it). */
export async function guardContext(opts: { kube: Kube; clusterKind: ClusterKind; context: string; allowContexts: string[] }): Promise<ClusterFingerprint> {
  assertContextAllowed(opts.clusterKind, opts.context, opts.allowContexts);
  return { context: opts.context, server: opts.kube.serverUrl, kubeSystemUid: await kubeSystemUid(opts.kube) };
}

/** Throws (exit 3) when the cluster behind the context is no longer the one the run started on. */
export async function checkFingerprint(kube: Kube, fp: ClusterFingerprint): Promise<void> {
  const uid = await kubeSystemUid(kube);
  if (uid !== fp.kubeSystemUid) {
    throw new EnvironmentError(`the cluster behind context ${fp.context} changed mid-run (kube-system uid ${fp.kubeSystemUid} → ${uid}); stopping`, {
      hint: `the run started on ${fp.server}; now ${kube.serverUrl} answers`,
    });
  }
}

async function kubeSystemUid(kube: Kube): Promise<string> {
  const ns = await kube.find('Namespace', 'kube-system');
  const uid = ns?.metadata?.uid;
  if (!uid) throw new EnvironmentError(`the cluster at ${kube.serverUrl} (context ${kube.contextName}) has no kube-system namespace with a uid; is it a Kubernetes cluster?`);
  return uid;
}

/**
 * The optional kubeproof.config.json of a project (or the file given with --config), e.g.
 * {"allowContexts": ["staging-*"], "nodeCommands": {"stop": "ssh {node} sudo systemctl stop kubelet", "start": "…"}}.
 */
export async function loadProjectConfig(cwd: string, path?: string): Promise<ProjectConfig> {
  const file = path ? resolve(cwd, path) : join(cwd, PROJECT_CONFIG_FILE);
  let text: string;
  try {
    // An editor's byte-order mark is not part of the JSON (RFC 8259 lets a parser ignore it).
    text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !path) return { allowContexts: [] };
    throw new BadInputError(`cannot read ${file}: ${(err as Error).message}`, { where: { file } });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const line = jsonErrorLine(text);
    // V8 quotes the text around an unexpected token, line breaks and all: the line says where.
    const why = (err as Error).message.replace(/^(Unexpected token '[\s\S]*?'), [\s\S]*is not valid JSON$/, '$1');
    throw new BadInputError(`${PROJECT_CONFIG_FILE} is not valid JSON: ${why}`, { where: { file, ...(line ? { line } : {}) } });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadInputError(`${PROJECT_CONFIG_FILE} must hold a JSON object, e.g. {"allowContexts": ["staging-*"]}`, { where: { file } });
  }
  const allow = (value as { allowContexts?: unknown }).allowContexts;
  if (allow !== undefined && !(Array.isArray(allow) && allow.every((c) => typeof c === 'string' && c.length > 0))) {
    throw new BadInputError(`"allowContexts" in ${PROJECT_CONFIG_FILE} must be a list of context names (or globs with *)`, { where: { file } });
  }
  const commands = (value as { nodeCommands?: unknown }).nodeCommands as { stop?: unknown; start?: unknown } | undefined;
  if (commands !== undefined && !(typeof commands === 'object' && commands !== null && typeof commands.stop === 'string' && typeof commands.start === 'string' && commands.stop.includes('{node}') && commands.start.includes('{node}'))) {
    throw new BadInputError(`"nodeCommands" in ${PROJECT_CONFIG_FILE} must be {"stop": "…{node}…", "start": "…{node}…"}`, { where: { file } });
  }
  return { allowContexts: (allow as string[] | undefined) ?? [], ...(commands ? { nodeCommands: { stop: commands.stop as string, start: commands.start as string } } : {}) };
}
