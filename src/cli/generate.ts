// `sluice generate`: realistic, timestamped log lines at a set rate, from state-machine
// scenarios, to stdout or a rotating file, with optional ground-truth labels.

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import {
  builtinScenario,
  createGenerator,
  formatSummary,
  GENERATED_FORMATS,
  isGeneratedFormat,
  loadScenarioFile,
  RotatingFileSink,
  runGenerator,
  StreamSink,
  type LineSink,
} from '../generate/index.js';
import type { BurstOptions } from '../generate/generator.js';
import { BUILTIN_SPECS } from '../generate/scenario/builtin.js';
import { parseDurationMs, parsePositiveInt, parseSizeBytes } from '../util/units.js';
import { runAction } from './run-action.js';

interface GenerateFlags {
  format: string;
  rate: string;
  simRate: string;
  count?: string;
  duration?: string;
  seed: string;
  startTime?: string;
  scenario: string;
  burstEvery?: string;
  burstFor?: string;
  burstFactor: string;
  arrivals: string;
  out?: string;
  rotateSize?: string;
  rotateKeep: string;
  rotateMode: string;
  labels?: string;
}

/** A bad flag value; runAction prefixes `sluice generate:`. */
function optionError(flag: string, got: string, expected: string): ConfigError {
  return new ConfigError(`option ${flag} got ${JSON.stringify(got)}; expected ${expected}.`);
}

function positiveNumber(text: string, flag: string, allowZero: boolean): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    throw optionError(flag, text, allowZero ? 'a number, 0 or more' : 'a number above 0');
  }
  return n;
}

function startTime(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) {
    throw optionError('--start-time', text, 'an RFC 3339 time or epoch ms');
  }
  return ms;
}

function burst(flags: GenerateFlags): BurstOptions | undefined {
  if (flags.burstEvery === undefined && flags.burstFor === undefined) return undefined;
  if (flags.burstEvery === undefined || flags.burstFor === undefined) {
    throw new ConfigError('--burst-every and --burst-for go together.');
  }
  const everyMs = parseDurationMs(flags.burstEvery, '--burst-every');
  const forMs = parseDurationMs(flags.burstFor, '--burst-for');
  if (everyMs <= 0 || forMs <= 0 || forMs >= everyMs) {
    throw new ConfigError('--burst-for must be above 0 and shorter than --burst-every.');
  }
  return { everyMs, forMs, factor: positiveNumber(flags.burstFactor, '--burst-factor', false) };
}

function scenarioFrom(text: string) {
  if (text in BUILTIN_SPECS) return builtinScenario(text);
  if (!existsSync(text)) {
    const known = Object.keys(BUILTIN_SPECS).join(', ');
    throw new ConfigError(`--scenario "${text}" is neither a built-in (${known}) nor a file.`);
  }
  return loadScenarioFile(text);
}

async function generate(flags: GenerateFlags): Promise<number> {
  if (!isGeneratedFormat(flags.format)) {
    throw optionError('--format', flags.format, `one of ${GENERATED_FORMATS.join(', ')}`);
  }
  if (flags.arrivals !== 'uniform' && flags.arrivals !== 'poisson') {
    throw optionError('--arrivals', flags.arrivals, 'uniform or poisson');
  }
  if (flags.rotateMode !== 'rename' && flags.rotateMode !== 'copytruncate') {
    throw optionError('--rotate-mode', flags.rotateMode, 'rename or copytruncate');
  }
  const rate = positiveNumber(flags.rate, '--rate', true);
  const gen = createGenerator({
    format: flags.format,
    scenario: scenarioFrom(flags.scenario),
    seed: flags.seed,
    startTimeMs: startTime(flags.startTime),
    ratePerSec: rate > 0 ? rate : positiveNumber(flags.simRate, '--sim-rate', false),
    burst: burst(flags),
    arrivals: flags.arrivals,
  });
  const sink: LineSink = flags.out
    ? new RotatingFileSink(flags.out, {
        rotateBytes: flags.rotateSize ? parseSizeBytes(flags.rotateSize, '--rotate-size') : 0,
        keep: parsePositiveInt(flags.rotateKeep, '--rotate-keep'),
        mode: flags.rotateMode,
      })
    : new StreamSink(process.stdout);
  const labels = flags.labels
    ? new RotatingFileSink(flags.labels, { rotateBytes: 0, keep: 1, mode: 'rename' })
    : undefined;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await runGenerator(gen, sink, {
      ratePerSec: rate,
      count: flags.count === undefined ? undefined : parsePositiveInt(flags.count, '--count'),
      durationMs:
        flags.duration === undefined ? undefined : parseDurationMs(flags.duration, '--duration'),
      labels,
      signal: stop.signal,
    });
    await sink.close();
    await labels?.close();
    process.stderr.write(formatSummary(summary) + '\n');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

export function register(program: Command): void {
  program
    .command('generate')
    .description('Write realistic, timestamped log lines at a set rate, from scenarios.')
    .option(
      '-f, --format <format>',
      `line format: ${GENERATED_FORMATS.join(', ')}`,
      'apache_combined',
    )
    .option('-r, --rate <n>', 'lines per second; 0 = as fast as possible', '10')
    .option('--sim-rate <n>', 'lines per second of simulated time when --rate is 0', '100')
    .option('-n, --count <n>', 'stop after this many lines')
    .option('-d, --duration <time>', 'stop after this much event time (e.g. 30s, 5m)')
    .option('--seed <seed>', 'random seed; same seed and start time give the same bytes', '1')
    .option('--start-time <time>', 'time of the first line (RFC 3339 or epoch ms; default now)')
    .option(
      '-s, --scenario <name|file>',
      `built-in scenario (${Object.keys(BUILTIN_SPECS).join(', ')}) or a YAML file`,
      'web',
    )
    .option('--burst-every <time>', 'start a burst this often (e.g. 60s)')
    .option('--burst-for <time>', 'length of each burst (e.g. 5s)')
    .option('--burst-factor <n>', 'rate multiplier during a burst', '10')
    .option('--arrivals <kind>', 'line spacing: uniform or poisson', 'uniform')
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .option('--rotate-size <size>', 'rotate --out when it would pass this size (e.g. 10MB)')
    .option('--rotate-keep <n>', 'rotated files to keep (FILE.1 … FILE.N)', '5')
    .option('--rotate-mode <mode>', 'rotation: rename or copytruncate', 'rename')
    .option('--labels <file>', 'write NDJSON ground truth per line (state, PHI spans)')
    .action(runAction('generate', generate));
}
