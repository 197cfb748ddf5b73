// Reading a file or standard input as a stream of byte chunks, gunzipping when the content
// starts with the gzip magic bytes (1f 8b), whatever the file is called.

import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { IoError } from '../errors.js';

const CHUNK_BYTES = 1024 * 1024;

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'Z_DATA_ERROR':
    case 'Z_BUF_ERROR':
      return `corrupt gzip data (${e.message})`;
    default:
      return e?.message ?? String(err);
  }
}

function nameOf(pathOrDash: string): string {
  return pathOrDash === '-' ? 'standard input' : pathOrDash;
}

async function* raw(pathOrDash: string): AsyncGenerator<Buffer> {
  if (pathOrDash === '-') {
    for await (const chunk of process.stdin) yield chunk as Buffer;
    return;
  }
  // The stream opens the file itself; a missing or unreadable file fails the first read.
  const stream = createReadStream(pathOrDash, { highWaterMark: CHUNK_BYTES });
  for await (const chunk of stream) yield chunk as Buffer;
}

async function* gunzipped(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  const feed = Readable.from(
    (async function* () {
      yield first;
      for (;;) {
        const n = await rest.next();
        if (n.done) return;
        yield n.value;
      }
    })(),
  );
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  pipeline(feed, gunzip, () => undefined);
  for await (const chunk of gunzip) yield chunk as Buffer;
}

/**
 * The bytes of a file, or of standard input for `-`, gunzipped when they are gzip. Errors
 * are IoError naming the input and the reason.
 */
export async function* openInput(pathOrDash: string): AsyncGenerator<Buffer> {
  const it = raw(pathOrDash)[Symbol.asyncIterator]();
  try {
    let head: Buffer = Buffer.alloc(0);
    // Two bytes tell gzip; a pipe may hand over one byte at a time.
    while (head.length < 2) {
      const n = await it.next();
      if (n.done) {
        if (head.length > 0) yield head;
        return;
      }
      head = head.length === 0 ? n.value : Buffer.concat([head, n.value]);
    }
    if (head[0] === 0x1f && head[1] === 0x8b) {
      yield* gunzipped(head, it);
    } else {
      yield head;
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        yield n.value;
      }
    }
  } catch (err) {
    if (err instanceof IoError && err.message.startsWith(nameOf(pathOrDash))) throw err;
    throw new IoError(`${nameOf(pathOrDash)}: ${describe(err)}`, { cause: err });
  } finally {
    await it.return?.(undefined);
  }
}
