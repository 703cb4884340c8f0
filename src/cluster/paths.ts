/**
 * Where kubeproof keeps what it builds and the clusters it runs: a leaf module every part of
 * src/cluster may import (it imports nothing of theirs).
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** $KUBEPROOF_CACHE, else $XDG_CACHE_HOME/kubeproof, else ~/.cache/kubeproof. */
export function cacheRoot(): string {
  const own = process.env.KUBEPROOF_CACHE;
  if (own) return resolve(own);
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'kubeproof');
  return join(homedir(), '.cache', 'kubeproof');
}

export const DEFAULT_CLUSTER_NAME = 'kubeproof';

/** Where kwokctl keeps every local cluster: KWOK_WORKDIR. */
export function kwokWorkdir(): string {
  return join(cacheRoot(), 'kwok');
}

/** A local cluster's directory: kwokctl's config, pids and logs, and kubeproof's own records. */
export function clusterDir(name: string): string {
  return join(kwokWorkdir(), 'clusters', name);
}

export function kubeconfigPathOf(name: string): string {
  return join(clusterDir(name), 'kubeconfig.yaml');
}
