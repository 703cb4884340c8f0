import { step } from './vocabulary.js';
import { rollOutNeverReady } from '../src/workload/rollout.js';
import { expectOldPodsKeepServing, expectProgressDeadlineExceeded, expectRolloutStalls } from '../src/expect/rollout.js';

const { when, then } = step('rollouts');

when('deployment {string} rolls out a version that never becomes ready', 'When deployment "checkout" rolls out a version that never becomes ready', async function (name: string) {
  await rollOutNeverReady(this.scenario, name);
});

then('the rollout of deployment {string} stalls for {duration}', 'Then the rollout of deployment "checkout" stalls for 3 s', async function (name: string, forMs: number) {
  await expectRolloutStalls(this.scenario, name, forMs);
});

then(
  'the rollout of deployment {string} reports ProgressDeadlineExceeded within {duration}',
  'Then the rollout of deployment "checkout" reports ProgressDeadlineExceeded within 15 s',
  async function (name: string, within: number) {
    await expectProgressDeadlineExceeded(this.scenario, name, within);
  },
);

then(
  'for {duration} the old pods of deployment {string} keep at least {int} ready endpoint(s) in service {string}',
  'Then for 3 s the old pods of deployment "checkout" keep at least 3 ready endpoints in service "checkout"',
  async function (forMs: number, name: string, min: number, service: string) {
    await expectOldPodsKeepServing(this.scenario, name, service, min, forMs);
  },
);
