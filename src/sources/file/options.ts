// Options of the file source (the tailer), their defaults in one place, and their checks,
// made when the source is built rather than when the first line arrives.

import type { Batch } from '../../record/batch.js';
import type { LogRecord } from '../../record/record.js';
import type { ParseOptions } from '../../parse/options.js';
import type { LineParser, MultilinePreset } from '../../parse/index.js';
import { optionError } from '../../errors.js';
import type { RawLine } from './lines.js';

export interface MultilineOptions {
  /** A line matching this starts a new record; other lines continue the previous one. */
  startPattern?: RegExp;
  /** Built-in continuation rules for Java, Python and Go stack traces. */
  preset?: MultilinePreset;
  /** A pending record is emitted after this long without a continuation line. */
  timeoutMs?: number;
}

/** A line as read, with the file it came from. */
export interface SourceLine extends RawLine {
  source: string;
}

/** A batch from the file source; `lines` is there when `keepLines` is set, one per record. */
export interface FileBatch extends Batch {
  lines?: SourceLine[];
  /**
   * Where each file's checkpoint moves once this batch (and those before it) is acknowledged:
   * identity and offset per file. A sink that makes batches durable itself (the ship spool)
   * keeps these so that a restart can resume past what it already holds.
   */
  positions?: CheckpointPosition[];
  /**
   * The batch's identity: a hash of when it was cut and the byte range [start, end) of each
   * file in it. With checkpoints, a batch repeated after a crash is cut again identically and
   * carries the same id, so a destination that keeps ids (the store) can drop the repeat.
   */
  id: string;
  /** When the batch was cut (ms since the epoch); the same when it is cut again. */
  cutAt: number;
  /** With encodeRecords: the records as NDJSON, in pieces to write in order. */
  ndjson?: Buffer[];
  /** How many records the batch holds (records.length, or the lines of `ndjson`). */
  count: number;
}

/** A file's identity and an offset in it, as kept in checkpoints. */
export interface CheckpointPosition {
  path: string;
  dev: number;
  ino: number;
  fingerprint: { bytes: number; hash: string };
  offset: number;
}

export interface FileSourceOptions {
  /** Globs of files to follow (`*`, `?`, `[...]`, `{a,b}`, `**`). */
  paths: string[];
  /** Globs of files to leave out even when `paths` match them. */
  excludePaths?: string[];
  /** Where to start in files found at the first start: 'end' (default) or 'beginning'. */
  startAt?: 'end' | 'beginning';
  /** Folder for checkpoints; without it nothing survives a restart. */
  stateDir?: string;
  /** A last line without a newline is emitted after this long without growth. */
  partialFlushMs?: number;
  multiline?: MultilineOptions;
  /** Lines longer than this are truncated (marked in fields.truncated). */
  maxLineBytes?: number;
  /** Options of the line parser (format, timezone, ...); `source` is set per file. */
  parse?: Omit<ParseOptions, 'source'>;
  /** Replaces the line parser: builds one for a file path (default: createLineParser). */
  createParser?: (source: string) => LineParser;
  /** Decides on the line text before parsing; false drops it (delivered by policy). */
  lineFilter?: (text: string) => boolean;
  /** Adjusts each record after parsing (tags, extra fields). */
  recordTransform?: (record: LogRecord, text: string) => void;
  /** Attach the raw lines with their offsets to each batch. */
  keepLines?: boolean;
  /**
   * Batches carry their records as NDJSON bytes (`FileBatch.ndjson`, `records` empty), for
   * destinations that only write NDJSON. Plain access lines then go from the file's bytes to
   * the output bytes without a record object (src/parse/access-bytes.ts); other lines are
   * parsed and encoded as usual. Ignored with createParser, lineFilter, recordTransform,
   * keepLines or multiline, which need the records or the line text.
   */
  encodeRecords?: boolean;
  /** A batch is emitted at this many records... */
  batchSize?: number;
  /** ...or at this many bytes of lines... */
  batchBytes?: number;
  /** ...or this long after its first record, whichever comes first. */
  batchWaitMs?: number;
  /** Reading stops while this many batches are unacknowledged. */
  maxPendingBatches?: number;
  /** How often followed files are checked for growth, besides watcher events. */
  pollIntervalMs?: number;
  /** How often the folders are rescanned for new files, besides watcher events. */
  scanIntervalMs?: number;
  /** A file gone from its path is kept open this long after its last growth. */
  rotateWaitMs?: number;
  /** Size of the fingerprint region at the start of each file. */
  fingerprintBytes?: number;
  /** Bytes read from a file per read call. */
  readChunkBytes?: number;
  /** Read rotated `.gz` archives that `paths` select, once, decompressed (default: skip). */
  readGzip?: boolean;
  /** Turn off the file-system watcher and rely on polling alone. */
  noWatcher?: boolean;
  /** Base for relative globs (default: the working folder). */
  cwd?: string;
}

export const FILE_SOURCE_DEFAULTS = {
  startAt: 'end' as const,
  partialFlushMs: 5000,
  multilineTimeoutMs: 1000,
  maxLineBytes: 1024 * 1024,
  batchSize: 1000,
  batchBytes: 8 * 1024 * 1024,
  batchWaitMs: 1000,
  maxPendingBatches: 4,
  pollIntervalMs: 250,
  scanIntervalMs: 1000,
  rotateWaitMs: 5000,
  fingerprintBytes: 1024,
  // Large reads: fewer read and stat calls per MB (measured: 256 KiB reads cost more).
  readChunkBytes: 1024 * 1024,
};

export type ResolvedFileSourceOptions = Required<
  Omit<
    FileSourceOptions,
    'stateDir' | 'multiline' | 'createParser' | 'lineFilter' | 'recordTransform'
  >
> &
  Pick<
    FileSourceOptions,
    'stateDir' | 'multiline' | 'createParser' | 'lineFilter' | 'recordTransform'
  >;

export function resolveFileSourceOptions(opts: FileSourceOptions): ResolvedFileSourceOptions {
  const d = FILE_SOURCE_DEFAULTS;
  if (!Array.isArray(opts.paths) || opts.paths.length === 0) {
    throw optionError('file source', 'paths', opts.paths, 'expected at least one glob');
  }
  const resolved: ResolvedFileSourceOptions = {
    paths: opts.paths,
    excludePaths: opts.excludePaths ?? [],
    startAt: opts.startAt ?? d.startAt,
    stateDir: opts.stateDir,
    partialFlushMs: opts.partialFlushMs ?? d.partialFlushMs,
    multiline: opts.multiline,
    maxLineBytes: opts.maxLineBytes ?? d.maxLineBytes,
    parse: opts.parse ?? {},
    createParser: opts.createParser,
    lineFilter: opts.lineFilter,
    recordTransform: opts.recordTransform,
    keepLines: opts.keepLines ?? false,
    encodeRecords: opts.encodeRecords ?? false,
    batchSize: opts.batchSize ?? d.batchSize,
    batchBytes: opts.batchBytes ?? d.batchBytes,
    batchWaitMs: opts.batchWaitMs ?? d.batchWaitMs,
    maxPendingBatches: opts.maxPendingBatches ?? d.maxPendingBatches,
    pollIntervalMs: opts.pollIntervalMs ?? d.pollIntervalMs,
    scanIntervalMs: opts.scanIntervalMs ?? d.scanIntervalMs,
    rotateWaitMs: opts.rotateWaitMs ?? d.rotateWaitMs,
    fingerprintBytes: opts.fingerprintBytes ?? d.fingerprintBytes,
    readChunkBytes: opts.readChunkBytes ?? d.readChunkBytes,
    readGzip: opts.readGzip ?? false,
    noWatcher: opts.noWatcher ?? false,
    cwd: opts.cwd ?? process.cwd(),
  };
  if (resolved.startAt !== 'end' && resolved.startAt !== 'beginning') {
    throw optionError('file source', 'startAt', resolved.startAt, "expected 'end' or 'beginning'");
  }
  const positive: Array<keyof typeof d> = [
    'partialFlushMs',
    'maxLineBytes',
    'batchSize',
    'batchBytes',
    'batchWaitMs',
    'maxPendingBatches',
    'pollIntervalMs',
    'scanIntervalMs',
    'fingerprintBytes',
    'readChunkBytes',
  ];
  for (const key of positive) {
    const value = (resolved as unknown as Record<string, unknown>)[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw optionError('file source', key, value, 'expected a whole number above 0');
    }
  }
  return resolved;
}
