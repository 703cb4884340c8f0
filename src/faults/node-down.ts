/**
 * A node goes down. On the local cluster: its heartbeats stop (kwok stops renewing its Lease
 * once the node loses kwok's label), and the real node-lifecycle controller notices, marks
 * it Unknown, taints it and evicts its pods; or, second mode, the node reports NotReady
 * through kwok's node-not-ready stage (a kubelet that is up but unhealthy). A local cluster's
 * real node: its kubelet process is stopped (its containers keep running under containerd, as
 * on a machine whose kubelet died), so heartbeats really stop; the undo, in the ledger first,
 * starts it again with the command line recorded at `cluster up` (src/cluster/kubelet.ts), from
 * this run or from `kubeproof clean`. On kind: the node's container is stopped. Revert brings
 * the heartbeats (or the kubelet, or the container) back.
 */
import type { Scenario } from '../scenario/scenario.js';
import { KWOK_NODE_LABEL } from '../cluster/nodes.js';
import { NotApplicable } from '../not-applicable.js';
import { injectFault } from './fault.js';
import type { Node } from '../kube/types.js';
import { BadInputError, EnvironmentError } from '../errors.js';
import { execa } from 'execa';
import { firstAfter, type Phase } from '../timeline/queries.js';
import { podReady } from '../timeline/timeline.js';
import { until } from '../expect/until.js';
import { kubeletPid, stopKubelet } from '../cluster/real-node/kubelet.js';

export const NOT_READY_STAGE_LABEL = 'node-not-ready.stage.kwok.x-k8s.io';

export type NodeDownMode = 'heartbeats' | 'not-ready' | 'kubelet' | 'command';

export interface NodeDown {
  node: string;
  mode: NodeDownMode;
  at: number;
  /** Pods of the scenario on the node when it went down. */
  pods: string[];
  readyBefore: number;
}

export function planNodeDown(s: Scenario, node: string, mode: NodeDownMode): string {
  const pods = s.timeline.pods.list().filter((p) => p.spec?.nodeName === node && !p.metadata?.deletionTimestamp);
  const t = s.cluster.timings;
  const silent = mode !== 'not-ready';
  return [
    `take node ${node} down (${mode === 'heartbeats' ? 'stop its heartbeats' : mode === 'kubelet' ? 'stop its kubelet process' : mode === 'command' ? 'run its stop command' : 'report NotReady'}): ${pods.length} pod(s) of this scenario on it`,
    `  expected: Ready → ${silent ? 'Unknown' : 'False'} after ~${silent ? t.nodeMonitorGracePeriodSeconds : 1} s, pods evicted ~${silent ? t.defaultUnreachableTolerationSeconds : t.defaultNotReadyTolerationSeconds} s later`,
    ...pods.map((p) => `  ${p.metadata?.name} would be replaced elsewhere`),
  ].join('\n');
}

export async function takeNodeDown(s: Scenario, node: string, mode: NodeDownMode): Promise<NodeDown> {
  if (!s.cluster.capabilities.canStopNode) {
    throw new NotApplicable(
      `the ${s.cluster.kind} cluster gives kubeproof no way to stop a node${s.cluster.kind === 'existing' ? ' (configure "nodeCommands" {"stop", "start"} in kubeproof.config.json)' : ''}`,
    );
  }
  const n = await s.kube.find<Node>('Node', node);
  if (!n) throw new BadInputError(`node "${node}" does not exist`);
  if (s.cluster.kind !== 'local') {
    if (mode === 'not-ready') throw new NotApplicable(`a node that reports NotReady while up needs KWOK nodes (the local cluster); this run uses ${s.cluster.kind}`);
    return stopNodeByCommand(s, node);
  }
  if (mode === 'kubelet') return stopNodeKubelet(s, node);
  const key = mode === 'heartbeats' ? KWOK_NODE_LABEL : NOT_READY_STAGE_LABEL;
  const before = n.metadata?.labels?.[key] ?? null;
  const after = mode === 'heartbeats' ? null : 'true';
  if (mode === 'heartbeats' && before !== 'fake') throw new NotApplicable(`node ${node} is not a KWOK node kubeproof manages`);
  const pods = s.timeline.pods.list().filter((p) => p.spec?.nodeName === node && !p.metadata?.deletionTimestamp);
  const readyBefore = s.timeline.pods.list().filter((p) => podReady(p) && !p.metadata?.deletionTimestamp).length;
  const injected = await injectFault(
    s,
    { fault: 'stop node', target: { kind: 'Node', name: node }, undo: { op: 'restore-label', key, before, after }, detail: mode === 'heartbeats' ? 'heartbeats stopped' : 'reports NotReady', recovered: () => nodeBack(s, node) },
    async ({ annotations }) => {
      await s.kube.mergePatch('Node', node, undefined, { metadata: { labels: { [key]: after }, annotations } });
    },
  );
  return { node, mode, at: injected.at, pods: pods.map((p) => p.metadata!.name!), readyBefore };
}

/** Stop a real node's kubelet process; the undo (start it again) is recorded first. */
async function stopNodeKubelet(s: Scenario, node: string): Promise<NodeDown> {
  if (!s.cluster.capabilities.realNodes.includes(node)) throw new NotApplicable(`node ${node} is not a real node of this cluster (real nodes: ${s.cluster.capabilities.realNodes.join(', ') || 'none'}): it has no kubelet process to stop`);
  const pid = await kubeletPid(s.cluster.name);
  if (!pid) throw new Error(`the kubelet of node ${node} (cluster ${s.cluster.name}) is not running`);
  const pods = s.timeline.pods.list().filter((p) => p.spec?.nodeName === node && !p.metadata?.deletionTimestamp);
  const readyBefore = s.timeline.pods.list().filter((p) => podReady(p) && !p.metadata?.deletionTimestamp).length;
  const injected = await injectFault(
    s,
    { fault: 'stop node', target: { kind: 'Node', name: node }, undo: { op: 'start-kubelet', cluster: s.cluster.name }, detail: `kubelet (pid ${pid}) stopped: heartbeats stop, containers keep running`, recovered: () => nodeBack(s, node) },
    async ({ annotations }) => {
      await s.kube.mergePatch('Node', node, undefined, { metadata: { annotations } });
      const how = await stopKubelet(s.cluster.name);
      s.timeline.mark('stop node', `node/${node}: kubelet ${how}`);
    },
  );
  return { node, mode: 'kubelet', at: injected.at, pods: pods.map((p) => p.metadata!.name!), readyBefore };
}

/** kind, existing: the cluster's own stop command (docker stop, or the configured one); its start command is the undo. */
async function stopNodeByCommand(s: Scenario, node: string): Promise<NodeDown> {
  const commands = s.cluster.nodeCommands;
  if (!commands) throw new NotApplicable(`the ${s.cluster.kind} cluster has no command to stop a node`);
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(node)) throw new BadInputError(`"${node}" is not a valid node name`);
  const fill = (argv: string[]) => argv.map((a) => a.replaceAll('{node}', node));
  const [stop, start] = [fill(commands.stop), fill(commands.start)];
  const pods = s.timeline.pods.list().filter((p) => p.spec?.nodeName === node && !p.metadata?.deletionTimestamp);
  const readyBefore = s.timeline.pods.list().filter((p) => podReady(p) && !p.metadata?.deletionTimestamp).length;
  const injected = await injectFault(
    s,
    { fault: 'stop node', target: { kind: 'Node', name: node }, undo: { op: 'run', command: start }, detail: `stopped with: ${stop.join(' ')}`, recovered: () => nodeBack(s, node) },
    async ({ annotations }) => {
      await s.kube.mergePatch('Node', node, undefined, { metadata: { annotations } });
      const r = await execa(stop[0]!, stop.slice(1), { reject: false, all: true, timeout: 120_000 });
      if (r.exitCode !== 0) throw new EnvironmentError(`stopping node ${node} failed: ${stop.join(' ')} exited ${r.exitCode ?? r.code}: ${String(r.all ?? '').trim().split('\n').slice(-5).join(' | ')}`);
    },
  );
  return { node, mode: 'command', at: injected.at, pods: pods.map((p) => p.metadata!.name!), readyBefore };
}

/** The phases of a node failure as the watches saw them, for the report. */
export function nodeFailurePhases(s: Scenario, down: NodeDown): Phase[] {
  const tl = s.timeline;
  const first = { heartbeats: 'heartbeats stopped', kubelet: 'kubelet stopped', command: 'node stopped', 'not-ready': 'NotReady reported' }[down.mode];
  const phases: Phase[] = [{ name: first, at: down.at, afterMs: 0 }];
  const add = (name: string, at: number | undefined) => {
    if (at !== undefined) phases.push({ name, at, afterMs: Math.round(at - down.at) });
  };
  add('node condition changed', firstAfter(tl, down.at, (e) => e.kind === 'Node' && e.name === down.node && /Ready=(Unknown|False)/.test(e.state))?.at);
  add('NoExecute taint added', firstAfter(tl, down.at, (e) => e.kind === 'Node' && e.name === down.node && /node\.kubernetes\.io\/(unreachable|not-ready):NoExecute/.test(e.state))?.at);
  add('first pod evicted', firstAfter(tl, down.at, (e) => e.kind === 'Pod' && down.pods.includes(e.name) && (e.type === 'deleted' || e.state.startsWith('Terminating')))?.at);
  // Replacements Ready: the scenario is back to as many Ready pods as before, none of them on the node.
  const ready = new Map<string, boolean>();
  let at: number | undefined;
  for (const e of tl.entries) {
    if (e.source !== 'watch' || e.kind !== 'Pod') continue;
    ready.set(e.name, e.type !== 'deleted' && e.figures?.available === 1 && e.node !== down.node);
    if (e.at >= down.at && [...ready.values()].filter(Boolean).length >= down.readyBefore) {
      at = e.at;
      break;
    }
  }
  add('replacements Ready', at);
  return phases;
}

/** Take a node down (in plan mode: print what would follow, change nothing). */
export async function nodeDown(s: Scenario, node: string, mode: NodeDownMode): Promise<void> {
  if (s.planOnly) {
    s.plans.push(planNodeDown(s, node, mode));
    return;
  }
  s.nodeDowns.set(node, await takeNodeDown(s, node, mode));
}

/** The node is Ready and the node-lifecycle controller has taken its not-ready/unreachable taints off. */
async function nodeBack(s: Scenario, node: string): Promise<void> {
  const tl = s.timeline;
  await until(
    {
      description: `node ${node} Ready again without not-ready/unreachable taints`,
      sources: [tl.nodes],
      evaluate: () => {
        const n = tl.nodes.get(node);
        const ready = n?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
        const taints = (n?.spec?.taints ?? []).filter((t) => /node\.kubernetes\.io\/(unreachable|not-ready)/.test(t.key));
        return { ok: ready === 'True' && taints.length === 0, observed: `Ready=${ready}, taints ${taints.map((t) => `${t.key}:${t.effect}`).join(',') || 'none'}` };
      },
    },
    { within: 60_000 },
  );
}
