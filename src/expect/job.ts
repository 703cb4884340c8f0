/**
 * What a Job's controller decided: completed, failed (with the reason of its Failed condition,
 * e.g. BackoffLimitExceeded or DeadlineExceeded), and how many of its pods it counted failed
 * (status.failed: also the pods it deleted when it gave up, which never reached phase Failed).
 * A wait for one outcome fails at once when the Job reaches the other: it will not change its mind.
 */
import type { Timeline } from '../timeline/timeline.js';
import type { Condition, Verdict } from '../wait/until.js';
import { compare, formatAmount, type Amount } from './amount.js';
import { podsOf } from '../workload/pods.js';
import type { Pod } from '../kube/types.js';

interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

interface JobObject {
  spec?: { backoffLimit?: number; template?: { spec?: { restartPolicy?: string } } };
  status?: { conditions?: JobCondition[]; succeeded?: number; failed?: number; active?: number };
}

/** A Job finished the other way than the step expects: the wait stops at once, with what was seen. */
export class JobOutcomeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobOutcomeError';
  }
}

function job(tl: Timeline, name: string): JobObject | undefined {
  return tl.informer('Job').get(name, tl.namespace) as JobObject | undefined;
}

function finished(j: JobObject, type: 'Complete' | 'Failed'): JobCondition | undefined {
  return j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

function restarts(p: Pod): number {
  return [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])].reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

/** "succeeded 0, failed 2, active 0, backoffLimit 1, restartPolicy Never; Failed=True (BackoffLimitExceeded: …); pods: j-1 Failed exit 3, …" */
export function describeJob(tl: Timeline, name: string, j: JobObject): string {
  const st = j.status ?? {};
  const conds = (st.conditions ?? []).filter((c) => c.status === 'True').map((c) => `${c.type}=True${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`);
  const pods = (podsOf(tl, { workload: { kind: 'Job', name } }, { includeTerminating: true }) ?? []).map((p) => {
    const exit = (p.status?.containerStatuses ?? []).map((c) => c.state?.terminated?.exitCode ?? c.lastState?.terminated?.exitCode).find((x) => x !== undefined);
    const r = restarts(p);
    return `${p.metadata?.name} ${p.metadata?.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Pending')}${exit !== undefined ? ` exit ${exit}` : ''}${r ? ` restarts ${r}` : ''}`;
  });
  return (
    `succeeded ${st.succeeded ?? 0}, failed ${st.failed ?? 0}, active ${st.active ?? 0}, backoffLimit ${j.spec?.backoffLimit ?? 6}, restartPolicy ${j.spec?.template?.spec?.restartPolicy ?? '?'}; ` +
    `${conds.join(', ') || 'no condition'}; pods: ${pods.join(', ') || 'none seen'}`
  );
}

function judge(tl: Timeline, name: string, decide: (j: JobObject) => boolean | 'never'): Verdict {
  const j = job(tl, name);
  if (!j) return { ok: false, observed: `job ${name} does not exist${tl.everSeen('Job', name) ? ' any more' : ''}` };
  const observed = describeJob(tl, name, j);
  const verdict = decide(j);
  if (verdict === 'never') throw new JobOutcomeError(`job ${name} finished otherwise: ${observed}`);
  return { ok: verdict, observed };
}

/** The Job completed (condition Complete=True); fails at once if it failed. */
export function jobCompletes(tl: Timeline, name: string): Condition {
  return {
    description: `job ${name} completes`,
    sources: [tl.informer('Job'), tl.pods],
    evaluate: () => judge(tl, name, (j) => (finished(j, 'Complete') ? true : finished(j, 'Failed') ? 'never' : false)),
  };
}

/** The Job failed with this reason on its Failed condition; fails at once if it completed or failed for another reason. */
export function jobFailsWith(tl: Timeline, name: string, reason: string): Condition {
  return {
    description: `job ${name} fails with ${reason}`,
    sources: [tl.informer('Job'), tl.pods],
    evaluate: () =>
      judge(tl, name, (j) => {
        const failed = finished(j, 'Failed');
        if (failed) return failed.reason === reason ? true : 'never';
        return finished(j, 'Complete') ? 'never' : false;
      }),
  };
}

/** The Job's controller counts this many failed pods (status.failed) now: judged at once. */
export function jobFailedPods(tl: Timeline, name: string, amount: Amount): Condition {
  return {
    description: `job ${name} now has ${formatAmount(amount)} failed pod(s)`,
    sources: [tl.informer('Job'), tl.pods],
    evaluate: () => judge(tl, name, (j) => compare(j.status?.failed ?? 0, amount)),
  };
}
