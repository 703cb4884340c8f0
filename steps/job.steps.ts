import { step } from './vocabulary.js';
import { expectNow, expectWithin } from '../src/expect/expect.js';
import { jobCompletes, jobFailedPods, jobFailsWith } from '../src/expect/job.js';
import type { Amount } from '../src/expect/amount.js';

const { then } = step('jobs');

then('job {string} fails with {word} within {duration}', 'Then job "retry-in-place" fails with BackoffLimitExceeded within 20 s', async function (name: string, reason: string, within: number) {
  await expectWithin(this.scenario, jobFailsWith(this.scenario.timeline, name, reason), within);
});

then('job {string} completes within {duration}', 'Then job "exits-zero" completes within 20 s', async function (name: string, within: number) {
  await expectWithin(this.scenario, jobCompletes(this.scenario.timeline, name), within);
});

then(
  'job {string} now has {amount} failed pod(s)',
  'Then job "retry-in-place" now has 1 failed pod',
  async function (name: string, amount: Amount) {
    await expectNow(jobFailedPods(this.scenario.timeline, name, amount));
  },
  { also: ['job {string} has {amount} failed pod(s)'] },
);
