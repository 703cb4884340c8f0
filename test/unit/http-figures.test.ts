import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpFigures, type HttpResult } from '../../src/probes/http.js';

const ok = (at: number, pod = 'a', latencyMs = 2): HttpResult => ({ at, ok: true, latencyMs, status: 200, pod });
const fail = (at: number): HttpResult => ({ at, ok: false, latencyMs: 1, error: 'ECONNREFUSED' });

test('an outage runs from the first failed request to the next success', () => {
  const f = httpFigures('http://x/', 20, [ok(0), fail(50), fail(100), ok(150, 'b'), ok(200), fail(250), ok(300)], 400);
  assert.equal(f.requests, 7);
  assert.equal(f.succeeded, 4);
  assert.equal(f.outages, 2);
  assert.equal(f.longestOutageMs, 100);
  assert.equal(f.outageMs, 150);
  assert.deepEqual(f.byPod, { a: 3, b: 1 });
  assert.equal(f.errors.length, 3);
});

test('failures at the end last until the window closes; no requests is 100 %', () => {
  const f = httpFigures('http://x/', 20, [ok(0), fail(100)], 1100);
  assert.equal(f.longestOutageMs, 1000);
  assert.equal(f.successPercent, 50);
  assert.equal(httpFigures('http://x/', 20, [], 10).successPercent, 100);
});

test('latency percentiles come from successful requests only', () => {
  const f = httpFigures('http://x/', 20, [ok(0, 'a', 1), ok(1, 'a', 2), ok(2, 'a', 3), ok(3, 'a', 100), fail(4)], 10);
  assert.equal(f.latencyMs?.p50, 2);
  assert.equal(f.latencyMs?.max, 100);
});
