import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../src/duration.js';
import { parseAmount, compare } from '../../src/expect/amount.js';
import { parseSelector, matches, formatSelector, requirementsOf } from '../../src/workload/selector.js';
import { percentile, stats } from '../../src/timeline/stats.js';
import { choose } from '../../src/faults/random.js';
import { BadInputError } from '../../src/errors.js';

describe('durations', () => {
  it('reads what people write', () => {
    assert.equal(parseDuration('30 s'), 30_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1.5 seconds'), 1500);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1 hour'), 3_600_000);
  });
  it('refuses what is not a duration', () => {
    assert.throws(() => parseDuration('soon'), /not a duration/);
    assert.throws(() => parseDuration('3 fortnights'), /not a unit of time/);
  });
});

describe('amounts', () => {
  it('parses and compares', () => {
    assert.deepEqual(parseAmount('at least 2'), { op: 'at least', n: 2 });
    assert.deepEqual(parseAmount('3'), { op: 'exactly', n: 3 });
    assert.deepEqual(parseAmount('no'), { op: 'exactly', n: 0 });
    assert.equal(compare(3, parseAmount('at least 2')), true);
    assert.equal(compare(1, parseAmount('at least 2')), false);
    assert.equal(compare(2, parseAmount('at most 1')), false);
    assert.equal(compare(0, parseAmount('fewer than 1')), true);
  });
});

describe('label selectors', () => {
  it('parses every form and matches like the API server', () => {
    const reqs = parseSelector('app=web, tier in (a,b), !canary, env!=prod, team');
    assert.equal(reqs.length, 5);
    assert.equal(matches({ app: 'web', tier: 'b', team: 'x' }, reqs), true);
    assert.equal(matches({ app: 'web', tier: 'c', team: 'x' }, reqs), false);
    assert.equal(matches({ app: 'web', tier: 'a', team: 'x', canary: '1' }, reqs), false);
    assert.equal(matches({ app: 'web', tier: 'a', team: 'x', env: 'prod' }, reqs), false);
    assert.equal(matches({ app: 'web', tier: 'a' }, reqs), false);
    assert.equal(formatSelector(parseSelector('app=web,tier in (a,b)')), 'app=web,tier in (a,b)');
  });
  it('turns a LabelSelector object into requirements', () => {
    const reqs = requirementsOf({ matchLabels: { app: 'db' }, matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['c'] }] });
    assert.equal(matches({ app: 'db', zone: 'a' }, reqs), true);
    assert.equal(matches({ app: 'db', zone: 'c' }, reqs), false);
  });
  it('refuses nonsense with a bad-input error', () => {
    assert.throws(() => parseSelector('app==>web'), BadInputError);
  });
});

describe('percentiles', () => {
  it('uses the nearest rank', () => {
    const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(percentile(v, 90), 9);
    assert.equal(percentile(v, 50), 5);
    assert.equal(percentile(v, 100), 10);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([5, 1, 3], 90), 5);
    const s = stats([100, 300, 200]);
    assert.equal(s.min, 100);
    assert.equal(s.max, 300);
    assert.equal(s.mean, 200);
  });
  it('refuses an empty set', () => {
    assert.throws(() => percentile([], 90));
  });
});

describe('seeded choice', () => {
  it('is the same for the same seed and differs across seeds', () => {
    const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    assert.deepEqual(choose(items, 3, 42), choose(items, 3, 42));
    const picks = new Set(Array.from({ length: 20 }, (_, i) => choose(items, 3, i).join()));
    assert.ok(picks.size > 5, 'different seeds choose differently');
    assert.equal(new Set(choose(items, 8, 7)).size, 8, 'no item chosen twice');
  });
});
