import { step } from './vocabulary.js';
import { expectMetNoSooner, expectNoScaleDownBeforeWindow, expectNotEvictedBeforeToleration } from '../src/expect/lower-bound.js';
import { fact, need } from './needs.js';

const { then } = step('lower bounds');

then('it happened no sooner than {duration} after the fault', 'Then it happened no sooner than 4 s after the fault', function (minMs: number) {
  expectMetNoSooner(this.scenario, minMs);
}, { requires: () => need.metWithinAfterChange() });

then('HPA {string} does not scale down before its stabilization window has passed', 'Then HPA "shop" does not scale down before its stabilization window has passed', async function (hpa: string) {
  await expectNoScaleDownBeforeWindow(this.scenario, hpa);
}, { requires: () => need.loadRemoved() });

then(
  'the pods of node {string} are not evicted before the toleration has passed',
  'Then the pods of node "node-2" are not evicted before the toleration has passed',
  async function (node: string) {
    await expectNotEvictedBeforeToleration(this.scenario, node);
  },
  { requires: (node: string) => ({ anyOf: [fact.down(node), fact.tainted], what: `node "${node}" tainted NoExecute or taken down`, example: `When node "${node}" stops sending heartbeats` }) },
);
