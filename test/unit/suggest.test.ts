import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { explainUndefined } from '../../src/run/suggest.js';

const steps = [
  'within {duration} {amount} pod(s) of {workload} {string} is/are {podState}',
  '{howMany} of {workload} {string} is/are killed',
  'node {string} is drained',
  'a local cluster with {int} nodes in zones {names}',
];

describe('explaining a line no step matches', () => {
  it('names the argument that does not fit its type, and what the type accepts', () => {
    const msg = explainUndefined('within 30 parsecs 3 pods of deployment "web" are Ready', steps);
    assert.match(msg, /"30 parsecs" is not a \{duration\}: expected a number and a unit/);
  });

  it('points at a misspelt workload kind', () => {
    assert.match(explainUndefined('2 pods of deploymnet "web" are killed', steps), /"deploymnet" is not a \{workload\}/);
  });

  it('suggests the closest step for misspelt words', () => {
    assert.match(explainUndefined('node "node-1" is drainned', steps), /closest is "node \{string\} is drained"/);
  });

  it('says plainly when nothing is close', () => {
    assert.match(explainUndefined('the moon is made of cheese', steps), /^no step matches \(kubeproof steps lists the vocabulary\)$/);
  });

  it('names a state that is not one', () => {
    assert.match(explainUndefined('within 30 s 3 pods of deployment "web" are Readyy', steps), /"Readyy" is not a \{podState\}: expected Ready, NotReady, Running or Pending/);
  });

  it('does not blame an argument when the words differ', () => {
    assert.doesNotMatch(explainUndefined('within 30 s 3 pods off deployment "web" are Ready', steps), /is not a/);
  });
});
