/**
 * What the Eviction API answers, in full: 201 (or 200) when it allows an eviction; 429 when a
 * PodDisruptionBudget does not allow it (the budget named in the answer's causes: "The
 * disruption budget web needs 2 healthy pods and has 2 currently"); 500 when more than one
 * budget selects the pod (the API server refuses to choose between them, whatever each
 * allows); 404 for a pod that is gone. Shared by the eviction steps and the drain.
 */
import type { Scenario } from '../scenario/scenario.js';
import { ApiError, isApiError } from '../kube/errors.js';
import type { Pod, PodDisruptionBudget } from '../kube/types.js';
import { matches, requirementsOf, type LabelSelector } from '../workload/selector.js';
import { now } from '../kube/informer.js';

export interface EvictionAnswer {
  pod: string;
  namespace: string;
  at: number;
  /** HTTP status: 201/200 allowed, 429 refused by a budget, 500 several budgets, 404 no such pod, … */
  status: number;
  reason?: string;
  message: string;
  /** Budgets the answer names (429). */
  named: string[];
  /** Budgets whose selector matched the pod when it was asked (by the caller's view of the PDBs). */
  selecting: string[];
}

export const allowed = (status: number): boolean => status === 200 || status === 201;

/** Budget names from a 429's message and details ("The disruption budget web needs 2 healthy pods…"). */
export function budgetsNamedIn(err: ApiError): string[] {
  const text = `${err.message} ${JSON.stringify(err.details ?? {})}`;
  return [...new Set([...text.matchAll(/disruption budget ([a-z0-9]([-a-z0-9.]*[a-z0-9])?) needs/gi)].map((m) => m[1]!))];
}

/** The budgets in `pdbs` whose selector matches the pod's labels. */
export function budgetsSelecting(pdbs: PodDisruptionBudget[], namespace: string, labels: Record<string, string> | undefined): string[] {
  return pdbs.filter((b) => b.metadata?.namespace === namespace && b.spec?.selector && matches(labels, requirementsOf(b.spec.selector as LabelSelector))).map((b) => b.metadata!.name!);
}

/** Ask the Eviction API once and return its answer (an error that is not the API server's answer is thrown). */
export async function askEviction(s: Scenario, pod: string, namespace: string, opts: { gracePeriodSeconds?: number; selecting?: string[] } = {}): Promise<EvictionAnswer> {
  const base = { pod, namespace, at: now(), selecting: opts.selecting ?? [] };
  try {
    const status = await s.kube.evict(pod, namespace, { gracePeriodSeconds: opts.gracePeriodSeconds });
    return { ...base, status: typeof status === 'number' ? status : 201, message: 'allowed', named: [] };
  } catch (err) {
    if (!isApiError(err)) throw err;
    return { ...base, status: err.status, reason: err.reason || undefined, message: err.message, named: budgetsNamedIn(err) };
  }
}

/** "429 TooManyRequests: Cannot evict pod … (budget web; selected by web)" */
export function describeAnswer(a: EvictionAnswer): string {
  const budgets = [a.named.length ? `budget ${a.named.join(', ')}` : '', a.selecting.length ? `selected by PodDisruptionBudget ${a.selecting.join(', ')}` : 'no PodDisruptionBudget selects it'].filter(Boolean).join('; ');
  return `${a.status}${a.reason ? ` ${a.reason}` : ''}: ${a.message} (${budgets})`;
}

/** Whether an answer is the expected one: a status (200 and 201 both mean allowed), and for a refusal the budget it names. */
export function answerMatches(a: EvictionAnswer, status: number, budget?: string): boolean {
  const statusOk = allowed(status) ? allowed(a.status) : a.status === status;
  return statusOk && (budget === undefined || a.named.includes(budget));
}

