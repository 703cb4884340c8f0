/** Claims made "from now on" (a window opened by the step itself; judged when the scenario's steps are done, see window.ts). */
import type { Scenario } from '../scenario/scenario.js';
import { describeWorkload, type WorkloadRef } from '../workload/pods.js';
import { expectMaxUnavailable } from './faults.js';
import { fromNowOn } from './window.js';

/** From now on, at no moment are more than `atMost` pods of the workload unavailable. */
export function fromNowOnMaxUnavailable(s: Scenario, w: WorkloadRef, atMost: number, where: string): void {
  fromNowOn(s, `at no moment are more than ${atMost} pod(s) of ${describeWorkload(w)} unavailable`, where, (window) => expectMaxUnavailable(s, w, atMost, window));
}
