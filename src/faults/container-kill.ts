/**
 * Container kill: a container's main process dies (SIGKILL, as the OOM killer or a crash
 * ends it). The pod stays; the kubelet sees the exit and restarts the container by the pod's
 * restartPolicy, counting it in restartCount, and a container that dies again soon after
 * waits in CrashLoopBackOff (10 s, doubling) before its next start.
 *
 * Mechanism: the cluster's container runtime part — the task is killed through the node's own
 * containerd (a local cluster's real node: `ctr` on its socket under the cluster's dir; kind:
 * `ctr` inside the node's container). Nothing is undone: restarting is the kubelet's job, and
 * what is asserted. KWOK pods have no process, and existing clusters give kubeproof no way
 * into their runtime: the scenario is not applicable there.
 */
import type { Scenario } from '../scenario/scenario.js';
import { Slot } from '../scenario/slot.js';
import { BadInputError } from '../errors.js';
import { NotApplicable } from '../not-applicable.js';
import type { Pod } from '../kube/types.js';
import { isRefusal, reasonOf, type ContainerRuntime } from '../cluster/providers/provider.js';
import { podReady } from '../timeline/timeline.js';
import { until } from '../wait/until.js';
import { describeWorkload, podsOf, type WorkloadRef } from '../workload/pods.js';
import { injectFault, type Inject } from './fault.js';
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

/** Containers whose process this scenario killed. */
export const CONTAINER_KILLS = new Slot('container kills', (): ContainerKill[] => []);

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

async function runtimeFor(s: Scenario, pods: Pod[]): Promise<ContainerRuntime> {
  const rt = s.parts.containerRuntime;
  if (isRefusal(rt)) throw new NotApplicable(`killing a container's process needs the node's container runtime: ${await reasonOf(rt)}`);
  const out = pods.map((p) => rt.refuse(p)).filter((r): r is string => r !== undefined);
  if (out.length) throw new NotApplicable(`killing a container's process needs the node's container runtime: ${out.join('; ')}`);
  return rt;
}

interface ContainerKillPlan {
  victims: Pod[];
  of: number;
  seed: number;
}

function planContainerKill(s: Scenario, w: WorkloadRef, howMany: HowMany, seed: number): ContainerKillPlan {
  const pods = podsOf(s.timeline, { workload: w });
  if (!pods) throw new BadInputError(`${describeWorkload(w)} does not exist in namespace ${s.namespace}`);
  const ready = pods.filter((p) => podReady(p));
  const n = 'count' in howMany ? howMany.count : Math.max(1, Math.ceil((howMany.percent / 100) * ready.length));
  if (n > ready.length) throw new Error(`cannot kill the containers of ${n} pod(s) of ${describeWorkload(w)}: only ${ready.length} Ready`);
  return { victims: choose(ready, n, seed), of: ready.length, seed };
}

/** Kill the first container of some Ready pods of a workload (seeded choice). */
export async function killContainers(s: Scenario, w: WorkloadRef, howMany: HowMany, seed = newSeed()): Promise<void> {
  await injectFault(
    s,
    planContainerKill(s, w, howMany, seed),
    (p) => `kill the container process of ${p.victims.length} of ${p.of} Ready pod(s) of ${describeWorkload(w)}: ${p.victims.map((v) => v.metadata?.name).join(', ')} (seed ${p.seed}); the kubelet restarts them in place`,
    async (plan, inject) => {
      const rt = await runtimeFor(s, plan.victims);
      for (const p of plan.victims) {
        const container = p.spec!.containers[0]!.name;
        const kill: ContainerKill = { pod: p.metadata!.name!, uid: p.metadata!.uid!, container, restartsBefore: containerStatus(p, container)?.restartCount ?? 0, kills: [], seen: [] };
        const off = watchKilled(s, kill);
        s.onCleanup(`stop watching container ${container} of pod ${kill.pod}`, async () => void off());
        await killOnce(s, inject, rt, kill, p, plan.seed);
        s.state(CONTAINER_KILLS).push(kill);
      }
    },
  );
}

/** Record the container's status at each pod watch event into `kill.seen`; returns the unsubscribe. */
export function watchKilled(s: Pick<Scenario, 'timeline'>, kill: ContainerKill): () => void {
  return s.timeline.pods.on((c) => {
    if (c.object.metadata?.uid !== kill.uid) return;
    const st = containerStatus(c.object, kill.container);
    kill.seen.push({ at: c.at, restarts: (st?.restartCount ?? 0) - kill.restartsBefore, running: Boolean(st?.state?.running), ...(st?.state?.waiting?.reason ? { waiting: st.state.waiting.reason } : {}) });
  });
}

/** The container's state now, in words ("running", "waiting (CrashLoopBackOff)"), and its waiting reason. */
export function containerNow(s: Scenario, kill: ContainerKill): { replaced: boolean; waiting?: string; words: string } {
  const p = s.timeline.pods.get(kill.pod, s.namespace);
  if (!p || p.metadata?.uid !== kill.uid) return { replaced: true, words: `pod ${kill.pod} ${p ? 'was replaced' : 'is gone'}` };
  const c = containerStatus(p, kill.container);
  const words = c?.state?.running ? 'running' : c?.state?.waiting ? `waiting (${c.state.waiting.reason})` : c?.state?.terminated ? `terminated (${c.state.terminated.reason})` : 'unknown';
  return { replaced: false, ...(c?.state?.waiting?.reason ? { waiting: c.state.waiting.reason } : {}), words: `restartCount +${(c?.restartCount ?? 0) - kill.restartsBefore}, ${words}` };
}

async function killOnce(s: Scenario, inject: Inject, rt: ContainerRuntime, kill: ContainerKill, p: Pod, seed?: number): Promise<void> {
  const id = containerId(p, kill.container);
  const injected = await inject(
    {
      fault: 'kill container',
      target: { kind: 'Pod', name: kill.pod, namespace: s.namespace },
      noUndo: "restarting it is the kubelet's job, and what is asserted",
      detail: `SIGKILL to container ${kill.container} (kill ${kill.kills.length + 1})${seed !== undefined ? ` (seed ${seed})` : ''}; the kubelet restarts it`,
    },
    () => rt.kill(p, kill.container, id),
  );
  kill.kills.push(injected.at);
}

/** Kill each killed container again as soon as the kubelet has restarted it (so its next exit falls in the back-off window). */
export async function killAgainOnceRestarted(s: Scenario, withinMs = 30_000): Promise<void> {
  await injectFault(s, s.state(CONTAINER_KILLS), () => 'kill the restarted container(s) again as soon as they run', async (kills, inject) => {
    if (kills.length === 0) throw new BadInputError('no container was killed in this scenario');
    for (const kill of kills) {
      await until(restartedCondition(s, kill), { within: withinMs });
      const p = s.timeline.pods.get(kill.pod, s.namespace)!;
      await killOnce(s, inject, await runtimeFor(s, [p]), kill, p);
    }
  });
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
