// `sluice capture`: follows log files through rotation and restarts, filters and tags their
// lines, and hands the records to JSON batch files, standard output or the store. A file's
// checkpoint moves only after every destination has taken the batch.

import type { Command } from 'commander';
import { Option } from 'commander';
import { runAction } from './run-action.js';
import { addRedactOptions, redactorFromFlags, type RedactFlags } from './redact-options.js';
import { ConfigError } from '../errors.js';
import { FORMATS, type Format } from '../record/record.js';
import { compileStartPattern, createMultiline, MULTILINE_PRESETS } from '../parse/index.js';
import type { MultilinePreset } from '../parse/index.js';
import {
  createFileSource,
  type FileBatch,
  type FileSource,
  type FileSourceOptions,
} from '../sources/file/index.js';
import { createLineFilter } from '../transforms/filter.js';
import { createTagger, loadTagRules, parseTagFlag, type TagRule } from '../transforms/tag.js';
import { BatchFileSink } from '../sinks/batch-files.js';
import { StdoutSink } from '../sinks/stdout.js';
import { openStoreWriter } from '../store/writer.js';
import { componentLogger } from '../telemetry/logger.js';
import { parseDurationMs, parsePositiveInt, parseSizeBytes } from '../util/units.js';

interface CaptureFlags extends RedactFlags {
  path: string[];
  excludePath: string[];
  startAt: string;
  state?: string;
  partialFlush: string;
  multiline?: string;
  multilineStart?: string;
  multilineTimeout: string;
  maxLineBytes: string;
  format: string;
  timezone: string;
  keepRaw?: boolean;
  include: string[];
  exclude: string[];
  tag: string[];
  rules?: string;
  out?: string;
  store?: string;
  batchSize: string;
  batchBytes: string;
  batchWait: string;
  pollInterval: string;
  watch: boolean;
  readGzip?: boolean;
}

/** A destination: takes the records of a batch, resolving once they are delivered. */
interface Destination {
  name: string;
  write(batch: FileBatch): Promise<unknown>;
  close(): Promise<void>;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  addRedactOptions(program.command('capture'))
    .description('Follow log files live through rotation and restarts; filter, tag and emit')
    .requiredOption(
      '--path <glob>',
      'files to follow (repeatable; *, ?, [..], {a,b}, **)',
      collect,
      [],
    )
    .option('--exclude-path <glob>', 'files to leave out (repeatable)', collect, [])
    .addOption(
      new Option('--start-at <where>', 'where to start in files found at the first start')
        .choices(['end', 'beginning'])
        .default('end'),
    )
    .option('--state <dir>', 'folder for checkpoints (resume after restart or crash)')
    .option('--partial-flush <duration>', 'emit a last line without newline after this', '5s')
    .addOption(
      new Option('--multiline <preset>', 'join stack traces into one record').choices([
        ...MULTILINE_PRESETS,
      ]),
    )
    .option('--multiline-start <regex>', 'a line matching this starts a new record')
    .option('--multiline-timeout <duration>', 'emit a pending multiline record after this', '1s')
    .option('--max-line-bytes <size>', 'truncate lines longer than this', '1MiB')
    .option('--format <format>', `line format: auto or ${FORMATS.join(', ')}`, 'auto')
    .option('--timezone <zone>', 'IANA zone for times written without an offset', 'UTC')
    .option('--keep-raw', 'keep the original line in raw on every record')
    .option('--include <regex>', 'keep only lines matching one of these (repeatable)', collect, [])
    .option('--exclude <regex>', 'drop lines matching any of these (repeatable)', collect, [])
    .option('--tag <name=regex>', 'add tag NAME to lines matching REGEX (repeatable)', collect, [])
    .option('--rules <file>', 'YAML rules: regexes to tags and extra fields')
    .option('--out <dir|->', 'write NDJSON batch files into DIR, or NDJSON to stdout with -')
    .option('--store <dir>', 'append the records to the store in DIR')
    .option(
      '--batch-size <n>',
      'records per batch (a batch file is written at this count)',
      '10000',
    )
    .option('--batch-bytes <size>', 'line bytes per batch (a batch is cut at this size)', '4MiB')
    .option('--batch-wait <duration>', 'longest wait before a non-full batch is written', '1s')
    .option(
      '--poll-interval <duration>',
      'how often files are checked besides watch events',
      '250ms',
    )
    .option('--read-gzip', 'also read rotated .gz archives that --path selects, once')
    .option('--no-watch', 'poll only, without file-system events')
    .action(runAction('capture', (flags: CaptureFlags) => capture(flags)));
}

function sourceOptions(flags: CaptureFlags): FileSourceOptions {
  if (flags.format !== 'auto' && !(FORMATS as readonly string[]).includes(flags.format)) {
    throw new ConfigError(
      `--format: "${flags.format}" is not a format; use auto or one of ${FORMATS.join(', ')}.`,
    );
  }
  if (flags.path.length === 0) {
    throw new ConfigError('--path: give at least one glob of files to follow.');
  }
  const rules: TagRule[] = flags.tag.map(parseTagFlag);
  if (flags.rules) rules.push(...loadTagRules(flags.rules));
  const opts: FileSourceOptions = {
    paths: flags.path,
    excludePaths: flags.excludePath,
    startAt: flags.startAt as 'end' | 'beginning',
    stateDir: flags.state,
    partialFlushMs: parseDurationMs(flags.partialFlush, '--partial-flush'),
    maxLineBytes: parseSizeBytes(flags.maxLineBytes, '--max-line-bytes'),
    parse: {
      format: flags.format as Format | 'auto',
      timezone: flags.timezone,
      keepRaw: flags.keepRaw,
    },
    lineFilter: createLineFilter({ include: flags.include, exclude: flags.exclude }),
    recordTransform: createTagger(rules),
    batchSize: parsePositiveInt(flags.batchSize, '--batch-size'),
    batchBytes: parseSizeBytes(flags.batchBytes, '--batch-bytes'),
    batchWaitMs: parseDurationMs(flags.batchWait, '--batch-wait'),
    pollIntervalMs: parseDurationMs(flags.pollInterval, '--poll-interval'),
    readGzip: flags.readGzip ?? false,
    noWatcher: !flags.watch,
  };
  if (flags.multiline && flags.multilineStart) {
    throw new ConfigError('--multiline and --multiline-start: give one of them, not both.');
  }
  if (flags.multiline || flags.multilineStart) {
    const multiline = {
      preset: flags.multiline as MultilinePreset | undefined,
      startPattern: flags.multilineStart ? compileStartPattern(flags.multilineStart) : undefined,
      timeoutMs: parseDurationMs(flags.multilineTimeout, '--multiline-timeout'),
    };
    createMultiline(multiline);
    opts.multiline = multiline;
  }
  return opts;
}

async function destinations(flags: CaptureFlags): Promise<Destination[]> {
  const out: Destination[] = [];
  const target = flags.out ?? (flags.store ? undefined : '-');
  if (target === '-') {
    const sink = new StdoutSink();
    const write = (b: FileBatch) =>
      b.ndjson ? sink.writeEncoded(b.ndjson) : sink.write(b.records);
    out.push({ name: 'stdout', write, close: async () => undefined });
  } else if (target !== undefined) {
    const sink = new BatchFileSink(target);
    // Named by the batch's cut time and id: a batch cut again after a crash replaces its file.
    const write = (b: FileBatch) => {
      const key = `${b.cutAt}-${b.id}`;
      return b.ndjson ? sink.writeEncoded(b.ndjson, b.count, key) : sink.write(b.records, key);
    };
    out.push({ name: target, write, close: async () => undefined });
  }
  if (flags.store) {
    const writer = await openStoreWriter(flags.store);
    // The batch id lets the store drop a batch that a crash made capture deliver again.
    const write = (b: FileBatch) => writer.append(b.records, { batchId: b.id });
    out.push({ name: flags.store, write, close: () => writer.close() });
  }
  return out;
}

/** One line per file on stderr: what was read, filtered and emitted, and what is left. */
function printMetrics(source: FileSource): void {
  let text = '';
  for (const m of source.metrics()) {
    text +=
      `sluice capture: file=${m.path} lines_read=${m.linesRead} lines_filtered=${m.linesFiltered}` +
      ` records_emitted=${m.recordsEmitted} records_from_bytes=${m.recordsFromBytes}` +
      ` lines_truncated=${m.linesTruncated}` +
      ` bytes_behind=${m.bytesBehind} checkpoint=${m.committedOffset} state="${m.decision}"\n`;
  }
  process.stderr.write(text || 'sluice capture: no files followed\n');
}

/**
 * Fault injection for crash tests: `SLUICE_CAPTURE_CRASH_AFTER=N` kills the process (SIGKILL)
 * once the Nth batch is in every destination and before it is acknowledged, the window in
 * which a crash makes capture deliver a batch again.
 */
const CRASH_AFTER = Number(process.env.SLUICE_CAPTURE_CRASH_AFTER ?? 0);
let deliveredCount = 0;

async function deliver(batch: FileBatch, sinks: Destination[]): Promise<void> {
  try {
    for (const sink of sinks) await sink.write(batch);
    if (CRASH_AFTER > 0 && ++deliveredCount === CRASH_AFTER) process.kill(process.pid, 'SIGKILL');
    batch.ack.delivered();
  } catch (err) {
    batch.ack.settle({ status: 'rejected', reason: (err as Error).message });
    throw err;
  }
}

async function capture(flags: CaptureFlags): Promise<number> {
  const log = componentLogger('capture');
  const redactor = redactorFromFlags(flags);
  // Records as objects only when something reads them (redaction, the store); else the
  // source hands over NDJSON bytes, made from plain access lines without a record each.
  const encodeRecords = redactor === undefined && flags.store === undefined;
  const source = createFileSource({ ...sourceOptions(flags), encodeRecords });
  const sinks = await destinations(flags);
  const stop = () => void source.stop();
  const onUsr1 = () => printMetrics(source);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGUSR1', onUsr1);
  try {
    await source.start();
    // Said on stderr whatever the log level: scripts and tests wait for this line.
    process.stderr.write(`sluice capture: following ${source.metrics().length} files\n`);
    // Batches are delivered concurrently (the source holds at most maxPendingBatches
    // unacknowledged), so one batch's fsync overlaps the next one's writing; each destination
    // still takes them in order, and a file's checkpoint moves only over acknowledged ones.
    const inflight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    for await (const batch of source) {
      if (failure) break;
      // The checkpoint must say how this batch was cut before it reaches a destination: a
      // crash then cuts it again identically (same id), whatever was checkpointed after it.
      await source.intended(batch);
      redactor?.redactBatch(batch.records);
      const delivery = deliver(batch, sinks).then(
        () => source.recycle(batch),
        (error: unknown) => {
          failure ??= { error };
          void source.stop();
        },
      );
      inflight.add(delivery);
      void delivery.finally(() => inflight.delete(delivery));
    }
    await Promise.all(inflight);
    if (failure) throw failure.error;
    await source.close();
  } catch (err) {
    await source.stop().catch(() => undefined);
    throw err;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    process.off('SIGUSR1', onUsr1);
    for (const sink of sinks) await sink.close().catch(() => undefined);
    printMetrics(source);
  }
  log.info('Capture stopped.');
  return 0;
}
