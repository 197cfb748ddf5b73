// One followed file: its open handle, identity, read position, the lines not yet complete,
// and the offsets of emitted batches still waiting for their acknowledgement.

import { open, type FileHandle } from 'node:fs/promises';
import { IoError } from '../../errors.js';
import type { LineParser } from '../../parse/index.js';
import {
  fingerprintOf,
  headMatches,
  identityKey,
  readHead,
  type FileIdentity,
  type Fingerprint,
} from './identity.js';
import { LineJoiner } from './join.js';
import { LineSplitter, type RawLine } from './lines.js';
import { GzipReader, gzipHead, gzipSize, isGzipPath } from './gzip.js';

/** Counters for one file, as printed on SIGUSR1 and at exit. */
export interface FileMetrics {
  path: string;
  linesRead: number;
  linesFiltered: number;
  recordsEmitted: number;
  /** Of recordsEmitted, those written straight from the line's bytes (encodeRecords). */
  recordsFromBytes: number;
  linesTruncated: number;
  /** File size minus the read position, at the last check. */
  bytesBehind: number;
  /** Offset up to which records are acknowledged (the checkpoint). */
  committedOffset: number;
  /** How this file was taken up or last changed: new, resumed, copy, truncated, replaced... */
  decision: string;
}

export type ChangeKind = 'truncated' | 'replaced';

interface Inflight {
  end: number;
  settled: boolean;
}

export class Tail {
  readonly key: string;
  readPos: number;
  size: number;
  committed: number;
  lastGrowthAt: number;
  /** Time the held partial line last grew; partial lines flush partialFlushMs after it. */
  partialSince = 0;
  /** Set when the path no longer leads to this file (renamed away or deleted). */
  detachedAt?: number;
  /** A rotated predecessor at the same path that must be read to its end first. */
  after?: Tail;
  /** Offset up to which lines are in cut or building batches: where the next range starts. */
  batchedUpTo: number;
  /** True once a read found the end of the file. */
  atEof = false;
  /** Records are no longer acknowledged for this file (a sink rejected a batch). */
  stalled = false;
  parser?: LineParser;
  /** Set for a `.gz` archive: offsets are then those of the decompressed content. */
  gzip?: GzipReader;
  readonly splitter: LineSplitter;
  readonly joiner?: LineJoiner;
  readonly metrics: FileMetrics;
  private readonly inflight: Inflight[] = [];
  private checkedSize = -1;

  constructor(
    public path: string,
    readonly handle: FileHandle,
    readonly identity: FileIdentity,
    startOffset: number,
    size: number,
    maxLineBytes: number,
    joiner: LineJoiner | undefined,
    decision: string,
  ) {
    this.key = identityKey(identity);
    this.readPos = startOffset;
    this.committed = startOffset;
    this.batchedUpTo = startOffset;
    this.size = size;
    this.lastGrowthAt = Date.now();
    this.splitter = new LineSplitter(maxLineBytes);
    this.splitter.reset(startOffset);
    this.joiner = joiner;
    this.metrics = {
      path,
      linesRead: 0,
      linesFiltered: 0,
      recordsEmitted: 0,
      recordsFromBytes: 0,
      linesTruncated: 0,
      bytesBehind: Math.max(0, size - startOffset),
      committedOffset: startOffset,
      decision,
    };
  }

  get fingerprint(): Fingerprint {
    return this.identity.fingerprint;
  }

  /** Offset of the first byte not yet in an emitted line or event (held bytes excluded). */
  get takenUpTo(): number {
    return this.joiner?.heldStart ?? this.splitter.pendingStart;
  }

  get hasInflight(): boolean {
    return this.inflight.length > 0;
  }

  /**
   * Looks at the file's size and first bytes: a size below the read position is a
   * truncation; different first bytes mean the content was replaced (copytruncate followed
   * by fast regrowth). Either way reading starts again at 0. Returns what was seen.
   */
  async refresh(fingerprintBytes: number): Promise<ChangeKind | undefined> {
    // An archive does not change once it is taken up (it must be older than rotateWaitMs).
    if (this.gzip) return undefined;
    const stat = await this.handle.stat();
    const grew = stat.size !== this.size;
    this.size = stat.size;
    if (grew) this.lastGrowthAt = Date.now();
    let change: ChangeKind | undefined;
    if (stat.size < this.readPos) change = 'truncated';
    else if (stat.size !== this.checkedSize) change = await this.checkHead(fingerprintBytes);
    this.checkedSize = stat.size;
    if (change) {
      this.restart(change);
      // Fingerprint the new content at once, so that its copy is recognised straight away.
      await this.checkHead(fingerprintBytes);
      this.checkedSize = stat.size;
    }
    this.metrics.bytesBehind = Math.max(0, this.size - this.readPos);
    return change;
  }

  /** Reads the next chunk into `buf`; returns the bytes read (0 at the end of the file). */
  async read(buf: Buffer): Promise<number> {
    const bytesRead = this.gzip
      ? await this.gzip.read(buf, this.readPos)
      : (await this.handle.read(buf, 0, buf.length, this.readPos)).bytesRead;
    if (bytesRead === 0) this.atEof = true;
    else {
      this.atEof = false;
      this.readPos += bytesRead;
      if (this.readPos > this.size) this.size = this.readPos;
      this.metrics.bytesBehind = Math.max(0, this.size - this.readPos);
    }
    return bytesRead;
  }

  /** Records that a batch carries this file's lines up to `end`; returns the ack hook. */
  track(end: number): () => void {
    const entry: Inflight = { end, settled: false };
    this.inflight.push(entry);
    return () => {
      entry.settled = true;
      this.advance();
    };
  }

  /** Forgets in-flight batches that will never settle (source closing without acks). */
  dropInflight(): void {
    this.inflight.length = 0;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  private advance(): void {
    while (this.inflight.length > 0 && this.inflight[0].settled) {
      const done = this.inflight.shift() as Inflight;
      // After a truncation older batches end beyond the new content: never move backwards
      // past a restart point, which `restart` already set.
      this.committed = done.end;
    }
    this.metrics.committedOffset = this.committed;
  }

  private async checkHead(fingerprintBytes: number): Promise<ChangeKind | undefined> {
    const head = await readHead(this.handle, fingerprintBytes);
    if (!headMatches(head, this.fingerprint)) return 'replaced';
    if (head.length > this.fingerprint.bytes) this.identity.fingerprint = fingerprintOf(head);
    return undefined;
  }

  private restart(change: ChangeKind): void {
    this.metrics.decision = change;
    this.readPos = 0;
    this.committed = 0;
    this.batchedUpTo = 0;
    this.inflight.length = 0;
    this.splitter.reset(0);
    this.joiner?.clear();
    this.atEof = false;
    this.identity.fingerprint = { bytes: 0, hash: fingerprintOf(Buffer.alloc(0)).hash };
    this.checkedSize = -1;
  }
}

/** Opens a file and reads what identifies it. */
export async function openFile(
  path: string,
  fingerprintBytes: number,
): Promise<{ handle: FileHandle; identity: FileIdentity; size: number; head: Buffer }> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new IoError(`file ${path}: cannot open it (${(err as Error).message}).`, { cause: err });
  }
  try {
    const stat = await handle.stat();
    const gzip = isGzipPath(path);
    const head = gzip
      ? await gzipHead(handle, fingerprintBytes)
      : await readHead(handle, fingerprintBytes);
    const identity = { dev: stat.dev, ino: stat.ino, fingerprint: fingerprintOf(head) };
    // An archive's offsets count decompressed bytes, so its size is the decompressed one.
    const size = gzip ? await gzipSize(handle, stat.size) : stat.size;
    return { handle, identity, size, head };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw new IoError(`file ${path}: cannot read it (${(err as Error).message}).`, { cause: err });
  }
}

export type { RawLine };
