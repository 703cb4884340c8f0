import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { until, holds, ConditionTimeout, ConditionBroken, type Condition } from '../../src/wait/until.js';
import type { Change, Informer } from '../../src/kube/informer.js';

/** A stand-in informer whose events the test emits by hand. */
class FakeSource {
  private listeners = new Set<(c: Change) => void>();
  value = 0;
  start() {
    return Promise.resolve();
  }
  on(l: (c: Change) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  set(v: number) {
    this.value = v;
    const c: Change = { type: 'modified', kind: 'Test', object: { metadata: { name: 'x' } }, at: performance.timeOrigin + performance.now() };
    for (const l of this.listeners) l(c);
  }
  get count() {
    return this.listeners.size;
  }
}

function atLeast(src: FakeSource, n: number): Condition {
  return { description: `value ≥ ${n}`, sources: [src as unknown as Informer], evaluate: () => ({ ok: src.value >= n, observed: `value ${src.value}` }) };
}

describe('until', () => {
  it('resolves on the event that makes the condition true, with its time', async () => {
    const src = new FakeSource();
    const p = until(atLeast(src, 3), { within: 2000 });
    setTimeout(() => {
      src.set(1);
      src.set(3);
    }, 5);
    const out = await p;
    assert.equal(out.observed, 'value 3');
    assert.ok(out.change);
    assert.equal(src.count, 0, 'unsubscribed');
  });
  it('resolves at once when already true', async () => {
    const src = new FakeSource();
    src.value = 5;
    const out = await until(atLeast(src, 3), { within: 10 });
    assert.equal(out.change, undefined);
  });
  it('rejects at the deadline with what it saw last and the explanation', async () => {
    const src = new FakeSource();
    const p = until(atLeast(src, 3), { within: 50, explain: () => '  recent events: none' });
    setTimeout(() => src.set(2), 5);
    await assert.rejects(p, (err: unknown) => err instanceof ConditionTimeout && /value ≥ 3/.test(err.message) && /last seen: value 2/.test(err.message) && /recent events/.test(err.message));
    assert.equal(src.count, 0);
  });
});

describe('holds', () => {
  it('passes when nothing breaks it for the window', async () => {
    const src = new FakeSource();
    src.value = 3;
    const p = holds(atLeast(src, 2), { forMs: 50 });
    setTimeout(() => src.set(4), 5);
    await p;
  });
  it('fails at the first event that breaks it, naming that event', async () => {
    const src = new FakeSource();
    src.value = 3;
    const p = holds(atLeast(src, 2), { forMs: 5000 });
    setTimeout(() => src.set(1), 5);
    await assert.rejects(p, (err: unknown) => err instanceof ConditionBroken && /value 1/.test(err.message) && /modified Test x/.test(err.message));
  });
  it('fails at once when not true at the start', async () => {
    const src = new FakeSource();
    await assert.rejects(holds(atLeast(src, 2), { forMs: 5000 }), ConditionBroken);
  });
});
