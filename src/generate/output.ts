// Where generated lines go: stdout (honouring back-pressure) or a file with size rotation,
// either by rename (logrotate's default: file -> file.1 -> file.2 ...) or by copytruncate
// (copy to file.1, then truncate the live file in place), to exercise both kinds of tailer.

import { once } from 'node:events';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { IoError } from '../errors.js';

export interface LineSink {
  /** Writes whole lines; resolves when the sink is done with `data` and can take more. */
  write(data: Buffer): Promise<void>;
  close(): Promise<void>;
}

export class StreamSink implements LineSink {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  async write(data: Buffer): Promise<void> {
    // Wait for the write's callback: the generator reuses its buffer for the next chunk.
    // Listen for 'drain' at once: it is emitted later, possibly before the callback.
    let done!: () => void;
    const written = new Promise<void>((resolve) => (done = resolve));
    const more = this.stream.write(data, () => done());
    const drained = more ? undefined : once(this.stream, 'drain');
    await written;
    if (drained) await drained;
  }

  async close(): Promise<void> {
    // Resolve once everything queued so far has been handed to the OS.
    await new Promise<void>((resolve) => this.stream.write('', () => resolve()));
  }
}

export interface RotationOptions {
  /** Rotate when the file would grow past this many bytes (0: never). */
  rotateBytes: number;
  /** How many rotated files to keep (file.1 … file.N). */
  keep: number;
  mode: 'rename' | 'copytruncate';
}

export class RotatingFileSink implements LineSink {
  private fd: number;
  private size: number;
  /** Rotations done so far. */
  rotations = 0;

  constructor(
    readonly path: string,
    private readonly rotation: RotationOptions,
  ) {
    this.fd = this.open();
    this.size = fstatSync(this.fd).size;
  }

  private open(): number {
    try {
      return openSync(this.path, 'a');
    } catch (err) {
      throw new IoError(`${this.path}: cannot open for writing: ${(err as Error).message}`);
    }
  }

  async write(data: Buffer): Promise<void> {
    let rest = data;
    const limit = this.rotation.rotateBytes;
    while (limit > 0 && this.size + rest.length > limit) {
      // Fill the file up to the limit with whole lines, then rotate; a single line longer
      // than the limit goes alone into a file.
      const room = limit - this.size;
      const cut = room > 0 ? rest.lastIndexOf(10, room - 1) + 1 : 0;
      if (cut === 0 && this.size === 0) {
        const nl = rest.indexOf(10);
        const end = nl < 0 ? rest.length : nl + 1;
        this.writeAll(rest.subarray(0, end));
        rest = rest.subarray(end);
      } else {
        this.writeAll(rest.subarray(0, cut));
        rest = rest.subarray(cut);
      }
      if (rest.length === 0) break;
      this.rotate();
    }
    if (rest.length > 0) this.writeAll(rest);
  }

  private writeAll(buf: Buffer): void {
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    } catch (err) {
      throw new IoError(`${this.path}: write failed: ${(err as Error).message}`);
    }
    this.size += buf.length;
  }

  private shiftRotated(): void {
    const keep = this.rotation.keep;
    const oldest = `${this.path}.${keep}`;
    if (existsSync(oldest)) unlinkSync(oldest);
    for (let i = keep - 1; i >= 1; i--) {
      const from = `${this.path}.${i}`;
      if (existsSync(from)) renameSync(from, `${this.path}.${i + 1}`);
    }
  }

  rotate(): void {
    try {
      this.shiftRotated();
      if (this.rotation.mode === 'copytruncate') {
        copyFileSync(this.path, `${this.path}.1`);
        ftruncateSync(this.fd, 0);
      } else {
        closeSync(this.fd);
        renameSync(this.path, `${this.path}.1`);
        this.fd = this.open();
      }
    } catch (err) {
      if (err instanceof IoError) throw err;
      throw new IoError(`${this.path}: rotation failed: ${(err as Error).message}`);
    }
    this.size = 0;
    this.rotations++;
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }
}
