/**
 * Container kill: a container's main process dies (SIGKILL, as the OOM killer or a crash
 * ends it). The pod stays; the kubelet sees the exit and restarts the container by the pod's
 * restartPolicy, counting it in restartCount, and a container that dies again soon after
 * waits in CrashLoopBackOff (10 s, doubling) before its next start.
 *
 * Mechanism: the local cluster's real node — the task is killed through the node's own
 * containerd (`ctr tasks kill --signal SIGKILL <container id>` on its socket under the
 * cluster's dir). Nothing is undone: restarting is the kubelet's job, and what is asserted.
 * KWOK pods have no process; other clusters give kubeproof no way into their runtime: the
 * scenario is not applicable there.
 */
import type { Scenario } from '../scenario/scenario.js';
import { BadInputError } from '../errors.js';
import { NotApplicable } from '../not-applicable.js';
import type { Pod } from '../kube/types.js';
import { ctr } from '../cluster/real-node/containerd.js';
import { realNodeLayout } from '../cluster/real-node/layout.js';
import { podReady } from '../timeline/timeline.js';
import { until } from '../expect/until.js';
import { describeWorkload, podsOf, type WorkloadRef } from '../workload/pods.js';
import { injectFault } from './fault.js';
import { choose, newSeed } from './random.js';
import type { HowMany } from './pod-kill.js';

export interface ContainerKill {
  pod: string;
  uid: string;
  container: string;
  /** restartCount of the container before the first kill. */
  restartsBefore: number;
  /** Epoch ms of each kill. */
  kills: number[];
  /** The container's status at each pod watch event since the first kill. */
  seen: Array<{ at: number; restarts: number; running: boolean; waiting?: string }>;
}

function containerStatus(p: Pod | undefined, container: string) {
  return p?.status?.containerStatuses?.find((c) => c.name === container);
}

/** The id containerd knows the running container by ("containerd://<id>" in the pod's status). */
function containerId(p: Pod, container: string): string {
  const id = containerStatus(p, container)?.containerID ?? '';
  const m = /^containerd:\/\/([0-9a-f]+)$/.exec(id);
  if (!m) throw new Error(`container ${container} of pod ${p.metadata?.name} has no containerd id (status: "${id || 'none'}")`);
  return m[1]!;
}

async function killTask(s: Scenario, p: Pod, container: string): Promise<void> {
  const id = containerId(p, container);
  const r = await ctr(realNodeLayout(s.cluster.name), ['tasks', 'kill', '--signal', 'SIGKILL', id]);
  if (r.exitCode !== 0) throw new Error(`ctr tasks kill ${id.slice(0, 12)} (container ${container} of pod ${p.metadata?.name}) failed: ${(r.all ?? '').trim()}`);
}

function assertKillable(s: Scenario, pods: Pod[]): void {
  const notReal = pods.filter((p) => !s.cluster.capabilities.realNodes.includes(p.spec?.nodeName ?? ''));
  if (s.cluster.kind !== 'local' || notReal.length) {
    throw new NotApplicable(
      `killing a container's process needs the node's container runtime, which kubeproof reaches only on a local cluster's real node; ${notReal.map((p) => `${p.metadata?.name} runs on ${p.spec?.nodeName ?? '?'}`).join(', ') || `this is a ${s.cluster.kind} cluster`} (run with --real-nodes 1 and schedule the workload on kubeproof.io/node-type=real)`,
    );
  }
}

/** Kill the first container of some Ready pods of a workload (seeded choice). */
export async function killContainers(s: Scenario, w: WorkloadRef, howMany: HowMany, seed = newSeed()): Promise<void> {
  const pods = podsOf(s.timeline, { workload: w });
  if (!pods) throw new BadInputError(`${describeWorkload(w)} does not exist in namespace ${s.namespace}`);
  const ready = pods.filter((p) => podReady(p));
  const n = 'count' in howMany ? howMany.count : Math.max(1, Math.ceil((howMany.percent / 100) * ready.length));
  if (n > ready.length) throw new Error(`cannot kill the containers of ${n} pod(s) of ${describeWorkload(w)}: only ${ready.length} Ready`);
  const victims = choose(ready, n, seed);
  if (s.planOnly) {
    s.plans.push(`kill the container process of ${n} of ${ready.length} Ready pod(s) of ${describeWorkload(w)}: ${victims.map((p) => p.metadata?.name).join(', ')} (seed ${seed}); the kubelet restarts them in place`);
    return;
  }
  assertKillable(s, victims);
  for (const p of victims) {
    const container = p.spec!.containers[0]!.name;
    const kill: ContainerKill = { pod: p.metadata!.name!, uid: p.metadata!.uid!, container, restartsBefore: containerStatus(p, container)?.restartCount ?? 0, kills: [], seen: [] };
    const off = s.timeline.pods.on((c) => {
      if (c.object.metadata?.uid !== kill.uid) return;
      const st = containerStatus(c.object, container);
      kill.seen.push({ at: c.at, restarts: (st?.restartCount ?? 0) - kill.restartsBefore, running: Boolean(st?.state?.running), ...(st?.state?.waiting?.reason ? { waiting: st.state.waiting.reason } : {}) });
    });
    s.onCleanup(`stop watching container ${container} of pod ${kill.pod}`, async () => void off());
    await killOnce(s, kill, p, seed);
    s.containerKills.push(kill);
  }
}

async function killOnce(s: Scenario, kill: ContainerKill, p: Pod, seed?: number): Promise<void> {
  const injected = await injectFault(
    s,
    { fault: 'kill container', target: { kind: 'Pod', name: kill.pod, namespace: s.namespace }, detail: `SIGKILL to container ${kill.container} (kill ${kill.kills.length + 1})${seed !== undefined ? ` (seed ${seed})` : ''}; the kubelet restarts it` },
    () => killTask(s, p, kill.container),
  );
  kill.kills.push(injected.at);
}

/** Kill each killed container again as soon as the kubelet has restarted it (so its next exit falls in the back-off window). */
export async function killAgainOnceRestarted(s: Scenario, withinMs = 30_000): Promise<void> {
  if (s.planOnly) {
    s.plans.push('kill the restarted container(s) again as soon as they run');
    return;
  }
  if (s.containerKills.length === 0) throw new BadInputError('no container was killed in this scenario');
  for (const kill of s.containerKills) {
    await until(restartedCondition(s, kill), { within: withinMs });
    await killOnce(s, kill, s.timeline.pods.get(kill.pod, s.namespace)!);
  }
}

/** The pod is the same one (not replaced), its container counted every kill as a restart and runs again. */
export function restartedCondition(s: Scenario, kill: ContainerKill) {
  const tl = s.timeline;
  return {
    description: `container ${kill.container} of pod ${kill.pod} restarted in place ${kill.kills.length} time(s) and running`,
    sources: [tl.pods],
    evaluate: () => {
      const p = tl.pods.get(kill.pod, s.namespace);
      const c = containerStatus(p, kill.container);
      const restarts = (c?.restartCount ?? 0) - kill.restartsBefore;
      const state = c?.state?.running ? 'running' : c?.state?.waiting ? `waiting (${c.state.waiting.reason})` : c?.state?.terminated ? `terminated (${c.state.terminated.reason})` : 'unknown';
      if (!p || p.metadata?.uid !== kill.uid) return { ok: false, observed: `pod ${kill.pod} ${p ? 'was replaced' : 'is gone'}` };
      return { ok: restarts >= kill.kills.length && Boolean(c?.state?.running), observed: `restartCount +${restarts}, ${state}` };
    },
  };
}

export interface RestartFigures {
  pod: string;
  container: string;
  /** Per kill: ms from the kill to the watch event showing the container running again. */
  delaysMs: number[];
  /** Waiting reasons the pod's status showed for the container after the kills (e.g. CrashLoopBackOff). */
  waitingReasons: string[];
}

/** What the pod watch saw after each kill: restart delays and waiting reasons. */
export function restartFigures(s: Scenario, kill: ContainerKill): RestartFigures {
  const delaysMs: number[] = [];
  const reasons = new Set<string>();
  kill.kills.forEach((at, i) => {
    const running = kill.seen.find((e) => e.at >= at && e.restarts >= i + 1 && e.running);
    if (running) delaysMs.push(Math.round(running.at - at));
  });
  for (const e of kill.seen) if (e.waiting) reasons.add(e.waiting);
  return { pod: kill.pod, container: kill.container, delaysMs, waitingReasons: [...reasons] };
}
