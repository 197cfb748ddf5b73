// Scenarios: lines move only along defined edges, bursts show in the timestamps, bad scenario
// files are refused with the file, the key and the problem.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUILTIN_SPECS,
  compileScenario,
  createGenerator,
  END_STATE,
  type Scenario,
} from '../../src/generate/index.js';
import { runCli, tempDir } from '../helpers.js';

const START = Date.parse('2026-03-01T08:00:00Z');

function checkEdges(scenario: Scenario | string, lines: number): Set<string> {
  const gen = createGenerator({
    format: 'json',
    scenario,
    seed: 7,
    startTimeMs: START,
    ratePerSec: 20,
  });
  const edges = gen.edges();
  const last = new Map<string, string>();
  const seen = new Set<string>();
  for (let i = 0; i < lines; i++) {
    const ev = gen.nextEvent();
    const before = last.get(ev.entity);
    if (before === undefined) {
      assert.equal(
        ev.state,
        gen.scenario.initial,
        `entity ${ev.entity} starts at the initial state`,
      );
    } else if (before !== ev.state) {
      const allowed = edges.get(before) ?? [];
      assert.ok(allowed.includes(ev.state), `${before} -> ${ev.state} is not an edge`);
      seen.add(`${before}->${ev.state}`);
    }
    last.set(ev.entity, ev.state);
  }
  return seen;
}

for (const name of Object.keys(BUILTIN_SPECS)) {
  test(`generate - ${name} scenario moves only along its edges`, () => {
    const seen = checkEdges(name, name === 'incident' ? 200_000 : 50_000);
    assert.ok(seen.size >= 3, `saw transitions: ${[...seen].join(', ')}`);
  });
}

test('generate - incident passes through outage with errors and back to healthy', () => {
  const gen = createGenerator({
    format: 'json',
    scenario: 'incident',
    seed: 3,
    startTimeMs: START,
    ratePerSec: 20,
  });
  const levels = new Map<string, Map<string, number>>();
  for (let i = 0; i < 100_000; i++) {
    const ev = gen.nextEvent();
    const m = levels.get(ev.state) ?? new Map<string, number>();
    m.set(ev.level, (m.get(ev.level) ?? 0) + 1);
    levels.set(ev.state, m);
  }
  const share = (state: string, level: string) => {
    const m = levels.get(state)!;
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    return (m.get(level) ?? 0) / total;
  };
  assert.ok(share('outage', 'error') > 0.5, 'outage is mostly errors');
  assert.ok(share('healthy', 'error') < 0.02, 'healthy has few errors');
  assert.ok((levels.get('outage')!.get('critical') ?? 0) > 0, 'outage has critical lines');
});

test('generate - a burst is visible in the timestamps', () => {
  const gen = createGenerator({
    format: 'json',
    seed: 1,
    startTimeMs: START,
    ratePerSec: 100,
    burst: { everyMs: 10_000, forMs: 2_000, factor: 5 },
  });
  const perSecond = new Map<number, number>();
  while (gen.nextTimeMs < START + 60_000) {
    const s = Math.floor((gen.nextEvent().timeMs - START) / 1000);
    perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
  }
  for (let s = 0; s < 60; s++) {
    const inBurst = s >= 10 && s % 10 < 2;
    const n = perSecond.get(s) ?? 0;
    if (inBurst) assert.ok(n >= 400, `second ${s} is in a burst: ${n} lines`);
    else assert.ok(n <= 120, `second ${s} is outside bursts: ${n} lines`);
  }
});

test('generate - a user scenario from YAML runs and keeps to its edges', () => {
  const spec = {
    name: 'queue',
    entities: 3,
    entity: 'worker',
    initial: 'idle',
    states: {
      idle: { events: [1, 3], templates: [{ message: 'waiting for jobs' }], next: { busy: 1 } },
      busy: {
        events: [2, 5],
        templates: [
          { message: 'job {int:1-999} took {latency_ms}ms', fields: { queue: 'q{int:1-3}' } },
        ],
        next: { idle: 2, failed: 1 },
      },
      failed: {
        events: 1,
        level: 'error',
        templates: [{ message: 'job failed: {error}' }],
        next: { idle: 1, [END_STATE]: 1 },
      },
    },
  };
  const seen = checkEdges(compileScenario(spec, 'test'), 5_000);
  assert.ok(seen.has('busy->failed') && seen.has('failed->idle'), [...seen].join(', '));
});

const BAD_SCENARIOS: Array<[string, string, RegExp]> = [
  [
    'missing-state',
    'name: x\ninitial: a\nstates:\n  a:\n    templates: [{message: hi}]\n    next: {b: 1}\n',
    /key states\.a\.next\.b: no state named "b"/,
  ],
  [
    'bad-placeholder',
    'name: x\ninitial: a\nstates:\n  a:\n    templates: [{message: "hi {nope}"}]\n    next: {end: 1}\n',
    /key states\.a\.templates\[0\]\.message: unknown placeholder \{nope\}/,
  ],
  [
    'wrong-type',
    'name: x\ninitial: a\nentities: lots\nstates:\n  a:\n    templates: [{message: hi}]\n    next: {end: 1}\n',
    /key entities: /,
  ],
  [
    'unknown-key',
    'name: x\ninitial: a\nstates:\n  a:\n    templats: []\n    next: {end: 1}\n',
    /key states\.a/,
  ],
  [
    'bad-initial',
    'name: x\ninitial: zz\nstates:\n  a:\n    templates: [{message: hi}]\n    next: {end: 1}\n',
    /key initial: no state named "zz"/,
  ],
  ['not-yaml', 'name: x\n  initial: [a\n', /not valid YAML/],
];

test('generate - a malformed scenario file gives a clear error and exit 2', async () => {
  const dir = tempDir();
  try {
    for (const [name, text, pattern] of BAD_SCENARIOS) {
      const file = join(dir.path, `${name}.yaml`);
      writeFileSync(file, text);
      const res = await runCli(['generate', '--scenario', file, '-n', '1', '--rate', '0']);
      assert.equal(res.code, 2, `${name}: exit 2, stderr ${res.stderr}`);
      assert.ok(res.stderr.includes(file), `${name}: names the file: ${res.stderr}`);
      assert.match(res.stderr, pattern, name);
      assert.equal(res.stdout, '', `${name}: no output`);
    }
  } finally {
    dir.cleanup();
  }
});

test('generate - the scenario example in docs/generate.md is valid and runs', async () => {
  const { readFileSync } = await import('node:fs');
  const { REPO_ROOT } = await import('../helpers.js');
  const { parse } = await import('yaml');
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'generate.md'), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(doc);
  assert.ok(block, 'docs/generate.md has a yaml example');
  const scenario = compileScenario(parse(block[1]), 'docs/generate.md');
  assert.equal(scenario.name, 'checkout-flow');
  const seen = checkEdges(scenario, 3_000);
  assert.ok(seen.size >= 2, [...seen].join(', '));
});
