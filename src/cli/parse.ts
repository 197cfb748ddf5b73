// `sluice parse [FILE...]`: raw log lines in, one normalized record per line out as NDJSON,
// or aggregate statistics with --stats.

import type { Command } from 'commander';
import { Option } from 'commander';
import { runAction } from './run-action.js';
import { ConfigError, IoError } from '../errors.js';
import { parsePositiveInt, parseSizeBytes } from '../util/units.js';
import { FORMATS } from '../record/record.js';
import type { Format, LogRecord } from '../record/record.js';
import { RecordBytesWriter } from '../record/json-bytes.js';
import { createLineParser, markTruncated } from '../parse/line-parser.js';
import type { ParseOptions } from '../parse/options.js';
import { DEFAULT_MAX_LINE_BYTES } from '../parse/options.js';
import { createMultiline, compileStartPattern, MULTILINE_PRESETS } from '../parse/multiline.js';
import type { Multiline, MultilinePreset } from '../parse/multiline.js';
import { ParseStats, formatStatsTable } from '../parse/stats.js';
import { NewlineFramer } from '../framing/newline.js';
import type { ByteLineTaker } from '../framing/newline.js';
import { AccessBytes, accessBytesFormat, newAccessByteFacts } from '../parse/access-bytes.js';
import { AccessSplit, SPLIT_MIN_BYTES, ShareChooser } from '../parse/access-split.js';
import { FACT_FIELDS } from '../parse/access-worker.js';
import type { SplitJob } from '../parse/access-worker.js';
import type { AutoLineParser } from '../parse/line-parser.js';
import { openInput } from '../sources/input.js';

interface ParseFlags {
  format: string;
  timezone: string;
  assumeYear?: string;
  now?: string;
  keepRaw?: boolean;
  maxLineBytes: string;
  multiline?: string;
  multilineStart?: string;
  stats?: boolean;
  top: string;
  output?: string;
}

/**
 * Records are encoded straight into 256 KiB Buffers (src/record/json-bytes.ts) and each full
 * one is written at once; after every input chunk the rest is written and, when stdout said
 * so, reading waits for it to drain (back-pressure).
 */
class Output {
  private blocked = false;
  readonly records: RecordBytesWriter;

  constructor(private readonly stream: NodeJS.WritableStream) {
    this.records = new RecordBytesWriter((chunk) => this.writeRecords(chunk));
  }

  /** Text after the records written so far (the --stats report). */
  text(s: string): void {
    const pending = this.records.take();
    if (pending !== undefined) this.writeRecords(pending);
    this.blocked = !this.stream.write(s) || this.blocked;
  }

  /** Writes encoded records; the Buffer goes back to the writer once the stream is done. */
  private writeRecords(chunk: Buffer): void {
    const ok = this.stream.write(chunk, (err) => {
      if (!err) this.records.recycle(chunk);
    });
    this.blocked = !ok || this.blocked;
  }

  async drain(): Promise<void> {
    const pending = this.records.take();
    if (pending !== undefined) this.writeRecords(pending);
    if (this.blocked) {
      this.blocked = false;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done);
          this.stream.off('close', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('close', done);
      });
    }
  }
}

function parseNow(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(n)) {
    throw new ConfigError(
      `--now: "${text}" is not a time; use RFC 3339 (2024-01-01T00:00:00Z) or epoch ms.`,
    );
  }
  return n;
}

function buildOptions(flags: ParseFlags): ParseOptions {
  if (flags.format !== 'auto' && !(FORMATS as readonly string[]).includes(flags.format)) {
    throw new ConfigError(
      `--format: "${flags.format}" is not a format; use auto or one of ${FORMATS.join(', ')}.`,
    );
  }
  const opts: ParseOptions = {
    format: flags.format as Format | 'auto',
    timezone: flags.timezone,
    keepRaw: flags.keepRaw === true,
    maxLineBytes: parseSizeBytes(flags.maxLineBytes, '--max-line-bytes'),
  };
  if ((opts.maxLineBytes ?? 1) < 1) {
    throw new ConfigError(`--max-line-bytes: "${flags.maxLineBytes}" must be at least 1 byte.`);
  }
  if (flags.assumeYear !== undefined) {
    const y = parsePositiveInt(flags.assumeYear, '--assume-year');
    if (y > 9999) throw new ConfigError(`--assume-year: ${y} is not a year from 1 to 9999.`);
    opts.assumeYear = y;
  }
  if (flags.now !== undefined) opts.now = parseNow(flags.now);
  return opts;
}

function buildMultiline(flags: ParseFlags): (() => Multiline) | undefined {
  if (flags.multiline !== undefined && flags.multilineStart !== undefined) {
    throw new ConfigError('--multiline and --multiline-start cannot be used together.');
  }
  if (flags.multilineStart !== undefined) {
    const re = compileStartPattern(flags.multilineStart);
    return () => createMultiline({ startPattern: re });
  }
  if (flags.multiline !== undefined) {
    const preset = flags.multiline as MultilinePreset;
    if (!MULTILINE_PRESETS.includes(preset)) {
      throw new ConfigError(
        `--multiline: "${flags.multiline}" is unknown; use java, python or go.`,
      );
    }
    return () => createMultiline({ preset });
  }
  return undefined;
}

interface Sink {
  records(recs: LogRecord[], line: number, source: string | undefined): void;
  /** Called after each input chunk; may wait for stdout. */
  afterChunk(): Promise<void>;
  /** Where NDJSON goes, for the access-log fast path (undefined with --stats). */
  writer?: RecordBytesWriter;
}

/** Share of a chunk's lines the fast path must take for the next chunk to be shared. */
const WORKER_MIN_TAKEN = 0.9;

/** Parts of a shared chunk the main thread frames itself, by output. */
const NDJSON_MAIN_SHARE = 0.4;
const STATS_MAIN_SHARE = 0.25;

/** What parseInput() shares with the access worker for one input. */
interface Shared {
  split: AccessSplit;
  parser: AutoLineParser;
  framer: NewlineFramer;
  onLine: (line: string, truncated: boolean) => void;
  stats: ParseStats | undefined;
  writer: RecordBytesWriter | undefined;
  job: Omit<SplitJob, 'id' | 'memory' | 'length'>;
  /** Counts lines the worker took. */
  counted: (lines: number) => void;
}

/**
 * Frames a chunk with its second half given to the access worker: the main thread frames the
 * first half meanwhile, then keeps the lines the worker took from the start of the second half
 * when the line parser's state after the first half would have given them to parseAccess too
 * (--stats counts them whatever the state, as its light path does), and frames the rest.
 */
async function shareChunk(chunk: Buffer, sh: Shared): Promise<void> {
  // The main thread also reads, copies, writes and (--stats) counts the worker's lines: it
  // frames the smaller part itself (shares chosen from profiles, where each thread then
  // waited least for the other).
  const share = sh.stats !== undefined ? STATS_MAIN_SHARE : NDJSON_MAIN_SHARE;
  const mid = chunk.indexOf(10, Math.floor(chunk.length * share));
  const last = chunk.lastIndexOf(10);
  if (mid < 0 || mid >= last) {
    sh.framer.push(chunk, sh.onLine);
    return;
  }
  const second = chunk.subarray(mid + 1, last + 1);
  const job = sh.split.run(second, sh.job);
  sh.framer.push(chunk.subarray(0, mid + 1), sh.onLine);
  const done = await job;
  let from = mid + 1;
  const r = done?.result;
  if (done !== undefined && r !== undefined && r.lines > 0) {
    if (sh.stats !== undefined) {
      addFacts(sh.stats, second, new Float64Array(done.memory.facts, 0, r.lines * FACT_FIELDS));
      sh.counted(r.lines);
      from += r.consumed;
    } else if (sh.writer !== undefined && sh.parser.takesAccess(second[0], second[10])) {
      sh.parser.sawAccess();
      sh.writer.append(new Uint8Array(done.memory.output, 0, r.outputBytes));
      sh.counted(r.lines);
      from += r.consumed;
    }
  }
  sh.framer.push(chunk.subarray(from), sh.onLine);
}

function addFacts(stats: ParseStats, bytes: Buffer, facts: Float64Array): void {
  const f = newAccessByteFacts();
  f.hashed = true;
  for (let i = 0; i < facts.length; i += FACT_FIELDS) {
    f.clientStart = facts[i];
    f.clientEnd = facts[i + 1];
    f.pathStart = facts[i + 2];
    f.pathEnd = facts[i + 3];
    f.status = facts[i + 4];
    f.combined = facts[i + 5] === 1;
    f.epochMs = facts[i + 6];
    f.clientHash = facts[i + 7];
    f.pathHash = facts[i + 8];
    stats.addAccessBytes(bytes, f);
  }
}

/**
 * The byte-level fast path for plain access lines (src/parse/access-bytes.ts), when the
 * options allow it: no multiline joining, an access format or detection. It writes NDJSON or
 * counts --stats.
 */
function accessTaker(
  opts: ParseOptions,
  multiline: boolean,
  parser: AutoLineParser,
  source: string | undefined,
  sink: Sink,
  stats: ParseStats | undefined,
  counted: () => void,
): ByteLineTaker | undefined {
  const writer = sink.writer;
  if (multiline || !accessBytesFormat(opts.format)) return undefined;
  const fast = new AccessBytes(source, opts.keepRaw === true);
  if (stats !== undefined) {
    // As the --stats light path for strings (parseOne): counted whatever the previous line.
    const facts = newAccessByteFacts();
    return {
      scan: (buf, start) => fast.scan(buf, start),
      take(buf) {
        counted();
        fast.facts(buf, facts);
        stats.addAccessBytes(buf, facts);
        return true;
      },
    };
  }
  if (writer === undefined) return undefined;
  return {
    scan: (buf, start) => fast.scan(buf, start),
    take(buf, start) {
      if (!parser.takesAccess(buf[start], buf[start + 10])) return false;
      parser.sawAccess();
      counted();
      fast.write(buf, writer);
      return true;
    },
  };
}

/** Reads one input through framer → (multiline) → parser into the sink. */
async function parseInput(
  path: string,
  opts: ParseOptions,
  multiline: (() => Multiline) | undefined,
  sink: Sink,
  stats: ParseStats | undefined,
  split: AccessSplit,
): Promise<void> {
  const source = path === '-' ? undefined : path;
  const parser = createLineParser({ ...opts, source });
  const joiner = multiline?.();
  const recs: LogRecord[] = [];
  let lineNo = 0;
  // Lines the fast path took: the worker is asked only while nearly all lines are its kind
  // (in a mixed file it would stop early on most chunks and only add its memory).
  let taken = 0;
  const count = () => {
    lineNo++;
    taken++;
  };
  const taker = accessTaker(opts, joiner !== undefined, parser, source, sink, stats, count);
  const framer = new NewlineFramer({ maxLineBytes: opts.maxLineBytes, taker });
  let eventLine = 0;
  // --stats on access logs counts most lines without building records (src/parse/access-stats).
  const light = stats !== undefined && !multiline && accessBytesFormat(opts.format);
  const parseOne = (text: string, truncated: boolean, at: number) => {
    if (light && !truncated && stats.addAccessLine(text)) return;
    parser.push(text, recs);
    if (truncated) for (const r of recs) markTruncated(r);
    if (recs.length > 0) {
      sink.records(recs, at, source);
      recs.length = 0;
    }
  };
  const onLine = (line: string, truncated: boolean) => {
    lineNo++;
    if (!joiner) return parseOne(line, truncated, lineNo);
    const wasPending = joiner.pending;
    const done = joiner.push(line);
    for (const ev of done) parseOne(ev, false, eventLine);
    if (!wasPending || done.length > 0) eventLine = lineNo;
  };
  const shared: Shared | undefined =
    taker !== undefined && split.usable
      ? {
          split,
          parser,
          framer,
          onLine,
          stats,
          writer: sink.writer,
          job: {
            stats: stats !== undefined,
            source,
            keepRaw: opts.keepRaw === true,
            forced: opts.format === 'apache_common' || opts.format === 'apache_combined',
            maxLineBytes: opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
          },
          counted: (n) => {
            lineNo += n;
            taken += n;
          },
        }
      : undefined;
  let worthSharing = false;
  const chooser = new ShareChooser();
  for await (const chunk of openInput(path)) {
    if (stats) stats.bytes += chunk.length;
    const linesBefore = lineNo;
    const takenBefore = taken;
    if (shared !== undefined && worthSharing && chunk.length >= SPLIT_MIN_BYTES) {
      const share = chooser.share();
      const started = performance.now();
      if (share) await shareChunk(chunk, shared);
      else framer.push(chunk, onLine);
      chooser.record(share, chunk.length, performance.now() - started);
    } else framer.push(chunk, onLine);
    worthSharing = taken - takenBefore >= (lineNo - linesBefore) * WORKER_MIN_TAKEN;
    await sink.afterChunk();
  }
  framer.end(onLine);
  if (joiner) for (const ev of joiner.flush()) parseOne(ev, false, eventLine);
  parser.flush(recs);
  if (recs.length > 0) sink.records(recs, lineNo, source);
  recs.length = 0;
  if (stats) stats.lines += lineNo;
}

async function run(files: string[], flags: ParseFlags): Promise<number> {
  const opts = buildOptions(flags);
  const multiline = buildMultiline(flags);
  const topN = parsePositiveInt(flags.top, '--top');
  const output = flags.output ?? 'table';
  if (output !== 'table' && output !== 'json') {
    throw new ConfigError(`--output: "${output}" is unknown; use table or json.`);
  }
  const inputs = files.length > 0 ? files : ['-'];
  const out = new Output(process.stdout);
  const stats = flags.stats ? new ParseStats() : undefined;
  const sink: Sink = stats
    ? {
        records(recs, line, source) {
          for (const r of recs) stats.add(r, line, source);
        },
        afterChunk: async () => undefined,
      }
    : {
        records(recs) {
          for (const r of recs) out.records.add(r);
        },
        afterChunk: () => out.drain(),
        writer: out.records,
      };
  let failed = false;
  const split = new AccessSplit();
  for (const path of inputs) {
    try {
      await parseInput(path, opts, multiline, sink, stats, split);
    } catch (err) {
      if (!(err instanceof IoError)) throw err;
      failed = true;
      await out.drain();
      process.stderr.write(`sluice parse: ${err.message}\n`);
    }
  }
  split.close();
  if (stats) {
    const report = stats.report(topN);
    out.text(output === 'json' ? JSON.stringify(report) + '\n' : formatStatsTable(report));
  }
  await out.drain();
  return failed ? 2 : 0;
}

export function register(program: Command): void {
  program
    .command('parse')
    .description('Parse raw log lines (files or stdin, gzip detected) into records as NDJSON.')
    .argument('[files...]', 'files to read ("-" or none for standard input)')
    .addOption(
      new Option('-f, --format <name>', 'format to use, or auto to detect line by line')
        .choices(['auto', ...FORMATS])
        .default('auto'),
    )
    .option('--timezone <zone>', 'IANA zone for times written without an offset', 'UTC')
    .option('--assume-year <year>', 'year for RFC 3164 times (default: inferred from --now)')
    .option('--now <time>', 'reference time (RFC 3339 or epoch ms) instead of the clock')
    .option('--keep-raw', 'keep the original line in "raw" on every record')
    .option(
      '--max-line-bytes <size>',
      'longest line kept whole; longer lines are cut and marked fields.truncated',
      String(DEFAULT_MAX_LINE_BYTES),
    )
    .addOption(
      new Option('--multiline <preset>', 'join stack traces into one event').choices([
        ...MULTILINE_PRESETS,
      ]),
    )
    .option('--multiline-start <regex>', 'a line matching REGEX starts an event; others join it')
    .option('--stats', 'print aggregate statistics instead of records')
    .option('--top <n>', 'how many top paths, IPs, hosts and services --stats lists', '10')
    .addOption(
      new Option('--output <kind>', 'statistics as an aligned table or one JSON document')
        .choices(['table', 'json'])
        .default('table'),
    )
    .action(runAction('parse', (files: string[], flags: ParseFlags) => run(files, flags)));
}
