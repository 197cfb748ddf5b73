import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePipelineConfig } from '../../src/pipeline/config.js';

const GOOD = `sources:
  gen:
    type: generate
    rate: 10
transforms:
  errors:
    type: filter
    level: error
    inputs: [gen]
sinks:
  out:
    type: stdout
    inputs: [errors]
`;

test('pipeline config - a valid file gives its stages with their inputs', () => {
  const config = parsePipelineConfig(GOOD, 'p.yaml');
  assert.deepEqual(
    config.stages.map((s) => [s.kind, s.name, s.type, s.inputs]),
    [
      ['source', 'gen', 'generate', []],
      ['transform', 'errors', 'filter', ['gen']],
      ['sink', 'out', 'stdout', ['errors']],
    ],
  );
  assert.equal(config.stages[0].options.rate, 10);
});

const BROKEN: Array<[string, string, RegExp]> = [
  [
    'unknown stage type',
    'sources:\n  gen:\n    type: genrate\nsinks:\n  out:\n    type: stdout\n    inputs: [gen]\n',
    /p\.yaml:3:5: unknown source type "genrate" in stage "gen"; source types: generate/,
  ],
  [
    'missing option',
    'sources:\n  gen:\n    type: generate\nsinks:\n  st:\n    type: store\n    inputs: [gen]\n',
    /p\.yaml:5:3: stage "st" \(store\): missing option "dir"/,
  ],
  [
    'unknown option',
    'sources:\n  gen:\n    type: generate\n    rat: 5\nsinks:\n  o:\n    type: stdout\n    inputs: [gen]\n',
    /p\.yaml:4:5: stage "gen" \(generate\): unknown option "rat"/,
  ],
  [
    'a sink that nothing feeds',
    'sources:\n  gen:\n    type: generate\nsinks:\n  out:\n    type: stdout\n',
    /p\.yaml:5:3: sink "out" needs inputs/,
  ],
  [
    'an input that is no stage',
    'sources:\n  gen:\n    type: generate\nsinks:\n  out:\n    type: stdout\n    inputs: [gen, x]\n',
    /p\.yaml:7:19: input "x" of "out" is no stage/,
  ],
  [
    'a source that feeds nothing',
    'sources:\n  a:\n    type: generate\n  b:\n    type: stdin\nsinks:\n  o:\n    type: stdout\n    inputs: [a]\n',
    /p\.yaml:4:3: source "b" feeds nothing/,
  ],
  [
    'a bad value',
    'sources:\n  gen:\n    type: generate\n    rate: -4\nsinks:\n  o:\n    type: stdout\n    inputs: [gen]\n',
    /p\.yaml:4:5: stage "gen" \(generate\): option "rate"/,
  ],
  ['broken YAML', 'sources:\n  gen:\n    type: x\n   bad: [\n', /p\.yaml:4:1: is not valid YAML/],
  ['no sinks', 'sources:\n  gen:\n    type: generate\n', /p\.yaml:1:1: has no sinks/],
  [
    'a loop',
    [
      'sources:\n  g:\n    type: generate\ntransforms:\n',
      '  a:\n    type: sample\n    rate: 0.5\n    inputs: [g, b]\n',
      '  b:\n    type: sample\n    rate: 0.5\n    inputs: [a]\n',
      'sinks:\n  o:\n    type: stdout\n    inputs: [b]\n',
    ].join(''),
    /stages form a loop: a -> b -> a/,
  ],
];

for (const [what, text, expected] of BROKEN) {
  test(`pipeline config - ${what} is an error naming file, line and column`, () => {
    assert.throws(() => parsePipelineConfig(text, 'p.yaml'), expected);
  });
}

test('pipeline config - a port past 65535 is refused by --check, not only by run', () => {
  const text =
    'sources:\n  t:\n    type: tcp\n    listen: 127.0.0.1:99999\n' +
    'sinks:\n  o:\n    type: stdout\n    inputs: [t]\n';
  assert.throws(
    () => parsePipelineConfig(text, 'p.yaml'),
    /p\.yaml:4:5: .*port must be 0 to 65535/,
  );
});
