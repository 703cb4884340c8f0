/**
 * Which provider gives a run its cluster, from the run's options: the one place that maps
 * `--cluster local|kind|existing` to a provider. A local cluster that is already running
 * (`--name`, or its kubeconfig given as an existing cluster's) is attached, not made.
 */
import type { Log } from '../../log.js';
import { LocalProvider, deleteLocalCluster, localClusterInfo, listLocalClusters } from './local.js';
import { KindProvider, deleteKindClusterByName } from './kind.js';
import { ExistingProvider } from './existing.js';
import type { Cluster, ClusterKind, ClusterUpOptions } from './provider.js';

export interface ClusterChoice {
  cluster: ClusterKind;
  name?: string;
  /** Names for a cluster the run makes, per provider. */
  defaultName: { local: string; kind: string };
  nodes?: number;
  zones?: string[];
  upstreamTimings?: boolean;
  /** kind's node image: see ClusterUpOptions.kindImage. */
  kindImage?: string;
  /** How many real nodes a new local cluster gets (asked only when one is made). */
  realNodes: () => Promise<number>;
  /** `--real-nodes` as given, and how many @real scenarios the run selected (a new kind cluster then gets a real-1 worker). */
  realNodesAsked?: number;
  realScenarios?: number;
  /** The kubeconfig, resolved against the run's directory, and as the user gave it. */
  kubeconfig?: string;
  kubeconfigAsGiven?: string;
  context?: string;
  nodeCommands?: { stop: string; start: string };
  /** Contexts an existing cluster may be reached through (checked before any request). */
  allowContexts: string[];
}

export async function clusterFor(o: ClusterChoice, log: Log): Promise<{ cluster: Cluster; made: boolean }> {
  const local = new LocalProvider();
  switch (o.cluster) {
    case 'local': {
      // A running local cluster of that name (kubeproof cluster up --name N) is used as it is, and left running.
      const existing = o.name ? await localClusterInfo(o.name) : undefined;
      if (existing) {
        log(`using the running local cluster "${o.name}" (left running at the end)`);
        return { cluster: await local.attach(o.name!, log), made: false };
      }
      const realNodes = await o.realNodes();
      return { cluster: await local.up({ name: o.name ?? o.defaultName.local, nodes: o.nodes, zones: o.zones, realNodes, upstreamTimings: o.upstreamTimings, log }), made: true };
    }
    case 'kind':
      // A running kind cluster of that name is used as it is, and left running.
      if (o.name && (await KindProvider.exists(o.name))) return { cluster: await new KindProvider().attach(o.name, log), made: false };
      // Every kind worker runs real containers; @real scenarios also name the local cluster's real-1 (labelled, tainted): kind makes it a worker of its own.
      return { cluster: await new KindProvider().up({ name: o.name ?? o.defaultName.kind, nodes: o.nodes, zones: o.zones, realNodes: o.realNodesAsked ?? (o.realScenarios ? 1 : 0), upstreamTimings: o.upstreamTimings, kindImage: o.kindImage, log }), made: true };
    case 'existing': {
      // A kubeconfig of one of kubeproof's own local clusters: that cluster, with its capabilities and timings.
      const path = o.kubeconfig;
      const own = path ? (await listLocalClusters()).find((c) => c.kubeconfigPath === path) : undefined;
      if (own && (!o.context || o.context === `kwok-${own.name}`)) {
        log(`${path} is kubeproof's local cluster "${own.name}": using it as a local cluster`);
        return { cluster: await local.attach(own.name, log), made: false };
      }
      // A kind cluster's context (kind-<name>, a cluster kind knows on this machine): that cluster, with its node faults.
      const kindName = o.context?.startsWith('kind-') ? o.context.slice('kind-'.length) : undefined;
      if (kindName && (await KindProvider.exists(kindName))) {
        log(`context ${o.context} is kind cluster "${kindName}" on this machine: using it as a kind cluster`);
        return { cluster: await new KindProvider().attach(kindName, log), made: false };
      }
      return { cluster: await new ExistingProvider({ kubeconfigPath: o.kubeconfigAsGiven, context: o.context, nodeCommands: o.nodeCommands, allowContexts: o.allowContexts }).up({ log }), made: false };
    }
  }
}

/** The kinds of cluster kubeproof makes (and so can bring up and down by name). */
export const MADE_CLUSTER_KINDS = ['local', 'kind'] as const;
export type MadeClusterKind = (typeof MADE_CLUSTER_KINDS)[number];

/** `kubeproof cluster up [--cluster local|kind]`. */
export async function clusterUpFor(kind: MadeClusterKind, opts: ClusterUpOptions): Promise<Cluster> {
  return kind === 'kind' ? new KindProvider().up(opts) : new LocalProvider().up(opts);
}

/** `kubeproof cluster down [--cluster local|kind]`. */
export async function clusterDownFor(kind: MadeClusterKind, name: string, opts: { keep?: boolean; log: Log }): Promise<void> {
  if (kind === 'kind') await deleteKindClusterByName(name, opts.log);
  else await deleteLocalCluster(name, { keep: opts.keep, log: opts.log });
}
