/**
 * The console summary people read: a moment is told as a time after the fault (never a raw
 * epoch), and a figure two steps measured alike is printed once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeMeasurement, renderConsoleSummary } from '../../src/report/console.js';
import type { RunSummary, ScenarioData } from '../../src/report/schema.js';

const T0 = 1_796_161_894_000;

function drainScenario(): ScenarioData {
  return {
    namespace: 'kp-1',
    cluster: { kind: 'local', name: 'c', context: 'c', serverVersion: 'v1.37.2' } as ScenarioData['cluster'],
    startedAt: T0,
    endedAt: T0 + 20_000,
    entries: [],
    entriesDropped: 0,
    faults: [
      { id: 'taint-1', type: 'taint node', target: 'Node/node-2', injectedAt: T0 + 1_000, revert: 'reverted' },
      { id: 'drain-1', type: 'drain node', target: 'Node/node-1', injectedAt: T0 + 2_000, revert: 'reverted' },
    ],
    measurements: [
      { name: 'drain of node node-1 (gave up)', value: 15_000, unit: 'ms', detail: { pods: [{ pod: 'kp-1/ledger-1', refusals: 3, blockedBy: ['ledger'], blockedMs: 14_000 }], gaveUp: { at: T0 + 17_675.16, pods: ['kp-1/ledger-1'], blockedBy: ['ledger'] } } },
      { name: 'drain of node node-1 blocked by PodDisruptionBudget api', value: 4_330, unit: 'ms' },
      { name: 'drain of node node-1 blocked by PodDisruptionBudget api', value: 4_330, unit: 'ms' },
    ],
  };
}

function summary(data: ScenarioData): RunSummary {
  return {
    schemaVersion: 1 as RunSummary['schemaVersion'],
    runId: 'r',
    startedAt: new Date(T0).toISOString(),
    finishedAt: new Date(T0 + 20_000).toISOString(),
    durationMs: 20_000,
    kubeproofVersion: '0',
    totals: { scenarios: 1, passed: 1, failed: 0, skipped: 0, notApplicable: 0 },
    exitCode: 0,
    scenarios: [{ name: 'drain', feature: 'f', location: 'features/f.feature:3', tags: [], status: 'passed', durationMs: 20_000, data }],
  };
}

describe('console summary', () => {
  it('tells a moment as the time after the fault before it, not as an epoch', () => {
    const text = renderConsoleSummary(summary(drainScenario()));
    assert.doesNotMatch(text, /1796161\d+/, text);
    assert.match(text, /gave up: at \+15\.7 s after drain node, pods kp-1\/ledger-1, blocked by ledger/, text);
  });

  it('prints a figure measured twice alike once', () => {
    const text = renderConsoleSummary(summary(drainScenario()));
    assert.equal(text.split('\n').filter((l) => l.includes('blocked by PodDisruptionBudget api: 4.33 s')).length, 1, text);
  });

  it('without the scenario to tell it against, a moment is a time of day, still not an epoch', () => {
    const { notes } = describeMeasurement({ name: 'x', value: 1, unit: 'count', detail: { failedAt: T0 } }, { compact: false });
    assert.deepEqual(notes, [`failed at: ${new Date(T0).toISOString().slice(11, 23)}`]);
    const before = describeMeasurement({ name: 'x', value: 1, unit: 'count', detail: { at: T0 + 500 } }, { compact: false, times: { startedAt: T0, faults: [] } });
    assert.deepEqual(before.notes, ['at: +500 ms into the scenario']);
  });
});
