// The query engine: reads each input in large blocks, lets the prefilter pick candidate lines,
// parses only those, applies the record filter and hands matches to the sink. The same
// filter runs over store batches, where records arrive already parsed.

import type { LogRecord } from '../record/record.js';
import { decodeJson } from '../record/json.js';
import { createLineParser } from '../parse/line-parser.js';
import type { ParseOptions } from '../parse/options.js';
import type { RecordFilter } from './filter.js';
import type { Prefilter } from './prefilter.js';
import { openBlocks, type Block, type BlockSource } from './read.js';
import { scanBlock } from './scan.js';

/** Where matches go: an output format, a counter, or statistics. */
export interface Sink {
  /** False when the sink can do with the line alone (counting, raw output). */
  readonly needsRecord: boolean;
  /** One match: the record (when parsed) and its line (when it came from a file). */
  write(rec: LogRecord | undefined, line: string | undefined): void;
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

  constructor(private readonly options: EngineOptions) {}

  get done(): boolean {
    return this.stopped;
  }

  /** Queries one file ("-" for standard input). */
  async runFile(path: string): Promise<void> {
    const { follow } = this.options;
    const source: BlockSource =
      follow && path !== '-'
        ? await followSource(path, follow, this.options.maxLineBytes)
        : await openBlocks(path, this.options.maxLineBytes);
    const parseOptions = { ...this.options.parse, source: path === '-' ? undefined : path };
    const parser = createLineParser(parseOptions);
    let pre: Prefilter | undefined;
    const handle = (line: string, sure: boolean) => this.line(parser, line, sure);
    try {
      for await (const block of source.blocks()) {
        pre ??= this.prefilterFor(block);
        if (!scanBlock(block.buf, block.end, pre, handle)) this.stopped = true;
        await this.options.sink.drain();
        if (this.stopped) break;
      }
      if (!this.stopped) {
        this.out.length = 0;
        parser.flush(this.out);
        for (const rec of this.out) if (!this.offer(rec, undefined)) break;
      }
    } finally {
      this.bytes += source.stats.bytes;
      this.cutLines += source.stats.cutLines;
    }
  }

  /**
   * Queries NDJSON records in chunks of whole lines (the store's raw reader). The prefilter
   * runs on the JSON text just as on a log file, and survivors are decoded, not parsed.
   */
  async runRecordLines(chunks: AsyncIterable<Buffer>): Promise<void> {
    const handle = (line: string) => this.recordLine(line);
    let pre = this.options.prefilter;
    if (pre.candidatesFileOnly) pre = { ...pre, candidates: undefined, candidateTest: undefined };
    for await (const chunk of chunks) {
      this.bytes += chunk.length;
      if (!scanBlock(chunk, chunk.length, pre, handle)) this.stopped = true;
      await this.options.sink.drain();
      if (this.stopped) break;
    }
  }

  private recordLine(line: string): boolean {
    if (line.length === 0) return true;
    this.parsedLines++;
    let rec: LogRecord;
    try {
      rec = decodeJson(line) as unknown as LogRecord;
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

  private line(parser: ReturnType<typeof createLineParser>, raw: string, sure: boolean): boolean {
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
