/**
 * A node goes down. How is the cluster's business: the fault asks the cluster's node control
 * for a mechanism for this mode and node (a KWOK node's heartbeats stop when it loses kwok's
 * label, or it reports NotReady through kwok's stage; a real kubelet is stopped; a kind node's
 * container is stopped or paused; an existing cluster's configured command runs). The
 * mechanism's undo goes into the ledger before it acts; the revert brings the node back, and
 * the scenario waits until the node is Ready without not-ready/unreachable taints.
 */
import type { Scenario } from '../scenario/scenario.js';
import { Slot } from '../scenario/slot.js';
import { NotApplicable } from '../not-applicable.js';
import { injectFault, unlessPlanning } from './fault.js';
import type { Node } from '../kube/types.js';
import { BadInputError } from '../errors.js';
import { firstAfter, type Phase } from '../timeline/queries.js';
import { podReady } from '../timeline/timeline.js';
import { until } from '../wait/until.js';
import { isRefusal, reasonOf, type NodeStopMechanism, type NodeStopMode } from '../cluster/providers/provider.js';
import type { UndoOutcome } from '../ledger/undo-ops.js';
import { heartbeatOf } from '../ledger/heartbeat.js';

/** The steps' words for the modes: "stops sending heartbeats" is a node gone silent. */
export type NodeDownMode = 'heartbeats' | 'not-ready' | 'kubelet' | 'freeze';

const MODES: Record<NodeDownMode, NodeStopMode> = { heartbeats: 'silent', 'not-ready': 'not-ready', kubelet: 'kubelet', freeze: 'freeze' };

export interface NodeDown {
  node: string;
  mode: NodeDownMode;
  /** Ready → Unknown (nothing reports) rather than Ready → False. */
  silent: boolean;
  /** The mechanism's name of the first phase ("heartbeats stopped", "node stopped"). */
  phase: string;
  at: number;
  /** Pods of the scenario on the node when it went down. */
  pods: string[];
  readyBefore: number;
  /** The fault's revert (the one the scenario's end runs), for a step that brings the node back early. */
  revert?: () => Promise<UndoOutcome>;
  broughtBackAt?: number;
}

/** Nodes this scenario took down, by name. */
export const NODE_DOWNS = new Slot('node downs', () => new Map<string, NodeDown>());

export function nodeDownOf(s: Scenario, node: string): NodeDown | undefined {
  return s.state(NODE_DOWNS).get(node);
}

interface NodeDownPlan {
  node: string;
  mode: NodeDownMode;
  mechanism: NodeStopMechanism;
  pods: string[];
  readyBefore: number;
  /** The node's heartbeat (Lease renewTime) before it goes down; its undo waits for the next one. None where it has no Lease. */
  heartbeat?: string;
}

async function planNodeDown(s: Scenario, node: string, mode: NodeDownMode): Promise<NodeDownPlan> {
  const n = await s.kube.find<Node>('Node', node);
  if (!n) throw new BadInputError(`node "${node}" does not exist`);
  const mechanism = s.parts.nodeControl.mechanism(MODES[mode], n);
  if (isRefusal(mechanism)) throw new NotApplicable(await reasonOf(mechanism));
  const live = s.timeline.pods.list().filter((p) => !p.metadata?.deletionTimestamp);
  const heartbeat = await heartbeatOf(s.kube, node);
  return { node, mode, mechanism, pods: live.filter((p) => p.spec?.nodeName === node).map((p) => p.metadata!.name!), readyBefore: live.filter((p) => podReady(p)).length, ...(heartbeat !== undefined ? { heartbeat } : {}) };
}

function describePlan(s: Scenario, p: NodeDownPlan): string {
  const t = s.cluster.timings;
  const silent = p.mechanism.silent;
  return [
    `take node ${p.node} down (${p.mechanism.how}): ${p.pods.length} pod(s) of this scenario on it`,
    `  expected: Ready → ${silent ? 'Unknown' : 'False'} after ~${silent ? t.nodeMonitorGracePeriodSeconds : 1} s, pods evicted ~${silent ? t.defaultUnreachableTolerationSeconds : t.defaultNotReadyTolerationSeconds} s later`,
    ...p.pods.map((name) => `  ${name} would be replaced elsewhere`),
  ].join('\n');
}

/** Take a node down (in plan mode: print what would follow, change nothing). */
export async function nodeDown(s: Scenario, node: string, mode: NodeDownMode): Promise<void> {
  await injectFault(s, planNodeDown(s, node, mode), (p) => describePlan(s, p), async (p, inject) => {
    const m = p.mechanism;
    const injected = await inject({ fault: 'stop node', target: { kind: 'Node', name: node }, undo: m.undo, ...(p.heartbeat !== undefined ? { awaitHeartbeat: p.heartbeat } : {}), detail: m.how, recovered: () => nodeBack(s, node) }, async ({ annotations }) => {
      const detail = await m.stop(s.kube, annotations);
      s.timeline.mark('stop node', `node/${node}: ${detail}`);
    });
    s.state(NODE_DOWNS).set(node, { node, mode, silent: m.silent, phase: m.phase, at: injected.at, pods: p.pods, readyBefore: p.readyBefore, ...(injected.revert ? { revert: injected.revert } : {}) });
  });
}

/**
 * Undo a node's failure now rather than at the scenario's end (the same revert: the container
 * started or unpaused, the kubelet started or thawed, the label back), then wait until the node
 * is Ready without not-ready/unreachable taints.
 */
export async function bringNodeBack(s: Scenario, node: string): Promise<void> {
  await unlessPlanning(s, () => `bring node ${node} back`, async () => {
    const down = nodeDownOf(s, node);
    if (!down) throw new BadInputError(`node "${node}" was not taken down in this scenario`);
    if (!down.revert) throw new Error(`node ${node}'s failure has no recorded undo to run`);
    const outcome = await down.revert();
    if (outcome.status === 'failed' || outcome.status === 'conflict') throw new Error(`bringing node ${node} back failed: ${outcome.detail}`);
    down.broughtBackAt = s.timeline.mark('node back', `node/${node}: ${outcome.detail}`).at;
  });
}

/** The phases of a node failure as the watches saw them, for the report. */
export function nodeFailurePhases(s: Scenario, down: NodeDown): Phase[] {
  const tl = s.timeline;
  const phases: Phase[] = [{ name: down.phase, at: down.at, afterMs: 0 }];
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
