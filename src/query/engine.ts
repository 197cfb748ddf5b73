// The query engine: reads each input in large blocks, lets the prefilter pick candidate lines,
// parses only those, applies the record filter and hands matches to the sink. The same
// filter runs over store batches, where records arrive already parsed.

import type { Level, LogRecord } from '../record/record.js';
import { levelFromStatus } from '../parse/level.js';
import type { LineParser } from '../parse/line-parser.js';
import type { ParseOptions } from '../parse/options.js';
import type { RecordFilter } from './filter.js';
import type { Prefilter } from './prefilter.js';
import {
  BlockAssembler,
  openBlocks,
  openFile,
  rangeBlocks,
  splitSize,
  type Block,
  type BlockSource,
  type ReadStats,
} from './read.js';
import { countChunksOnWorker, type ChunkWorker } from './split.js';
import type { LevelJob, LevelWorker } from './split-level.js';
import { ChunkClaims, MAIN, WORKER, chunkOwners, chunkRange, claimChunk } from './chunks.js';
import {
  scanBlock,
  RAW_SKIP,
  RAW_STOP,
  RAW_VISIT,
  type AccessLineHandler,
  type LineHandler,
} from './scan.js';
import { rawAccessLine, readRawAccess, type RawAccessLine } from './probe/access-raw.js';

/** Where matches go: an output format, a counter, or statistics. */
export interface Sink {
  /** False when the sink can do with the line alone (counting, raw output). */
  readonly needsRecord: boolean;
  /** One match: the record (when parsed) and its line (when it came from a file). */
  write(rec: LogRecord | undefined, line: string | undefined): void;
  /** False when the sink ignores the line too (a count): lines taken raw are then not decoded. */
  readonly needsLine?: boolean;
  /** Takes a match read raw off an access line, without a record (statistics). */
  writeAccess?(buf: Buffer, line: RawAccessLine): void;
  /** Called after each block: waits while the output is congested. */
  drain(): Promise<void>;
  /** Called once at the end. */
  end(): Promise<void>;
}

export interface EngineOptions {
  filter: RecordFilter;
  prefilter: Prefilter;
  parse: ParseOptions;
  sink: Sink;
  /** Stop after this many matches. */
  limit?: number;
  /**
   * A light reader for lines of a common shape (access logs): a line it reads is filtered on
   * the light record; with `accept`, a light record that passes goes to the sink unparsed.
   */
  light?: { probe: (line: string) => LogRecord | undefined; accept: boolean };
  /**
   * Reading access lines off their raw bytes (probe/access-raw.ts), in files whose first lines
   * read that way. A line whose status fails `statusTest` cannot match and is skipped. With
   * `decide` (the filter reads only level and http.status, and the sink needs no record) the
   * filter runs on those two fields and a match goes to the sink without decoding the line.
   */
  rawAccess?: { statusTest?: (status: number) => boolean; decide: boolean };
  /**
   * The --grep pattern when it is a plain case-sensitive literal and the only filter, and the
   * sink needs no record: a literal hit on a raw access line is then decided on the request
   * bytes (the record's message) without decoding or parsing the line.
   */
  messageLiteral?: Buffer;
  /**
   * Set when --level is the only filter: a large plain file is then read by two threads, the
   * worker picking candidate lines with the same prefilter (split.ts), this thread parsing and
   * printing them in file order.
   */
  parallelLevel?: Level;
  /** Keep reading files as they grow, until the signal aborts. */
  follow?: { signal: AbortSignal; pollIntervalMs?: number };
  maxLineBytes?: number;
}

export interface EngineResult {
  matched: number;
  /** Lines handed to the parser (the rest were rejected on their raw bytes). */
  parsedLines: number;
  bytes: number;
  cutLines: number;
  /** Stored lines that were not valid JSON records (skipped). */
  badRecords: number;
}

const NO_PREFILTER: Prefilter = {
  literal: undefined,
  candidates: undefined,
  checks: [],
  invertLiteral: undefined,
};

/** Container runtime wrappers join partial lines, so every line must reach the parser. */
const CONTAINER_LINE = /^(?:\{"log":|\d{4}-\d\d-\d\dT\S+ (?:stdout|stderr) [PF] )/;

async function loadParser(options: ParseOptions): Promise<LineParser> {
  const { createLineParser } = await import('../parse/line-parser.js');
  return createLineParser(options);
}

/** What a file's first block decided, kept for the rest of the file. */
interface FileScan {
  pre: Prefilter | undefined;
  access: AccessLineHandler | undefined;
}

/** A file read by two threads: its size and the shared chunk owners (chunks.ts). */
interface SplitFile {
  path: string;
  size: number;
  owners: Int32Array;
  /** The worker, once the first block has shown that it can count the file's lines. */
  worker?: ChunkWorker;
  /** Or the worker picking candidate lines, for output in order. */
  levelWorker?: LevelWorker;
  /** Starts that worker (split-level.ts, loaded only for such a file). */
  startLevelWorker?: (job: LevelJob) => LevelWorker;
}

/** Loaded only when following: a plain query needs no watcher. */
async function followSource(
  path: string,
  follow: NonNullable<EngineOptions['follow']>,
  maxLineBytes: number | undefined,
): Promise<BlockSource> {
  const { followBlocks, DEFAULT_POLL_INTERVAL_MS } = await import('./follow.js');
  return followBlocks(path, {
    signal: follow.signal,
    pollIntervalMs: follow.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    maxLineBytes,
  });
}

export class QueryEngine {
  private matched = 0;
  private parsedLines = 0;
  private bytes = 0;
  private cutLines = 0;
  private badRecords = 0;
  private stopped = false;
  private readonly out: LogRecord[] = [];
  /** The two-field records the raw access filter runs on: with and without a status. */
  private readonly rawWithStatus = { level: 'info', http: { status: 0 } } as LogRecord;
  private readonly rawNoStatus = { level: 'info', http: {} } as LogRecord;

  constructor(private readonly options: EngineOptions) {}

  get done(): boolean {
    return this.stopped;
  }

  /** Queries one file ("-" for standard input). */
  async runFile(path: string): Promise<void> {
    const { follow } = this.options;
    const parseOptions = { ...this.options.parse, source: path === '-' ? undefined : path };
    // The parsers are loaded when a line first needs one: a query that the raw readers answer
    // alone never loads them. Until then, lines to parse wait; as that changes their order,
    // only sinks for which order does not matter (a count, statistics) let them wait.
    const unordered = this.options.sink.needsLine === false || this.options.sink.writeAccess;
    let parser = unordered ? undefined : await loadParser(parseOptions);
    const waiting: string[] = [];
    const scan: FileScan = { pre: undefined, access: undefined };
    const parse = (line: string) => {
      if (parser !== undefined) return this.parse(parser, line);
      waiting.push(line);
      return true;
    };
    const handle = (line: string, sure: boolean) => this.line(parse, line, sure);
    const afterBlock = async () => {
      if (waiting.length > 0 && !this.stopped) {
        parser ??= await loadParser(parseOptions);
        for (const line of waiting) if (!this.parse(parser, line)) break;
      }
      waiting.length = 0;
      await this.options.sink.drain();
    };
    const size = await this.splitFor(path);
    if (size !== undefined && this.options.messageLiteral === undefined) {
      await this.runOrderedSplit(path, size, scan, handle, afterBlock);
    } else if (size !== undefined) {
      // A split file is counted (splitFor): only lines waiting for the parser need a pause.
      const afterChunkBlock = () => (waiting.length > 0 ? afterBlock() : undefined);
      await this.runSplit(path, size, scan, handle, afterChunkBlock);
    } else {
      const source: BlockSource =
        follow && path !== '-'
          ? await followSource(path, follow, this.options.maxLineBytes)
          : await openBlocks(path, this.options.maxLineBytes);
      try {
        await this.scanSource(source.blocks(), scan, handle, afterBlock);
      } finally {
        this.addStats(source.stats);
      }
    }
    if (!this.stopped && parser !== undefined) {
      this.out.length = 0;
      parser.flush(this.out);
      for (const rec of this.out) if (!this.offer(rec, undefined)) break;
    }
  }

  private addStats(stats: ReadStats): void {
    this.bytes += stats.bytes;
    this.cutLines += stats.cutLines;
  }

  /** Scans every block of a source. */
  private async scanSource(
    blocks: AsyncIterable<Block>,
    scan: FileScan,
    handle: LineHandler,
    afterBlock: () => Promise<void>,
  ): Promise<void> {
    for await (const block of blocks) {
      if (scan.pre === undefined) this.firstBlock(block, scan);
      if (!scanBlock(block.buf, block.end, scan.pre as Prefilter, handle, scan.access)) {
        this.stopped = true;
      }
      await afterBlock();
      if (this.stopped) break;
    }
  }

  /** Decides the prefilter and raw reading on a file's first block; may start the worker. */
  private firstBlock(block: Block, scan: FileScan, split?: SplitFile): void {
    scan.pre = this.prefilterFor(block);
    scan.access = this.rawAccessFor(block, scan.pre);
    const literal = this.options.messageLiteral;
    const level = this.options.parallelLevel;
    if (split && level !== undefined && literal === undefined) {
      // Only where this thread's prefilter is the one the worker builds from --level alone.
      if (scan.access === undefined && scan.pre === this.options.prefilter) {
        split.levelWorker = split.startLevelWorker?.({
          kind: 'level',
          path: split.path,
          size: split.size,
          owners: split.owners,
          level,
          maxLineBytes: this.options.maxLineBytes,
        });
      }
    } else if (split && scan.access && literal) {
      split.worker = countChunksOnWorker({
        kind: 'count',
        path: split.path,
        size: split.size,
        owners: split.owners,
        literal,
        maxLineBytes: this.options.maxLineBytes,
      });
    }
  }

  /**
   * The blocks of one chunk of a split file, read synchronously: a count needs no draining,
   * so the loop yields to the event loop only when lines wait for the parser.
   */
  private async scanChunk(
    blocks: Iterable<Block>,
    scan: FileScan,
    handle: LineHandler,
    afterBlock: () => Promise<void> | undefined,
    split: SplitFile,
  ): Promise<void> {
    for (const block of blocks) {
      if (scan.pre === undefined) this.firstBlock(block, scan, split);
      if (!scanBlock(block.buf, block.end, scan.pre as Prefilter, handle, scan.access)) {
        this.stopped = true;
      }
      const after = afterBlock();
      if (after !== undefined) await after;
      if (this.stopped) break;
    }
  }

  /**
   * A large file read by this thread and a worker side by side, chunk by chunk: whichever is
   * free takes the next chunk. Chunks the worker claimed but did not count (it failed, or gave
   * up) are read here afterwards.
   */
  private async runSplit(
    path: string,
    size: number,
    scan: FileScan,
    handle: LineHandler,
    afterBlock: () => Promise<void> | undefined,
  ): Promise<void> {
    const fh = await openFile(path);
    const split: SplitFile = { path, size, owners: chunkOwners(size) };
    const assembler = new BlockAssembler(this.options.maxLineBytes);
    const readChunk = (k: number) =>
      this.scanChunk(
        rangeBlocks(fh.fd, assembler, chunkRange(fh.fd, size, k)),
        scan,
        handle,
        afterBlock,
        split,
      );
    try {
      const claims = new ChunkClaims(split.owners, MAIN);
      for (let k = claims.claim(); k >= 0 && !this.stopped; k = claims.claim()) await readChunk(k);
      const worker = split.worker;
      // Every chunk was read here before the worker took one: it is not waited for.
      if (worker === undefined || !split.owners.includes(WORKER)) return;
      const result = await worker.result;
      split.worker = undefined;
      const done = new Set(result?.done);
      if (result !== undefined) {
        this.addStats(result);
        for (let i = 0; i < result.matched; i++) this.accept(undefined, undefined);
        for (const line of result.visit) if (!handle(line, false)) break;
        await afterBlock();
      }
      for (let k = 0; k < split.owners.length && !this.stopped; k++) {
        if (split.owners[k] === WORKER && !done.has(k)) await readChunk(k);
      }
    } finally {
      // Not waited for (nothing left for it, or this thread failed): stopped.
      await split.worker?.stop();
      this.addStats(assembler.stats);
      await fh.close();
    }
  }

  /**
   * A large file whose candidate lines a worker picks, from the end backwards, while this
   * thread reads chunks from the start; this thread takes every chunk in file order, waiting
   * for the worker's lines of a chunk it claimed (or reading the chunk itself when the worker
   * failed).
   */
  private async runOrderedSplit(
    path: string,
    size: number,
    scan: FileScan,
    handle: LineHandler,
    afterBlock: () => Promise<void>,
  ): Promise<void> {
    const { levelChunksOnWorker } = await import('./split-level.js');
    const fh = await openFile(path);
    const split: SplitFile = {
      path,
      size,
      owners: chunkOwners(size),
      startLevelWorker: levelChunksOnWorker,
    };
    const assembler = new BlockAssembler(this.options.maxLineBytes);
    try {
      for (let k = 0; k < split.owners.length && !this.stopped; k++) {
        const mine = claimChunk(split.owners, k, MAIN);
        const picked = mine ? undefined : await split.levelWorker?.chunk(k);
        if (picked === undefined) {
          const blocks = rangeBlocks(fh.fd, assembler, chunkRange(fh.fd, size, k));
          await this.scanChunk(blocks, scan, handle, afterBlock, split);
          continue;
        }
        this.addStats(picked);
        for (const line of picked.lines) {
          if (!handle(line, false)) {
            this.stopped = true;
            break;
          }
        }
        await afterBlock();
      }
    } finally {
      await split.levelWorker?.stop();
      this.addStats(assembler.stats);
      await fh.close();
    }
  }

  /**
   * The size of a file to read on two threads: only a large plain file, no --limit or
   * --follow, and either a literal decided on access lines (messageLiteral) with a plain count,
   * or --level as the only filter (parallelLevel).
   */
  private async splitFor(path: string): Promise<number | undefined> {
    const { messageLiteral, parallelLevel, sink, limit, follow } = this.options;
    if (limit !== undefined || follow !== undefined || path === '-') return;
    const count = messageLiteral !== undefined && sink.needsLine === false && !sink.writeAccess;
    if (!count && (messageLiteral !== undefined || parallelLevel === undefined)) return;
    return splitSize(path);
  }

  /**
   * Queries NDJSON records in chunks of whole lines (the store's raw reader). The prefilter
   * runs on the JSON text just as on a log file, and survivors are decoded, not parsed.
   */
  async runRecordLines(chunks: AsyncIterable<Buffer>): Promise<void> {
    // Loaded only here: querying files needs no JSON record decoder.
    const { decodeJson } = await import('../record/json.js');
    const handle = (line: string) => this.recordLine(line, decodeJson);
    let pre = this.options.prefilter;
    if (pre.candidatesFileOnly) pre = { ...pre, candidates: undefined, candidateTest: undefined };
    for await (const chunk of chunks) {
      this.bytes += chunk.length;
      if (!scanBlock(chunk, chunk.length, pre, handle)) this.stopped = true;
      await this.options.sink.drain();
      if (this.stopped) break;
    }
  }

  private recordLine(line: string, decodeJson: (text: string) => unknown): boolean {
    if (line.length === 0) return true;
    this.parsedLines++;
    let rec: LogRecord;
    try {
      rec = decodeJson(line) as LogRecord;
    } catch {
      this.badRecords++;
      return true;
    }
    return this.offer(rec, rec.raw ?? line);
  }

  async finish(): Promise<EngineResult> {
    await this.options.sink.end();
    return {
      matched: this.matched,
      parsedLines: this.parsedLines,
      bytes: this.bytes,
      cutLines: this.cutLines,
      badRecords: this.badRecords,
    };
  }

  private prefilterFor(first: Block): Prefilter {
    const head = first.buf.toString('latin1', 0, Math.min(first.end, 4096));
    const lines = head.split('\n').slice(0, 8);
    return lines.some((l) => CONTAINER_LINE.test(l)) ? NO_PREFILTER : this.options.prefilter;
  }

  /** The raw access reading, when asked for and the block's first lines read that way. */
  private rawAccessFor(first: Block, pre: Prefilter): AccessLineHandler | undefined {
    const raw = this.options.rawAccess;
    const literal = this.options.messageLiteral;
    const byLiteral =
      literal !== undefined && pre.literal?.equals(literal) === true && pre.checks.length === 0;
    if (!byLiteral && (raw === undefined || pre.literal !== undefined)) return undefined;
    const facts = rawAccessLine();
    let s = 0;
    let read = 0;
    for (let n = 0; n < 8 && s < first.end; n++) {
      let e = first.buf.indexOf(10, s);
      if (e < 0 || e > first.end) e = first.end;
      if (readRawAccess(first.buf, s, e, facts)) read++;
      s = e + 1;
    }
    if (read < 4) return undefined;
    if (byLiteral) return (buf, s, e, line) => this.literalAccess(buf, s, e, line, literal);
    if (raw === undefined) return undefined;
    const { statusTest, decide } = raw;
    return (buf, s, e, line) => {
      if (statusTest !== undefined && !statusTest(line.status)) return RAW_SKIP;
      return decide ? this.decideAccess(buf, s, e, line) : RAW_VISIT;
    };
  }

  /** A literal hit on a raw access line matches when the literal is in the request. */
  private literalAccess(
    buf: Buffer,
    s: number,
    e: number,
    line: RawAccessLine,
    literal: Buffer,
  ): number {
    if (buf.subarray(line.requestStart, line.requestEnd).indexOf(literal) < 0) return RAW_SKIP;
    return this.takeRaw(buf, s, e, line);
  }

  /** Runs the filter on a raw access line's level and status; a match goes to the sink. */
  private decideAccess(buf: Buffer, s: number, e: number, line: RawAccessLine): number {
    const level = levelFromStatus(line.status);
    let rec: LogRecord;
    if (line.status < 0) rec = this.rawNoStatus;
    else {
      rec = this.rawWithStatus;
      (rec.http as { status: number }).status = line.status;
    }
    rec.level = level;
    if (!this.options.filter.predicate(rec)) return RAW_SKIP;
    return this.takeRaw(buf, s, e, line);
  }

  /** A match read raw: to the sink without a record. */
  private takeRaw(buf: Buffer, s: number, e: number, line: RawAccessLine): number {
    const sink = this.options.sink;
    this.matched++;
    if (sink.writeAccess !== undefined) sink.writeAccess(buf, line);
    else sink.write(undefined, sink.needsLine === false ? undefined : buf.toString('utf8', s, e));
    const { limit } = this.options;
    if (limit !== undefined && this.matched >= limit) {
      this.stopped = true;
      return RAW_STOP;
    }
    return RAW_SKIP;
  }

  private line(parse: (line: string) => boolean, raw: string, sure: boolean): boolean {
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (line.length === 0) return true;
    const { filter, sink } = this.options;
    if (!sink.needsRecord && (filter.all || (sure && filter.onlyGrep))) {
      return this.accept(undefined, line);
    }
    const light = this.options.light;
    if (light !== undefined) {
      const rec = light.probe(line);
      if (rec !== undefined) {
        if (!filter.predicate(rec)) return true;
        if (light.accept) return this.accept(rec, line);
      }
    }
    return parse(line);
  }

  /** Parses a line and offers its records; false when the query is done. */
  private parse(parser: LineParser, line: string): boolean {
    this.parsedLines++;
    const out = this.out;
    out.length = 0;
    parser.push(line, out);
    for (let i = 0; i < out.length; i++) if (!this.offer(out[i], line)) return false;
    return true;
  }

  private offer(rec: LogRecord, line: string | undefined): boolean {
    if (!this.options.filter.predicate(rec)) return true;
    return this.accept(rec, line);
  }

  private accept(rec: LogRecord | undefined, line: string | undefined): boolean {
    this.matched++;
    this.options.sink.write(rec, line);
    const { limit } = this.options;
    if (limit !== undefined && this.matched >= limit) {
      this.stopped = true;
      return false;
    }
    return true;
  }
}
