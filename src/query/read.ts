// Reading input for the query engine in large blocks of whole lines: plain files straight into
// one reusable buffer, gzip (detected by its magic bytes) and standard input through a copy.
// The engine searches each block as a whole, so a block must end at a line boundary.

import { createReadStream, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { IoError } from '../errors.js';

/**
 * Bytes read per call; large reads are what lets a Node loop keep up with grep. Kept under
 * Node's threshold for external strings (about 1 MB): a block decoded to text then lives in
 * the V8 heap, whose collector sees it, instead of in malloc'ed memory that only shrinks when
 * the collector happens to run (that alone cost 60-70 MB of RSS with 4 MiB blocks). Reads of
 * 128 KiB took less system time alone (the block stays in cache), but the literal count ran
 * slower with them (more blocks, more per-block work) and other queries no faster.
 */
export const READ_BLOCK_BYTES = 900 * 1024;
/** Longest line kept whole; longer lines are cut at this size and the rest skipped. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** A run of complete lines: bytes [0, end) of buf, each line ended by \n (the last maybe not). */
export interface Block {
  buf: Buffer;
  end: number;
}

export interface ReadStats {
  /** Lines cut because they were longer than maxLineBytes. */
  cutLines: number;
  bytes: number;
}

/**
 * Assembles arbitrary chunks into blocks of whole lines, keeping the partial last line for the
 * next block. One buffer is reused, so memory stays at about one block whatever the input.
 */
export class BlockAssembler {
  private buf: Buffer;
  private used = 0;
  private skipping = false;

  constructor(
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
    readonly stats: ReadStats = { cutLines: 0, bytes: 0 },
    private readonly blockBytes = READ_BLOCK_BYTES,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(blockBytes, maxLineBytes * 2));
  }

  /** Space to read into directly (avoids a copy for plain files). */
  space(): { buf: Buffer; offset: number; length: number } {
    const room = this.buf.length - this.used;
    // Read a block's worth, unless a long partial line needs more room to finish.
    const length = this.used < this.blockBytes ? Math.min(room, this.blockBytes - this.used) : room;
    return { buf: this.buf, offset: this.used, length };
  }

  /** Declares `n` bytes written into space(); returns the block of whole lines, if any. */
  commit(n: number): Block | undefined {
    this.stats.bytes += n;
    const start = this.used;
    this.used += n;
    if (this.skipping) {
      const nl = this.buf.indexOf(10, start);
      if (nl < 0 || nl >= this.used) {
        this.used = start;
        return undefined;
      }
      this.buf.copyWithin(start, nl + 1, this.used);
      this.used -= nl + 1 - start;
      this.skipping = false;
    }
    const last = this.buf.lastIndexOf(10, this.used - 1);
    if (last < 0) return this.cutIfTooLong();
    return { buf: this.buf, end: last + 1 };
  }

  /** Copies a chunk in (gzip, stdin), yielding every block it completes. */
  *push(chunk: Buffer): Generator<Block> {
    let off = 0;
    while (off < chunk.length) {
      const space = this.space();
      const n = Math.min(space.length, chunk.length - off);
      chunk.copy(space.buf, space.offset, off, off + n);
      off += n;
      const block = this.commit(n);
      if (block) {
        yield block;
        this.consumed(block.end);
      }
    }
  }

  /** Call after the engine is done with a block: keeps the partial line after it. */
  consumed(end: number): void {
    this.buf.copyWithin(0, end, this.used);
    this.used -= end;
  }

  /** The final line when the input did not end with a newline. */
  rest(): Block | undefined {
    if (this.used === 0 || this.skipping) return undefined;
    const block = { buf: this.buf, end: this.used };
    return block;
  }

  /** Forgets the partial line (the file was truncated or replaced under us). */
  reset(): void {
    this.used = 0;
    this.skipping = false;
  }

  private cutIfTooLong(): Block | undefined {
    if (this.used < this.maxLineBytes) return undefined;
    // A line longer than the limit: keep its head as a line and drop the rest of it.
    this.stats.cutLines++;
    this.buf[this.maxLineBytes] = 10;
    this.used = this.maxLineBytes + 1;
    this.skipping = true;
    return { buf: this.buf, end: this.used };
  }
}

export interface BlockSource {
  blocks(): AsyncGenerator<Block>;
  stats: ReadStats;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Bytes [from, to) of a plain file, cut at line starts (to may be Infinity: the file's end). */
export interface ByteRange {
  from: number;
  to: number;
}

/**
 * Opens a path ("-" for standard input), detecting gzip by content.
 */
export async function openBlocks(path: string, maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
  const assembler = new BlockAssembler(maxLineBytes);
  if (path === '-') return chunkBlocks(process.stdin, assembler);
  const fh = await openFile(path);
  const head = Buffer.alloc(2);
  const { bytesRead } = await fh.read(head, 0, 2, 0);
  if (bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) {
    await fh.close();
    // Loaded only for gzip input: a plain file does not pay for zlib at start-up.
    const { createGunzip } = await import('node:zlib');
    const gunzip = createReadStream(path, { highWaterMark: 1 << 20 }).pipe(
      createGunzip({ chunkSize: 1 << 20 }),
    );
    return chunkBlocks(gunzip, assembler, path);
  }
  return fileBlocks(fh, assembler);
}

/** Files at least this large are searched by two threads side by side (see chunks.ts). */
export const SPLIT_MIN_BYTES = 64 * 1024 * 1024;

/** The size of a plain file of at least SPLIT_MIN_BYTES; undefined for smaller files or gzip. */
export async function splitSize(path: string): Promise<number | undefined> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const { size } = await fh.stat();
    if (size < SPLIT_MIN_BYTES) return undefined;
    const head = Buffer.alloc(2);
    await fh.read(head, 0, 2, 0);
    if (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) return undefined;
    return size;
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

/**
 * The blocks of bytes [from, to) of an open file, read synchronously into `assembler` (which
 * must be empty: `to` is a line start or the file's end, so each range leaves it empty).
 */
export function* rangeBlocks(
  fd: number,
  assembler: BlockAssembler,
  range: ByteRange,
): Generator<Block> {
  let position = range.from;
  while (position < range.to) {
    const space = assembler.space();
    const length = Math.min(space.length, range.to - position);
    const bytesRead = readSync(fd, space.buf, space.offset, length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const block = assembler.commit(bytesRead);
    if (block) {
      yield block;
      assembler.consumed(block.end);
    }
  }
  const rest = assembler.rest();
  if (rest) yield rest;
  assembler.reset();
}

export async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    throw ioError(path, err);
  }
}

export function ioError(path: string, err: unknown): IoError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : (err as Error).message;
  return new IoError(`cannot read ${path}: ${why}`, { cause: err });
}

function chunkBlocks(
  stream: AsyncIterable<Buffer>,
  assembler: BlockAssembler,
  path = 'standard input',
): BlockSource {
  async function* blocks(): AsyncGenerator<Block> {
    try {
      for await (const chunk of stream) yield* assembler.push(chunk);
    } catch (err) {
      throw new IoError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    const rest = assembler.rest();
    if (rest) yield rest;
  }
  return { blocks, stats: assembler.stats };
}

function fileBlocks(fh: FileHandle, assembler: BlockAssembler): BlockSource {
  async function* blocks(): AsyncGenerator<Block> {
    try {
      // Synchronous reads: the query has nothing else to do meanwhile, and a round trip
      // through the thread pool per block left the CPU idle for most of a literal search.
      yield* rangeBlocks(fh.fd, assembler, { from: 0, to: Infinity });
    } finally {
      await fh.close();
    }
  }
  return { blocks, stats: assembler.stats };
}
