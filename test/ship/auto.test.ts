import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUTO_LADDER, AutoController } from '../../src/codec/auto.js';

const PERIOD_MS = 1000;

/**
 * A controller on a fake clock; `period` runs one period with the given compression share,
 * backlog, input lag and throughput (raw MB compressed in the period).
 */
function controller(startStep: number) {
  let now = 0;
  const auto = new AutoController({ periodMs: PERIOD_MS, startStep, now: () => now });
  const period = (busy: number, backlog: number, input: number, mb = 1) => {
    now += PERIOD_MS;
    auto.observe({ rawBytes: mb * 1e6, compressMs: busy * PERIOD_MS });
    return auto.evaluate(backlog, input);
  };
  const name = () => `${auto.current.codec}-${auto.current.level}`;
  return { auto, period, name };
}

test('auto - input behind with the link keeping up: cheaper steps down to gzip 1, not none', () => {
  const c = controller(AUTO_LADDER.length - 1);
  const reasons: string[] = [];
  for (let i = 0; i < 20; i++) {
    const d = c.period(0.3, 0.02, 1);
    if (d) reasons.push(d.reason);
  }
  assert.equal(c.name(), 'gzip-1');
  assert.equal(reasons.length, 3);
  assert.match(reasons[0], /input falling behind, link keeping up/);
});

test('auto - input behind and compression the main cost: down to none', () => {
  const c = controller(1);
  for (let i = 0; i < 4; i++) c.period(0.6, 0, 1);
  assert.equal(c.name(), 'none-0');
});

test('auto - input behind but compression cheap: the setting stays', () => {
  const c = controller(3);
  for (let i = 0; i < 6; i++) assert.equal(c.period(0.05, 0, 1), undefined);
  assert.equal(c.name(), 'gzip-6');
});

test('auto - keeping up on both sides: one step smaller after two agreeing periods', () => {
  const c = controller(1);
  assert.equal(c.period(0.05, 0, 0), undefined);
  const d = c.period(0.05, 0, 0);
  assert.ok(d);
  assert.equal(c.name(), 'gzip-3');
});

test('auto - input a little behind (between the bounds): no step up for free', () => {
  const c = controller(1);
  for (let i = 0; i < 6; i++) assert.equal(c.period(0.05, 0, 0.3), undefined);
  assert.equal(c.name(), 'gzip-1');
});

test('auto - the link behind with cheap compression: one step smaller, input or not', () => {
  const c = controller(1);
  c.period(0.1, 0.9, 0.9);
  c.period(0.1, 0.9, 0.9);
  assert.equal(c.name(), 'gzip-3');
});

test('auto - a slow-link step that does not raise throughput is undone and not retried', () => {
  const c = controller(1);
  c.period(0.1, 0.9, 0, 50);
  assert.equal(c.period(0.1, 0.9, 0, 50)?.level, 3);
  c.period(0.15, 0.9, 0, 50);
  const undo = c.period(0.15, 0.9, 0, 49);
  assert.ok(undo);
  assert.match(undo.reason, /did not raise throughput .*receiver/);
  assert.equal(c.name(), 'gzip-1');
  // Still behind, still cheap: the step up is on cooldown, so nothing changes for a while.
  for (let i = 0; i < 8; i++) assert.equal(c.period(0.1, 0.9, 0, 50), undefined);
  assert.equal(c.name(), 'gzip-1');
});

test('auto - a slow-link step that raises throughput is kept', () => {
  const c = controller(1);
  c.period(0.1, 0.9, 0, 20);
  c.period(0.1, 0.9, 0, 20);
  assert.equal(c.name(), 'gzip-3');
  c.period(0.12, 0.9, 0, 24);
  // Kept: not undone to gzip 1; still behind on the link, it goes on to the next step.
  const next = c.period(0.12, 0.9, 0, 24);
  assert.equal(next?.from.level, 3);
  assert.match(next?.reason ?? '', /slow link/);
  assert.equal(c.name(), 'gzip-6');
});
