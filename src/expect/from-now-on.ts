/** Claims made "from now on" (a window opened by the step itself; judged when the scenario's steps are done, see window.ts). */
import type { Scenario } from '../scenario/scenario.js';
import { describeWorkload, type WorkloadRef } from '../workload/pods.js';
import { expectMaxUnavailable, expectPdbNeverNegative } from './faults.js';
import { expectNeverAboveMax } from './hpa.js';
import { expectAvailability, expectNoOutageLongerThan, expectReadyEndpointsAlways } from './availability.js';
import { formatDuration } from '../log.js';
import { fromNowOn } from './window.js';

/** From now on, at no moment are more than `atMost` pods of the workload unavailable. */
export function fromNowOnMaxUnavailable(s: Scenario, w: WorkloadRef, atMost: number, where: string): void {
  fromNowOn(s, `at no moment are more than ${atMost} pod(s) of ${describeWorkload(w)} unavailable`, where, (window) => expectMaxUnavailable(s, w, atMost, window));
}

/** From now on, PodDisruptionBudget `pdb` never allows a negative number of disruptions. */
export function fromNowOnPdbNeverNegative(s: Scenario, pdb: string, where: string): void {
  fromNowOn(s, `PodDisruptionBudget ${pdb} never allows a negative number of disruptions`, where, (window) => expectPdbNeverNegative(s, pdb, window));
}

/** From now on, HPA `hpa` and its target never go above its maximum replicas. */
export function fromNowOnNeverAboveMax(s: Scenario, hpa: string, where: string): void {
  fromNowOn(s, `HPA ${hpa} never exceeds its maximum replicas`, where, (window) => expectNeverAboveMax(s, hpa, window));
}

/** From now on, service `service` has at least `min` ready endpoints at every moment (its availability measured). */
export function fromNowOnReadyEndpoints(s: Scenario, service: string, min: number, where: string): void {
  fromNowOn(s, `service ${service} has at least ${min} ready endpoints at every moment`, where, (window) => expectReadyEndpointsAlways(s, service, min, window));
}

/** From now on, service `service` stays available at least `percent` of the time. */
export function fromNowOnAvailability(s: Scenario, service: string, percent: number, where: string): void {
  fromNowOn(s, `availability of service ${service} stays ≥ ${percent} %`, where, (window) => expectAvailability(s, service, percent, window));
}

/** From now on, service `service` has no outage longer than `maxMs`. */
export function fromNowOnNoOutageLongerThan(s: Scenario, service: string, maxMs: number, where: string): void {
  fromNowOn(s, `service ${service} has no outage longer than ${formatDuration(maxMs)}`, where, (window) => expectNoOutageLongerThan(s, service, maxMs, window));
}
