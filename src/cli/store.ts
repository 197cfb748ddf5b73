// `sluice store`: import records into a store folder (append) and inspect it (ls, stats, cat,
// verify, purge). Human tables by default, `--output json` for scripts.

import type { Command } from 'commander';
import { runAction } from './run-action.js';
import { ConfigError, IoError, StoreError } from '../errors.js';
import { LEVELS, type JsonValue, type LogRecord } from '../record/record.js';
import type { ParseOptions } from '../parse/options.js';
import type { decodeJson, normalizeRecord } from '../record/json.js';
import { formatBytes, parseDurationMs, parsePositiveInt, parseSizeBytes } from '../util/units.js';
import { parseTimeBound } from '../util/time.js';
// The store library is loaded by each command, and `cat` loads only the reader: a window read
// should not pay for the writer, the logger or the metrics registry at start-up.
import type { RetentionPlan, StoreOptions, StoreWriter } from '../store/index.js';
import { existsSync, statSync } from 'node:fs';

export interface StoreFlags {
  dir: string;
  output: string;
  segmentSize?: string;
  segmentAge?: string;
  compression?: string;
  fsync?: string;
  fsyncInterval?: string;
  retainAge?: string;
  retainSize?: string;
  retainSegments?: string;
  dedupeWindow?: string;
}

interface AppendFlags extends StoreFlags {
  format: string;
  timezone: string;
  batchRecords: string;
}

/** Adds the writer's options to a command (also used by commands that write a store). */
export function addStoreOptions(cmd: Command): Command {
  return cmd
    .option('--segment-size <size>', 'rotate the active segment at this size (default 64MiB)')
    .option('--segment-age <duration>', 'rotate the active segment at this age (default 1h)')
    .option('--compression <codec>', 'codec for closed segments: none or gzip (default gzip)')
    .option('--fsync <policy>', 'when a batch is durable: always, interval or never')
    .option('--fsync-interval <duration>', 'fsync period under --fsync interval (default 1s)')
    .option('--retain-age <duration>', 'remove segments closed longer ago than this')
    .option('--retain-size <size>', 'remove oldest segments while the store is larger')
    .option('--retain-segments <n>', 'keep at most this many closed segments')
    .option('--dedupe-window <n>', 'batch ids remembered for de-duplication (default 100000)');
}

/** Reads the writer's options from flags, naming the flag that is wrong. */
export function readStoreOptions(f: Partial<StoreFlags>): StoreOptions {
  const o: StoreOptions = {};
  if (f.segmentSize) o.segmentSizeBytes = parseSizeBytes(f.segmentSize, '--segment-size');
  if (f.segmentAge) o.segmentAgeMs = parseDurationMs(f.segmentAge, '--segment-age');
  if (f.compression) {
    if (f.compression !== 'none' && f.compression !== 'gzip') {
      throw new ConfigError(`--compression: "${f.compression}" is not none or gzip.`);
    }
    o.compression = f.compression;
  }
  if (f.fsync) {
    if (!['always', 'interval', 'never'].includes(f.fsync)) {
      throw new ConfigError(`--fsync: "${f.fsync}" is not one of always, interval, never.`);
    }
    o.fsync = f.fsync as StoreOptions['fsync'];
  }
  if (f.fsyncInterval) o.fsyncIntervalMs = parseDurationMs(f.fsyncInterval, '--fsync-interval');
  if (f.retainAge) o.retainAgeMs = parseDurationMs(f.retainAge, '--retain-age');
  if (f.retainSize) o.retainSizeBytes = parseSizeBytes(f.retainSize, '--retain-size');
  if (f.retainSegments) {
    o.retainSegments = parsePositiveInt(f.retainSegments, '--retain-segments', true);
  }
  if (f.dedupeWindow) o.dedupeWindow = parsePositiveInt(f.dedupeWindow, '--dedupe-window', true);
  return o;
}

function outputMode(flags: { output: string }): 'table' | 'json' {
  if (flags.output !== 'table' && flags.output !== 'json') {
    throw new ConfigError(`--output: "${flags.output}" is unknown; use table or json.`);
  }
  return flags.output;
}

function requireStore(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(`--dir: ${dir} is not a folder.`);
  }
}

/** Left-aligned text columns, right-aligned numbers, two spaces apart. */
function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const numeric = headers.map(
    (_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number'),
  );
  return (
    cells
      .map((r) =>
        r
          .map((v, c) => (numeric[c] ? v.padStart(widths[c]) : v.padEnd(widths[c])))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString();
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

// --- append ----------------------------------------------------------------------------------

const MAX_IN_FLIGHT = 8;

async function appendCommand(files: string[], flags: AppendFlags): Promise<number> {
  const mode = outputMode(flags);
  const batchRecords = parsePositiveInt(flags.batchRecords, '--batch-records');
  const parseOpts: ParseOptions = {
    format: flags.format as ParseOptions['format'],
    timezone: flags.timezone,
  };
  const { openStoreWriter } = await import('../store/index.js');
  const writer = await openStoreWriter(flags.dir, readStoreOptions(flags));
  let stored = 0;
  let failed = false;
  try {
    for (const path of files.length > 0 ? files : ['-']) {
      try {
        stored += await appendInput(writer, path, parseOpts, batchRecords);
      } catch (err) {
        if (!(err instanceof IoError)) throw err;
        failed = true;
        process.stderr.write(`sluice store: ${err.message}\n`);
      }
    }
  } finally {
    await writer.close();
  }
  const result = { stored, dir: flags.dir, recovered: writer.recovery };
  process.stdout.write(
    mode === 'json' ? json(result) : `stored ${stored} records in ${flags.dir}\n`,
  );
  return failed ? 2 : 0;
}

/** One input: NDJSON records pass through; anything else is parsed as `sluice parse` does. */
async function appendInput(
  writer: StoreWriter,
  path: string,
  parseOpts: ParseOptions,
  batchRecords: number,
): Promise<number> {
  const [{ createLineParser }, { NewlineFramer }, { openInput }, json] = await Promise.all([
    import('../parse/index.js'),
    import('../framing/newline.js'),
    import('../sources/input.js'),
    import('../record/json.js'),
  ]);
  const source = path === '-' ? undefined : path;
  const parser = createLineParser({ ...parseOpts, source });
  const framer = new NewlineFramer({});
  let batch: LogRecord[] = [];
  const inFlight: Array<Promise<{ stored: number }>> = [];
  let stored = 0;
  const onLine = (line: string) => {
    if (line.length === 0) return;
    const rec =
      line.charCodeAt(0) === 123 /* { */ ? asRecord(json, line, parseOpts, source) : undefined;
    if (rec) batch.push(rec);
    else parser.push(line, batch);
  };
  const send = async () => {
    if (batch.length === 0) return;
    const p = writer.append(batch);
    // Awaited in order below; until then a failure must not escape as an unhandled rejection
    // (the first awaited one is thrown, naming the store and the problem).
    p.catch(() => undefined);
    inFlight.push(p);
    batch = [];
    if (inFlight.length >= MAX_IN_FLIGHT) stored += (await inFlight.shift()!).stored;
  };
  for await (const chunk of openInput(path)) {
    framer.push(chunk, onLine);
    if (batch.length >= batchRecords) await send();
  }
  framer.end(onLine);
  parser.flush(batch);
  await send();
  for (const p of inFlight) stored += (await p).stored;
  return stored;
}

function asRecord(
  json: { decodeJson: typeof decodeJson; normalizeRecord: typeof normalizeRecord },
  line: string,
  opts: ParseOptions,
  source: string | undefined,
) {
  let value: JsonValue;
  try {
    value = json.decodeJson(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return json.normalizeRecord(value, { ...opts, source });
}

// --- ls, stats ---------------------------------------------------------------------------------

async function lsCommand(flags: StoreFlags): Promise<void> {
  const mode = outputMode(flags);
  requireStore(flags.dir);
  const { listSegments } = await import('../store/segments.js');
  const segments = await listSegments(flags.dir);
  if (mode === 'json') {
    const rows = segments.map((s) => ({
      segment: s.name,
      state: s.state,
      file: s.path,
      first: s.index?.firstTs ?? null,
      last: s.index?.lastTs ?? null,
      records: s.index?.records ?? null,
      rawBytes: s.index?.rawBytes ?? null,
      storedBytes: s.sizeBytes,
      ratio: s.index ? s.index.rawBytes / Math.max(1, s.sizeBytes) : null,
    }));
    process.stdout.write(json(rows));
    return;
  }
  const rows = segments.map((s) => [
    s.name,
    iso(s.index?.firstTs),
    iso(s.index?.lastTs),
    s.index ? s.index.records : '-',
    s.index ? formatBytes(s.index.rawBytes) : '-',
    formatBytes(s.sizeBytes),
    s.index ? (s.index.rawBytes / Math.max(1, s.sizeBytes)).toFixed(1) + 'x' : '-',
    s.state,
  ]);
  process.stdout.write(
    table(['segment', 'first', 'last', 'records', 'raw', 'stored', 'ratio', 'state'], rows),
  );
}

async function statsCommand(flags: StoreFlags): Promise<void> {
  const mode = outputMode(flags);
  requireStore(flags.dir);
  const { storeStats } = await import('../store/stats.js');
  const s = await storeStats(flags.dir);
  if (mode === 'json') {
    process.stdout.write(json(s));
    return;
  }
  let out = table(
    ['total', 'value'],
    [
      ['segments', s.segments],
      ['records', s.records],
      ['raw', formatBytes(s.rawBytes)],
      ['stored', formatBytes(s.storedBytes)],
      ['ratio', s.compressionRatio.toFixed(2) + 'x'],
      ['oldest', iso(s.oldest)],
      ['newest', iso(s.newest)],
    ],
  );
  out +=
    '\n' +
    table(
      ['level', 'records'],
      LEVELS.map((l) => [l, s.levels[l]]),
    );
  const days = Object.entries(s.days).sort(([a], [b]) => (a < b ? -1 : 1));
  out += '\n' + table(['day', 'records'], days);
  const services = Object.entries(s.services).sort((a, b) => b[1] - a[1]);
  out += '\n' + table(['service', 'records'], services.slice(0, 20));
  if (services.length > 20) out += `(${services.length - 20} more services)\n`;
  process.stdout.write(out);
}

// --- cat ---------------------------------------------------------------------------------------

async function catCommand(
  flags: StoreFlags & { since?: string; until?: string; follow?: boolean; order: string },
) {
  requireStore(flags.dir);
  if (flags.order !== 'time' && flags.order !== 'storage') {
    throw new ConfigError(`--order: "${flags.order}" is not time or storage.`);
  }
  const now = Date.now();
  const since = flags.since !== undefined ? parseTimeBound(flags.since, now) : undefined;
  const until = flags.until !== undefined ? parseTimeBound(flags.until, now) : undefined;
  if (since !== undefined && until !== undefined && since > until) {
    throw new ConfigError(`--since ${flags.since} is after --until ${flags.until}.`);
  }
  const { openStoreReader } = await import('../store/reader.js');
  const reader = openStoreReader(flags.dir, {
    since,
    until,
    follow: flags.follow === true,
    order: flags.order,
  });
  const stop = () => reader.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for await (const chunk of reader.raw()) {
      if (!process.stdout.write(chunk)) {
        await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

// --- verify, purge -----------------------------------------------------------------------------

async function verifyCommand(flags: StoreFlags): Promise<number> {
  const mode = outputMode(flags);
  requireStore(flags.dir);
  const { verifyStore } = await import('../store/verify.js');
  const report = await verifyStore(flags.dir);
  if (mode === 'json') {
    process.stdout.write(json({ ok: report.problems.length === 0, ...report }));
  } else {
    for (const p of report.problems) {
      const at = p.offset !== undefined ? ` at offset ${p.offset}` : '';
      process.stdout.write(`${p.file}${at}: ${p.problem}\n`);
    }
    const verdict = report.problems.length === 0 ? 'ok' : `${report.problems.length} problems`;
    process.stdout.write(
      `${verdict}: ${report.segments} segments, ${report.blocks} blocks, ` +
        `${report.records} records checked\n`,
    );
  }
  return report.problems.length === 0 ? 0 : 1;
}

async function purgeCommand(flags: StoreFlags & { dryRun?: boolean }): Promise<void> {
  const mode = outputMode(flags);
  requireStore(flags.dir);
  const policy = readStoreOptions(flags);
  if (
    policy.retainAgeMs === undefined &&
    policy.retainSizeBytes === undefined &&
    policy.retainSegments === undefined
  ) {
    throw new ConfigError(
      'nothing to purge by: give --retain-age, --retain-size or --retain-segments.',
    );
  }
  const { acquireLock, applyRetention, listSegments, lockHolder, planRetention } =
    await import('../store/index.js');
  let plan: RetentionPlan;
  if (flags.dryRun) {
    plan = planRetention(await listSegments(flags.dir), policy, Date.now());
  } else {
    const holder = await lockHolder(flags.dir);
    if (holder !== undefined) {
      throw new StoreError(
        `${flags.dir}: store is open by process ${holder}; its writer applies retention itself ` +
          '(give it --retain-* flags), or use --dry-run to see the plan.',
      );
    }
    const lock = await acquireLock(flags.dir);
    try {
      plan = planRetention(await listSegments(flags.dir), policy, Date.now());
      await applyRetention(flags.dir, plan);
    } finally {
      await lock.release();
    }
  }
  if (mode === 'json') {
    process.stdout.write(json({ dryRun: flags.dryRun === true, ...plan }));
    return;
  }
  const verb = flags.dryRun ? 'would remove' : 'removed';
  if (plan.remove.length > 0) {
    process.stdout.write(
      table(
        ['segment', 'reason', 'records', 'size'],
        plan.remove.map((r) => [r.segment, r.reason, r.records, formatBytes(r.bytes)]),
      ),
    );
  }
  process.stdout.write(
    `${verb} ${plan.remove.length} segments; ${plan.keepSegments} segments ` +
      `(${formatBytes(plan.keepBytes)}) remain\n`,
  );
}

// --- registration ------------------------------------------------------------------------------

function withDir(cmd: Command, output = true): Command {
  cmd.requiredOption('--dir <dir>', 'the store folder');
  if (output) cmd.option('--output <mode>', 'table or json', 'table');
  return cmd;
}

export function register(program: Command): void {
  const store = program
    .command('store')
    .description('import records into a store folder and inspect it');

  addStoreOptions(
    withDir(
      store
        .command('append')
        .description(
          'store NDJSON records or raw log lines from files or stdin; exits when durable',
        )
        .argument('[files...]', 'input files (default: standard input; - is standard input)'),
    ),
  )
    .option('--format <format>', 'format of raw lines (default: detect each line)', 'auto')
    .option('--timezone <zone>', 'IANA zone for times written without an offset', 'UTC')
    .option('--batch-records <n>', 'records per appended batch', '5000')
    .action(
      runAction('store append', (files: string[], flags: AppendFlags) =>
        appendCommand(files, flags),
      ),
    );

  withDir(store.command('ls').description('one row per segment: time range, size, state')).action(
    runAction('store ls', (flags: StoreFlags) => lsCommand(flags)),
  );

  withDir(
    store.command('stats').description('totals per level, day and service; sizes and ratio'),
  ).action(runAction('store stats', (flags: StoreFlags) => statsCommand(flags)));

  withDir(store.command('cat').description('print records as NDJSON in time order'), false)
    .option('--since <time>', 'only records at or after: RFC 3339 or relative (15m, 2h, 3d)')
    .option('--until <time>', 'only records at or before: RFC 3339 or relative')
    .option('--order <order>', 'time (merged by timestamp) or storage (as stored)', 'time')
    .option('-f, --follow', 'keep printing new records as they are stored')
    .action(runAction('store cat', (flags: StoreFlags & { order: string }) => catCommand(flags)));

  withDir(
    store.command('verify').description('check every checksum and index; exit 1 on any problem'),
  ).action(runAction('store verify', (flags: StoreFlags) => verifyCommand(flags)));

  withDir(store.command('purge').description('apply the retention policy to closed segments'))
    .option('--retain-age <duration>', 'remove segments closed longer ago than this')
    .option('--retain-size <size>', 'remove oldest segments while the store is larger')
    .option('--retain-segments <n>', 'keep at most this many closed segments')
    .option('--dry-run', 'only say what would be removed')
    .action(runAction('store purge', (flags: StoreFlags) => purgeCommand(flags)));
}
