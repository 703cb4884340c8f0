import { step } from './vocabulary.js';
import { expectWithin } from '../src/expect/expect.js';
import { exitedWith, restartedAtLeast, waitingWith } from '../src/expect/containers.js';
import type { Amount } from '../src/expect/amount.js';
import type { WorkloadKind } from '../src/workload/pods.js';

const { then } = step('containers');

then(
  'within {duration} {amount} pod(s) of {workload} {string} is/are waiting with reason {string}',
  'Then within 10 s 2 pods of deployment "crashy" are waiting with reason "CrashLoopBackOff"',
  async function (within: number, amount: Amount, kind: WorkloadKind, name: string, reason: string) {
    await expectWithin(this.scenario, waitingWith(this.scenario.timeline, { workload: { kind, name } }, amount, reason), within);
  },
);

then(
  'within {duration} {amount} pod(s) of {workload} {string} has/have restarted at least {int} time(s)',
  'Then within 10 s 2 pods of deployment "crashy" have restarted at least 3 times',
  async function (within: number, amount: Amount, kind: WorkloadKind, name: string, times: number) {
    await expectWithin(this.scenario, restartedAtLeast(this.scenario.timeline, { workload: { kind, name } }, amount, times), within);
  },
);

then(
  'within {duration} {amount} pod(s) of {workload} {string} exited with code {int}',
  'Then within 5 s 2 pods of job "once-more" exited with code 3',
  async function (within: number, amount: Amount, kind: WorkloadKind, name: string, code: number) {
    await expectWithin(this.scenario, exitedWith(this.scenario.timeline, { workload: { kind, name } }, amount, code), within);
  },
);
