/** The arithmetic behind the readiness, load and availability steps: no cluster needed. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { seriesFigures } from '../../src/probes/series.js';
import { spreadLoad, parseCores } from '../../src/faults/load.js';
import { hpaCurves, scaleDownWindow } from '../../src/report/figures.js';
import { FAST_TIMINGS } from '../../src/cluster/providers/provider.js';
import type { TimelineEntry } from '../../src/timeline/timeline.js';
import type { HorizontalPodAutoscaler } from '../../src/kube/types.js';
import { BadInputError } from '../../src/errors.js';

describe('availability figures from ready-endpoint samples', () => {
  it('counts outages, the longest one, time below the threshold and the minimum', () => {
    // 3 ready for 10 s, 0 for 1 s, 1 for 2 s, 0 for 3 s, 3 until 20 s.
    const f = seriesFigures(
      [
        { at: 0, value: 3 },
        { at: 10_000, value: 0 },
        { at: 11_000, value: 1 },
        { at: 13_000, value: 0 },
        { at: 16_000, value: 3 },
      ],
      0,
      20_000,
      3,
    );
    assert.equal(f.min, 0);
    assert.equal(f.outages, 2);
    assert.equal(f.outageMs, 4000);
    assert.equal(f.longestOutageMs, 3000);
    assert.equal(f.belowMs, 6000);
    assert.equal(f.availablePercent, 80);
  });

  it('joins back-to-back zero samples into one outage and clips to the window', () => {
    const f = seriesFigures(
      [
        { at: 0, value: 2 },
        { at: 5_000, value: 0 },
        { at: 6_000, value: 0 },
        { at: 8_000, value: 2 },
        { at: 30_000, value: 1 },
      ],
      0,
      10_000,
      2,
    );
    assert.equal(f.outages, 1);
    assert.equal(f.longestOutageMs, 3000);
    assert.equal(f.min, 0);
    assert.equal(f.availablePercent, 70);
  });

  it('is 100 % with no outage and reports the lowest count', () => {
    const f = seriesFigures([{ at: 100, value: 3 }, { at: 200, value: 2 }], 100, 1100, 3);
    assert.deepEqual([f.availablePercent, f.outages, f.min, f.belowMs], [100, 0, 2, 900]);
  });
});

describe('load spread over Ready pods', () => {
  it('splits the millicores evenly, the remainder to the first pods by name', () => {
    assert.deepEqual([...spreadLoad(400, ['b', 'a'])], [['a', '200m'], ['b', '200m']]);
    assert.deepEqual([...spreadLoad(1000, ['c', 'a', 'b'])], [['a', '334m'], ['b', '333m'], ['c', '333m']]);
    assert.equal(spreadLoad(400, []).size, 0);
  });

  it('falls per pod as pods are added (what makes utilisation fall as the HPA scales up)', () => {
    const per = (n: number) => parseInt(spreadLoad(400, Array.from({ length: n }, (_, i) => `p${i}`)).get('p0')!, 10);
    assert.deepEqual([2, 4, 5].map(per), [200, 100, 80]);
  });

  it('refuses a number of cores that is not one', () => {
    assert.equal(parseCores('0.4'), 0.4);
    assert.throws(() => parseCores('lots'), BadInputError);
    assert.throws(() => parseCores('0'), BadInputError);
  });
});

describe('HPA replica curve', () => {
  const hpaEntry = (at: number, current: number, desired: number, cpu?: number): TimelineEntry => ({
    at,
    source: 'watch',
    kind: 'HorizontalPodAutoscaler',
    type: 'modified',
    name: 'shop',
    namespace: 'ns',
    state: `replicas ${current} → ${desired}; ScalingActive=True(ValidMetricFound)`,
    figures: { current, desired, min: 2, max: 6, ...(cpu !== undefined ? { cpuUtilization: cpu } : {}) },
  });
  const deployEntry = (at: number, replicas: number, ready: number): TimelineEntry => ({ at, source: 'watch', kind: 'Deployment', type: 'modified', name: 'shop', namespace: 'ns', state: '', figures: { replicas, ready, available: ready, updated: replicas } });
  const hpa = { spec: { scaleTargetRef: { kind: 'Deployment', name: 'shop' }, maxReplicas: 6, behavior: { scaleDown: { stabilizationWindowSeconds: 10 } } } } as unknown as HorizontalPodAutoscaler;

  it('keeps the HPA decisions and the target replicas over time, dropping repeats', () => {
    const [curve] = hpaCurves(
      [hpaEntry(1, 2, 2, 10), hpaEntry(2, 2, 2, 10), deployEntry(3, 2, 2), hpaEntry(4, 2, 4, 100), deployEntry(5, 4, 2), deployEntry(6, 4, 4), deployEntry(7, 4, 4), hpaEntry(8, 4, 4, 50)],
      () => hpa,
      FAST_TIMINGS,
    );
    assert.ok(curve);
    assert.equal(curve.target, 'Deployment/shop');
    assert.deepEqual([curve.minReplicas, curve.maxReplicas], [2, 6]);
    assert.deepEqual(curve.points.map((p) => [p.at, p.current, p.desired, p.cpuUtilization]), [[1, 2, 2, 10], [4, 2, 4, 100], [8, 4, 4, 50]]);
    assert.equal(curve.points[0]!.reasons, 'ScalingActive=True(ValidMetricFound)');
    assert.deepEqual(curve.replicas, [{ at: 3, replicas: 2, ready: 2 }, { at: 5, replicas: 4, ready: 2 }, { at: 6, replicas: 4, ready: 4 }]);
    assert.deepEqual([curve.scaleDownStabilizationSeconds, curve.scaleDownStabilizationSource], [10, 'hpa-behavior']);
  });

  it("falls back to the cluster's scale-down window when the HPA sets none", () => {
    assert.deepEqual(scaleDownWindow(undefined, FAST_TIMINGS), { seconds: FAST_TIMINGS.hpaDownscaleStabilizationSeconds, source: 'cluster' });
  });
});
