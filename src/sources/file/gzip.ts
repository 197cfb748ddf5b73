// Rotated `.gz` archives, read once when asked for (readGzip). Offsets and the fingerprint are
// those of the decompressed content, so an archive made from a file already read (logrotate's
// delaycompress: app.log.1 → app.log.2.gz) is recognised by its first bytes and skipped.

import type { FileHandle } from 'node:fs/promises';
import { constants, createGunzip, gunzipSync } from 'node:zlib';

export function isGzipPath(path: string): boolean {
  return path.endsWith('.gz');
}

/** Decompressed bytes of an archive, read in order from a given decompressed offset. */
export class GzipReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  /** Decompressed offset of pending[0]. */
  private pos = 0;
  private done = false;
  private failure?: Error;

  constructor(handle: FileHandle) {
    // The handle stays owned by the tail: the stream must not close it.
    const raw = handle.createReadStream({ start: 0, autoClose: false });
    const gunzip = createGunzip();
    // A read error ends the iteration with that error (pipe alone would leave it unhandled).
    raw.on('error', (err) => gunzip.destroy(err));
    // Kept for read() to throw: a corrupt archive ends its reading, not the process.
    gunzip.on('error', (err) => (this.failure ??= err));
    this.chunks = raw.pipe(gunzip)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** Copies decompressed bytes from `position` on into `buf`; 0 at the end of the archive. */
  async read(buf: Buffer, position: number): Promise<number> {
    for (;;) {
      if (this.pending.length > 0) {
        // Bytes before `position` were delivered before a restart: skip them.
        const skip = Math.min(this.pending.length, Math.max(0, position - this.pos));
        this.pending = this.pending.subarray(skip);
        this.pos += skip;
        if (this.pending.length > 0) {
          const n = Math.min(buf.length, this.pending.length);
          this.pending.copy(buf, 0, 0, n);
          this.pending = this.pending.subarray(n);
          this.pos += n;
          return n;
        }
      }
      if (this.failure) throw this.failure;
      if (this.done) return 0;
      const next = await this.chunks.next();
      if (next.done) {
        this.done = true;
        return 0;
      }
      this.pending = next.value;
    }
  }
}

/** Up to `maxBytes` of the decompressed start of an archive (its fingerprint region). */
export async function gzipHead(handle: FileHandle, maxBytes: number): Promise<Buffer> {
  // Sync flush lets zlib return what a truncated input holds instead of failing.
  const opts = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 1 << 20 };
  for (let compressed = 16 * 1024; compressed <= 1 << 20; compressed *= 4) {
    const buf = Buffer.alloc(compressed);
    const { bytesRead } = await handle.read(buf, 0, compressed, 0);
    let out: Buffer;
    try {
      out = gunzipSync(buf.subarray(0, bytesRead), opts);
    } catch {
      return Buffer.alloc(0);
    }
    if (out.length >= maxBytes || bytesRead < compressed) return out.subarray(0, maxBytes);
  }
  return Buffer.alloc(0);
}

/**
 * The decompressed size an archive declares (ISIZE, its last 4 bytes: exact for one-member
 * archives under 4 GiB, which is what logrotate writes).
 */
export async function gzipSize(handle: FileHandle, compressedBytes: number): Promise<number> {
  if (compressedBytes < 18) return 0;
  const tail = Buffer.alloc(4);
  await handle.read(tail, 0, 4, compressedBytes - 4);
  return tail.readUInt32LE(0);
}
