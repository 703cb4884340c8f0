/**
 * The containers of a workload's pods as the kubelet (or KWOK's stages, scenarios/stages/
 * pod-container-failure.yaml) reports them: waiting with a reason (CrashLoopBackOff,
 * ImagePullBackOff…), restarted in place (restartCount), exited with a code.
 */
import type { Timeline } from '../timeline/timeline.js';
import type { Condition } from '../wait/until.js';
import { compare, formatAmount, type Amount } from './amount.js';
import { describeTarget, podsOf, type PodTarget } from '../workload/pods.js';
import type { Pod } from '../kube/types.js';

type ContainerStatus = NonNullable<NonNullable<Pod['status']>['containerStatuses']>[number];

function statuses(p: Pod): ContainerStatus[] {
  return [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
}

/** "web-1 Running: c waiting CrashLoopBackOff, restarts 3, last exit 1" */
export function describeContainers(p: Pod): string {
  const cs = statuses(p).map((c) => {
    const st = c.state?.waiting ? `waiting ${c.state.waiting.reason ?? '?'}` : c.state?.terminated ? `terminated exit ${c.state.terminated.exitCode} (${c.state.terminated.reason ?? '?'})` : c.state?.running ? 'running' : 'no state';
    const last = c.lastState?.terminated ? `, last exit ${c.lastState.terminated.exitCode}` : '';
    return `${c.name} ${st}, restarts ${c.restartCount ?? 0}${last}`;
  });
  return `${p.metadata?.name} ${p.status?.phase ?? 'Pending'}: ${cs.join('; ') || 'no container status'}`;
}

function perPod(tl: Timeline, target: PodTarget, amount: Amount, what: string, test: (p: Pod) => boolean): Condition {
  return {
    description: `${formatAmount(amount)} pod(s) of ${describeTarget(target)} ${what}`,
    sources: [tl.pods, ...('workload' in target ? [tl.informer(target.workload.kind)] : [])],
    evaluate: () => {
      const pods = podsOf(tl, target);
      if (!pods) return { ok: false, observed: `${describeTarget(target)} does not exist` };
      const n = pods.filter(test).length;
      return { ok: compare(n, amount), observed: `${n} ${what}: ${pods.map(describeContainers).join(' | ') || 'no pods'}` };
    },
  };
}

/** Pods with a container waiting for this reason (CrashLoopBackOff, ImagePullBackOff, CreateContainerConfigError…). */
export function waitingWith(tl: Timeline, target: PodTarget, amount: Amount, reason: string): Condition {
  return perPod(tl, target, amount, `waiting with reason ${reason}`, (p) => statuses(p).some((c) => c.state?.waiting?.reason === reason));
}

/** Pods whose containers restarted in place at least `times` times in all (restartCount, summed over containers). */
export function restartedAtLeast(tl: Timeline, target: PodTarget, amount: Amount, times: number): Condition {
  return perPod(tl, target, amount, `restarted at least ${times} time(s)`, (p) => statuses(p).reduce((n, c) => n + (c.restartCount ?? 0), 0) >= times);
}

/** Pods with a container that exited with this code (its current or last termination). */
export function exitedWith(tl: Timeline, target: PodTarget, amount: Amount, code: number): Condition {
  return perPod(tl, target, amount, `exited with code ${code}`, (p) => statuses(p).some((c) => c.state?.terminated?.exitCode === code || c.lastState?.terminated?.exitCode === code));
}
