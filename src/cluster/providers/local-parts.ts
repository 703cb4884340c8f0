/**
 * The local cluster's parts. KWOK nodes go silent when they lose the label kwok manages them
 * by (its heartbeats stop) and report NotReady through kwok's node-not-ready stage; the real
 * node (kubelet + containerd beside them) goes silent when its kubelet process stops, its
 * containers die through its own containerd, and its kube-proxy routes ClusterIPs on this
 * machine, so Services are reached by HTTP from here when every pod behind them is real.
 * The kubelet's undo op is registered here, where it is made.
 */
import type { Node, Pod, Service } from '../../kube/types.js';
import { registerUndo } from '../../ledger/undo-ops.js';
import { RUN_LABEL } from '../../ledger/record.js';
import { appSwitchBreaker, neverReadyPatch, stageLabelBreaker } from '../readiness.js';
import { LOAD_WRITTEN_ANNOTATION, USAGE_CPU_ANNOTATION } from '../usage.js';
import { installHint, realNodeRequirements } from '../real-node/host.js';
import { realNodeHolder } from '../real-node/teardown.js';
import { createNodes } from './kwok-nodes.js';
import { ctr, importImage } from '../real-node/containerd.js';
import { daemonPid } from '../real-node/daemon.js';
import { EnvironmentError } from '../../errors.js';
import { freezeKubelet, kubeletPid, restartKubelet, stopKubelet, thawKubelet } from '../real-node/kubelet.js';
import { realNodeLayout } from '../real-node/layout.js';
import { KWOK_NODE_LABEL, NOT_READY_STAGE_LABEL } from '../nodes.js';
import { isRefusal, type ClusterParts, type ExplainedRefusal, type LoadMechanism, type NodeStopMechanism, type NodeStopMode, type Refusal } from './provider.js';
import { noRealNodeReason } from '../advice.js';
import { clusterIpUrl, type TrafficContext, type TrafficPlan } from '../../traffic/stream.js';
import { InProcessTraffic } from '../../traffic/in-process.js';

declare module '../../ledger/undo-ops.js' {
  interface UndoOps {
    /** The fault stopped the kubelet of a local cluster's real node: start it again with its recorded command line. */
    'start-kubelet': { cluster: string };
    /** The fault froze (SIGSTOP) the kubelet of a local cluster's real node: SIGCONT (started again if it is gone). */
    'thaw-kubelet': { cluster: string };
    /** A scenario added this KWOK node (labelled with its run): delete it, its pods first. */
    'delete-node': Record<never, never>;
  }
}

/**
 * A node a scenario added goes, with its pods first and at once: once the node is gone kwok no
 * longer finishes their deletion, and they would hold their namespace in Terminating until the
 * pod garbage collector's quarantine ends. Only a node carrying the record's run label: a node
 * of that name made by anyone else is left alone.
 */
registerUndo('delete-node', async ({ kube, rec, what }) => {
  const node = await kube.find<Node>('Node', rec.target.name);
  if (!node) return { status: 'already', detail: `${what} no longer exists` };
  if (node.metadata?.labels?.[RUN_LABEL] !== rec.runId) return { status: 'conflict', detail: `${what} is not the node run ${rec.runId} added (its ${RUN_LABEL} label is ${JSON.stringify(node.metadata?.labels?.[RUN_LABEL] ?? null)}); left as it is` };
  const pods = await kube.list<Pod>('Pod', { fieldSelector: `spec.nodeName=${rec.target.name}` });
  await Promise.all(pods.items.map((p) => kube.delete('Pod', p.metadata!.name!, p.metadata!.namespace, { gracePeriodSeconds: 0 }).catch(() => undefined)));
  await kube.delete('Node', rec.target.name, undefined, { preconditions: { uid: node.metadata!.uid! } });
  return { status: 'reverted', detail: `deleted ${what} (and ${pods.items.length} pod(s) on it)` };
});

/** Why the local cluster has no real node, with the fix for that cause (the packages this machine lacks and the command that installs them first). */
export async function noRealNodeReasonOf(cluster: string): Promise<string> {
  const missing = (await realNodeRequirements()).filter((r) => !r.ok);
  return noRealNodeReason(cluster, { missing, install: installHint(missing) }, await realNodeHolder(cluster));
}

registerUndo('start-kubelet', async ({ undo, what, onCurrent }) => {
  const r = await restartKubelet(undo.cluster);
  await onCurrent(() => ({ outcome: { status: 'reverted', detail: '' } }));
  return r.started ? { status: 'reverted', detail: `started the kubelet of ${what} again (pid ${r.pid})` } : { status: 'already', detail: `the kubelet of ${what} was already running (pid ${r.pid})` };
});

registerUndo('thaw-kubelet', async ({ undo, what, onCurrent }) => {
  const r = await thawKubelet(undo.cluster);
  await onCurrent(() => ({ outcome: { status: 'reverted', detail: '' } }));
  if (r.how === 'running') return { status: 'already', detail: `the kubelet of ${what} was not frozen (pid ${r.pid})` };
  return { status: 'reverted', detail: r.how === 'thawed' ? `thawed the kubelet of ${what} (SIGCONT to pid ${r.pid})` : `the kubelet of ${what} was gone: started it again (pid ${r.pid})` };
});

/** The real node frozen as far as this machine can freeze it: its kubelet process stopped by SIGSTOP (its containers keep running, unlike a paused machine's). */
function kubeletFreeze(cluster: string, node: string): NodeStopMechanism {
  return {
    phase: 'kubelet frozen',
    how: 'freeze its kubelet process (SIGSTOP)',
    silent: true,
    undo: { op: 'thaw-kubelet', cluster },
    async stop(kube, annotations) {
      await kube.mergePatch('Node', node, undefined, { metadata: { annotations } });
      const pid = await freezeKubelet(cluster);
      return `kubelet (pid ${pid}) frozen by SIGSTOP: heartbeats stop, its connections stay open, containers keep running`;
    },
  };
}

function explained(refused: string, explain: () => Promise<string>): ExplainedRefusal {
  return { refused, explain };
}

export interface LocalClusterDescription {
  name: string;
  realNodes: string[];
}

function labelStop(node: string, key: string, after: string | null, how: string, phase: string, silent: boolean, before: string | null): NodeStopMechanism {
  return {
    phase,
    how,
    silent,
    undo: { op: 'restore-label', key, before, after },
    async stop(kube, annotations) {
      await kube.mergePatch('Node', node, undefined, { metadata: { labels: { [key]: after }, annotations } });
      return after === null ? `label ${key} removed: kwok stops renewing its Lease` : `label ${key}=${after}: kwok's stage reports NotReady`;
    },
  };
}

function kubeletStop(cluster: string, node: string): NodeStopMechanism {
  return {
    phase: 'kubelet stopped',
    how: 'stop its kubelet process',
    silent: true,
    undo: { op: 'start-kubelet', cluster },
    async stop(kube, annotations) {
      const pid = await kubeletPid(cluster);
      if (!pid) throw new Error(`the kubelet of node ${node} (cluster ${cluster}) is not running`);
      await kube.mergePatch('Node', node, undefined, { metadata: { annotations } });
      const how = await stopKubelet(cluster);
      return `kubelet (pid ${pid}) ${how}: heartbeats stop, containers keep running`;
    },
  };
}

export function localParts(c: LocalClusterDescription): ClusterParts {
  const isReal = (node: string) => c.realNodes.includes(node);
  const kwokManaged = (n: Node) => n.metadata?.labels?.[KWOK_NODE_LABEL] === 'fake';
  return {
    nodeControl: {
      mechanism(mode: NodeStopMode, n: Node): NodeStopMechanism | Refusal {
        const node = n.metadata!.name!;
        const labels = n.metadata?.labels ?? {};
        switch (mode) {
          case 'silent':
            if (isReal(node)) return kubeletStop(c.name, node);
            if (!kwokManaged(n)) return { refused: `node ${node} is not a KWOK node kubeproof manages` };
            return labelStop(node, KWOK_NODE_LABEL, null, 'stop its heartbeats', 'heartbeats stopped', true, labels[KWOK_NODE_LABEL] ?? null);
          case 'not-ready':
            if (isReal(node) || !kwokManaged(n)) return { refused: `a node that reports NotReady while up needs a KWOK node; ${node} is ${isReal(node) ? 'a real node' : 'not managed by kwok'}` };
            return labelStop(node, NOT_READY_STAGE_LABEL, 'true', 'report NotReady', 'NotReady reported', false, labels[NOT_READY_STAGE_LABEL] ?? null);
          case 'kubelet':
            if (!isReal(node)) return { refused: `node ${node} is not a real node of this cluster (real nodes: ${c.realNodes.join(', ') || 'none'}): it has no kubelet process to stop` };
            return kubeletStop(c.name, node);
          case 'freeze':
            if (isReal(node)) return kubeletFreeze(c.name, node);
            return { refused: `freezing node ${node} needs a real node (a KWOK node has no process to freeze): the local cluster freezes its real node's kubelet` };
        }
      },
    },
    containerRuntime: c.realNodes.length
      ? {
          refuse: (p: Pod) => (isReal(p.spec?.nodeName ?? '') ? undefined : `${p.metadata?.name} runs on ${p.spec?.nodeName ?? '?'}, a KWOK node (no process runs there)`),
          async kill(p: Pod, container: string, id: string) {
            const r = await ctr(realNodeLayout(c.name), ['tasks', 'kill', '--signal', 'SIGKILL', id]);
            if (r.exitCode !== 0) throw new Error(`ctr tasks kill ${id.slice(0, 12)} (container ${container} of pod ${p.metadata?.name}) failed: ${(r.all ?? '').trim()}`);
          },
        }
      : explained(`the local cluster "${c.name}" has no real node, only KWOK nodes where no process runs`, async () => `the local cluster "${c.name}" has no real node, only KWOK nodes where no process runs: it ${(await noRealNodeReasonOf(c.name)).replace(/^needs a real node/, 'needs one')}`),
    serviceTraffic: c.realNodes.length
      ? {
          from: 'from this machine (the real node\'s kube-proxy routes ClusterIPs here)',
          open(_ctx: TrafficContext, svc: Service, pods: Pod[], plan: TrafficPlan) {
            const url = clusterIpUrl(svc, plan.path);
            if (isRefusal(url)) return url;
            if (pods.length === 0) return { refused: `service ${svc.metadata?.name} has no Ready pod behind it` };
            const simulated = pods.filter((p) => !isReal(p.spec?.nodeName ?? ''));
            if (simulated.length) return { refused: `pods behind service ${svc.metadata?.name} run on KWOK nodes (${simulated.map((p) => p.metadata?.name).join(', ')}), which answer no request` };
            return new InProcessTraffic(url, plan);
          },
        }
      : { refused: `HTTP to a Service needs real pods behind it, and the local cluster "${c.name}" has no real node` },
    imageLoader: c.realNodes.length
      ? {
          async load(tarball: string, name?: string) {
            const l = realNodeLayout(c.name);
            if (!(await daemonPid(l.pids, 'containerd'))) throw new EnvironmentError(`the real node's containerd of cluster "${c.name}" is not running`, { hint: `kubeproof cluster down --name ${c.name}, then cluster up --real-nodes 1` });
            const loaded = await importImage(l, tarball, { indexName: name });
            return [...new Set([...loaded, ...(name ? [name] : [])])];
          },
        }
      : { refused: `the local cluster "${c.name}" has no real node to load images into (KWOK pods run no image)` },
    // A KWOK pod's readiness is its stage's (the label); a real node's pods run real probes, which only the test app can fail.
    readiness: {
      breaker: (p: Pod) => (isReal(p.spec?.nodeName ?? '') ? appSwitchBreaker(p) : stageLabelBreaker(p)),
      neverReady: (d) => neverReadyPatch(d, true),
    },
    // KWOK pods use the CPU their annotation says (kwok's usage-from-annotation, served by
    // metrics-server); pods on the real node use real CPU, which only real work changes.
    load: {
      mechanism(pods: Pod[]): LoadMechanism | Refusal {
        const onReal = pods.filter((p) => isReal(p.spec?.nodeName ?? ''));
        if (onReal.length && onReal.length === pods.length) return { via: 'service-http', how: 'as real work: HTTP GET /burn through its Service' };
        if (onReal.length) return { refused: `the load mixes pods with real containers (${onReal.map((p) => `${p.metadata?.name} on ${p.spec?.nodeName}`).join(', ')}) and simulated ones: schedule it on one kind of node` };
        return {
          via: 'usage-annotation',
          how: `spread over its Ready pods (${USAGE_CPU_ANNOTATION})`,
          annotation: USAGE_CPU_ANNOTATION,
          written: LOAD_WRITTEN_ANNOTATION,
          undo: (idle, selector) => ({ op: 'idle-usage', annotation: USAGE_CPU_ANNOTATION, written: LOAD_WRITTEN_ANNOTATION, idle, selector }),
        };
      },
    },
    nodeSupply: {
      undo: { op: 'delete-node' },
      add: (kube, specs) => createNodes(kube, specs, () => undefined),
    },
    realNode: { whyNone: () => noRealNodeReasonOf(c.name) },
  };
}
