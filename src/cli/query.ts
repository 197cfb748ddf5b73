// `sluice query`: filter, search and summarize log files, standard input or a store. Exit
// status as grep: 0 when something matched, 1 when nothing did, 2 on error.

import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError, ExpressionError } from '../errors.js';
import { FORMATS, LEVELS, isLevel, type Format, type Level } from '../record/record.js';
import { QueryEngine, type Sink } from '../query/engine.js';
import { buildRecordFilter, type FilterOptions } from '../query/filter.js';
import { buildPrefilter, statusConstraint, type Prefilter } from '../query/prefilter.js';
import { isPureLiteral, requiredLiteral } from '../query/regex.js';
import type { RecordFilter } from '../query/filter.js';
import type { OutputFormat } from '../query/output/records.js';
import { countSink } from '../query/output/count.js';
import { canonicalPath } from '../query/expr/index.js';
import { ACCESS_PROBE_PATHS, accessProbe, probeOptionsFor } from '../query/probe/access.js';
import { parseTimeBound } from '../util/time.js';
import { parseDurationMs, parsePositiveInt, parseSizeBytes } from '../util/units.js';
import { runAction } from './run-action.js';

interface QueryFlags {
  store?: string;
  level?: string;
  since?: string;
  until?: string;
  grep?: string;
  ignoreCase?: boolean;
  invertMatch?: boolean;
  where?: string;
  output?: string;
  fields?: string;
  limit?: string;
  count?: boolean;
  follow?: boolean;
  pollInterval: string;
  stats?: boolean;
  top: string[];
  topLimit: string;
  histogram?: string;
  format?: string;
  timezone?: string;
  assumeYear?: string;
  maxLineBytes?: string;
}

const OUTPUTS: OutputFormat[] = ['text', 'color', 'json', 'raw'];

export function register(program: Command): void {
  program
    .command('query')
    .description('Filter, search and summarize log files, standard input or a store.')
    .argument('[files...]', 'log files, plain or gzip ("-" or none: standard input)')
    .option('--store <dir>', 'query a store folder instead of files')
    .option('--level <level>', `keep this level and above (${LEVELS.join(', ')})`)
    .option('--since <time>', 'keep records at or after: RFC 3339, a date, or 15m/2h/3d ago')
    .option('--until <time>', 'keep records before: RFC 3339, a date, or 15m/2h/3d ago')
    .option('--grep <regex>', 'keep records whose message matches the regex')
    .option('-i, --ignore-case', '--grep ignores case')
    .option('-v, --invert-match', '--grep keeps records whose message does NOT match')
    .option('--where <expr>', 'keep records matching an expression, e.g. "http.status >= 500"')
    .option('-o, --output <format>', 'text, color, json or raw (default: color on a terminal)')
    .option('--fields <list>', 'print only these comma-separated field paths')
    .option('-n, --limit <n>', 'stop after this many matching records')
    .option('-c, --count', 'print only the number of matching records')
    .option('-f, --follow', 'keep reading files as they grow and across rotation (tail -F)')
    .option('--poll-interval <duration>', 'how often --follow checks a quiet file', '250ms')
    .option('--stats', 'print counts per level instead of records')
    .option('--top <field>', 'print the most frequent values of a field (repeatable)', collect, [])
    .option('--top-limit <n>', 'how many values --top prints per field', '10')
    .option('--histogram <width>', 'print counts per time bucket of this width, e.g. 1m')
    .option('--format <format>', `read files as this format (auto or ${FORMATS.join(', ')})`)
    .option('--timezone <zone>', 'zone for times written without one (default UTC)')
    .option('--assume-year <year>', 'year for syslog times that carry none')
    .option('--max-line-bytes <size>', 'longest line kept whole; longer ones are cut', '1MiB')
    .action(runAction('query', query));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function query(files: string[], flags: QueryFlags): Promise<number> {
  const filterOptions = readFilterOptions(flags);
  const filter = withPointer(() => buildRecordFilter(filterOptions));
  const prefilter = buildPrefilter(filterOptions, filter);
  const sink = await chooseSink(flags);
  const light = lightReading(filter.paths, sinkPaths(flags), filter.all);
  const limit = flags.limit !== undefined ? parsePositiveInt(flags.limit, '--limit') : undefined;
  const abort = new AbortController();
  const follow = flags.follow
    ? {
        signal: abort.signal,
        pollIntervalMs: parseDurationMs(flags.pollInterval, '--poll-interval'),
      }
    : undefined;
  const engine = new QueryEngine({
    filter,
    prefilter,
    sink,
    limit,
    follow,
    light,
    rawAccess: rawAccessReading(filter, flags, sink),
    messageLiteral: messageLiteral(filterOptions, filter, sink),
    parallelLevel: parallelLevel(filterOptions, prefilter),
    parse: readParseOptions(flags),
    maxLineBytes: parseSizeBytes(flags.maxLineBytes ?? '1MiB', '--max-line-bytes'),
  });
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    if (flags.store !== undefined) await queryStore(engine, flags, filterOptions, abort);
    else await queryFiles(engine, files.length > 0 ? files : ['-'], Boolean(flags.follow));
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  const result = await engine.finish();
  if (result.cutLines > 0) {
    process.stderr.write(
      `sluice query: ${result.cutLines} lines longer than --max-line-bytes were cut.\n`,
    );
  }
  return result.matched > 0 ? 0 : 1;
}

async function queryFiles(engine: QueryEngine, files: string[], follow: boolean): Promise<void> {
  for (const f of files) {
    if (f !== '-' && existsSync(f) && statSync(f).isDirectory()) {
      throw new ConfigError(`${f} is a directory; to query a store, use --store ${f}.`);
    }
  }
  if (follow) {
    // Followed files never end, so they are read side by side.
    await Promise.all(files.map((f) => engine.runFile(f)));
    return;
  }
  for (const f of files) {
    if (engine.done) break;
    await engine.runFile(f);
  }
}

async function queryStore(
  engine: QueryEngine,
  flags: QueryFlags,
  filter: FilterOptions,
  abort: AbortController,
): Promise<void> {
  const dir = flags.store as string;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(`--store: ${dir} is not a folder.`);
  }
  // Loaded only here: the store's writer side is not needed to query files.
  const { openStoreReader } = await import('../store/index.js');
  const reader = openStoreReader(dir, {
    since: filter.sinceMs,
    until: filter.untilMs,
    follow: Boolean(flags.follow),
  });
  abort.signal.addEventListener('abort', () => reader.close());
  await engine.runRecordLines(reader.raw());
  reader.close();
}

function readFilterOptions(flags: QueryFlags): FilterOptions {
  const now = Date.now();
  let level: Level | undefined;
  if (flags.level !== undefined) {
    const l = flags.level.toLowerCase();
    if (!isLevel(l)) {
      throw new ConfigError(`--level: "${flags.level}" is not one of ${LEVELS.join(', ')}.`);
    }
    level = l;
  }
  const sinceMs = flags.since !== undefined ? bound(flags.since, now, '--since') : undefined;
  const untilMs = flags.until !== undefined ? bound(flags.until, now, '--until') : undefined;
  if (sinceMs !== undefined && untilMs !== undefined && sinceMs > untilMs) {
    throw new ConfigError(`--since ${flags.since} is after --until ${flags.until}.`);
  }
  if ((flags.ignoreCase || flags.invertMatch) && flags.grep === undefined) {
    throw new ConfigError('-i and -v apply to --grep; give --grep REGEX too.');
  }
  return {
    level,
    sinceMs,
    untilMs,
    grep: flags.grep,
    ignoreCase: Boolean(flags.ignoreCase),
    invert: Boolean(flags.invertMatch),
    where: flags.where,
  };
}

function bound(text: string, now: number, flag: string): number {
  try {
    return parseTimeBound(text, now);
  } catch (err) {
    throw new ConfigError(`${flag}: ${(err as Error).message}`);
  }
}

/** Shows a bad --where expression with a caret under the problem. */
function withPointer<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof ExpressionError) {
      const pointer = err.pointer().replace(/^/gm, '  ');
      throw new ConfigError(`--where: ${err.message} (column ${err.position + 1})\n${pointer}`);
    }
    throw err;
  }
}

async function chooseSink(flags: QueryFlags): Promise<Sink> {
  const output = chooseOutput(flags.output);
  const wantsStats = flags.stats || flags.top.length > 0 || flags.histogram !== undefined;
  if (wantsStats) {
    // Loaded only here: the statistics modules are not needed to print or count records.
    const { StatsSink } = await import('../query/stats/sink.js');
    return new StatsSink({
      levels: Boolean(flags.stats) || (flags.top.length === 0 && flags.histogram === undefined),
      top: flags.top,
      topN: parsePositiveInt(flags.topLimit, '--top-limit'),
      histogramMs:
        flags.histogram !== undefined
          ? positiveDuration(flags.histogram, '--histogram')
          : undefined,
      json: output === 'json',
    });
  }
  if (flags.count) return countSink();
  const fields = flags.fields
    ?.split(',')
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
  if (fields !== undefined && fields.length === 0) {
    throw new ConfigError(
      '--fields: give at least one field path, e.g. --fields timestamp,message.',
    );
  }
  // Loaded only here: a count needs neither the colours nor the JSON encoder.
  const { recordSink } = await import('../query/output/records.js');
  return recordSink({ format: output, fields, escapeRaw: Boolean(process.stdout.isTTY) });
}

/** The record paths the output reads; undefined when it prints whole records. */
function sinkPaths(flags: QueryFlags): Set<string> | undefined {
  if (flags.stats || flags.top.length > 0 || flags.histogram !== undefined) {
    const paths = new Set(['level', ...flags.top.map(canonicalPath)]);
    if (flags.histogram !== undefined) paths.add('timestamp');
    return paths;
  }
  if (flags.count || (flags.output === 'raw' && flags.fields === undefined)) return new Set();
  return undefined;
}

/**
 * The access-log light reading, when every path the query reads is one it fills: lines are
 * then filtered (and, when the output needs no more, counted) without the full parser.
 */
function lightReading(
  filterPaths: Set<string>,
  outputPaths: Set<string> | undefined,
  all: boolean,
) {
  const fits = (paths: Set<string>) => [...paths].every((p) => ACCESS_PROBE_PATHS.has(p));
  if (!fits(filterPaths)) return undefined;
  const accept = outputPaths !== undefined && fits(outputPaths);
  if (all && !accept) return undefined;
  const options = probeOptionsFor([...filterPaths, ...(outputPaths ?? [])]);
  return { probe: accessProbe(options), accept };
}

/** Top fields that statistics can count off raw access lines (see StatsSink.writeAccess). */
const RAW_TOP_PATHS = new Set(['http.path', 'http.status', 'level']);

/**
 * Reading access lines off their raw bytes: their status rejects lines that a --where on
 * http.status cannot match, and when the filter reads only level and status and the output
 * needs no record (a count, raw lines, statistics on level, status or path), lines are decided
 * and taken without being decoded.
 */
function rawAccessReading(filter: RecordFilter, flags: QueryFlags, sink: Sink) {
  const statusTest = filter.where ? statusConstraint(filter.where.ast) : undefined;
  const decidable = [...filter.paths].every((p) => p === 'level' || p === 'http.status');
  const stats = flags.stats || flags.top.length > 0 || flags.histogram !== undefined;
  const sinkTakes = stats
    ? flags.histogram === undefined && flags.top.every((t) => RAW_TOP_PATHS.has(canonicalPath(t)))
    : !sink.needsRecord;
  const decide = decidable && sinkTakes;
  if (statusTest === undefined && !decide) return undefined;
  return { statusTest, decide };
}

/** --level when it is the only filter and has a raw-line prefilter (see EngineOptions). */
function parallelLevel(options: FilterOptions, prefilter: Prefilter): Level | undefined {
  const { level, sinceMs, untilMs, grep, where } = options;
  if (sinceMs !== undefined || untilMs !== undefined || grep !== undefined) return;
  if (where !== undefined || prefilter.jsonLevel === undefined) return;
  return level;
}

/** The --grep literal that a raw access line can be tested with (see EngineOptions). */
function messageLiteral(options: FilterOptions, filter: RecordFilter, sink: Sink) {
  const grep = options.grep;
  if (grep === undefined || options.invert || options.ignoreCase || !filter.onlyGrep) return;
  if (sink.needsRecord || sink.writeAccess !== undefined) return;
  const literal = requiredLiteral(grep, '');
  if (literal === undefined || literal.length === 0 || !isPureLiteral(grep, '')) return;
  return Buffer.from(literal);
}

function positiveDuration(text: string, flag: string): number {
  const ms = parseDurationMs(text, flag);
  if (ms <= 0) throw new ConfigError(`${flag}: "${text}" must be longer than 0.`);
  return ms;
}

/** --output, or the default: color on a terminal unless NO_COLOR; FORCE_COLOR forces it. */
function chooseOutput(flag: string | undefined): OutputFormat {
  if (flag !== undefined) {
    if (!(OUTPUTS as string[]).includes(flag)) {
      throw new ConfigError(`--output: "${flag}" is not one of ${OUTPUTS.join(', ')}.`);
    }
    return flag as OutputFormat;
  }
  const noColor = process.env.NO_COLOR;
  if (noColor !== undefined && noColor !== '') return 'text';
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force !== 'false') return 'color';
  return process.stdout.isTTY ? 'color' : 'text';
}

function readParseOptions(flags: QueryFlags) {
  let format: Format | 'auto' | undefined;
  if (flags.format !== undefined) {
    if (flags.format !== 'auto' && !(FORMATS as readonly string[]).includes(flags.format)) {
      throw new ConfigError(
        `--format: "${flags.format}" is not auto or one of ${FORMATS.join(', ')}.`,
      );
    }
    format = flags.format as Format | 'auto';
  }
  const assumeYear =
    flags.assumeYear !== undefined
      ? parsePositiveInt(flags.assumeYear, '--assume-year')
      : undefined;
  // One reference time for the whole run, so that a file reads the same way from start to end;
  // when following, each line's own arrival time is the better reference.
  return {
    format,
    timezone: flags.timezone,
    assumeYear,
    now: flags.follow ? undefined : Date.now(),
  };
}
