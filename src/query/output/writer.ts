// Buffered writing to standard output: many small strings become few large writes, and the
// engine waits for 'drain' when the reader (a pager, a pipe) is slower than the query.

import type { Writable } from 'node:stream';

const FLUSH_CHARS = 64 * 1024;

export class OutputWriter {
  private parts: string[] = [];
  private size = 0;
  private congested = false;

  constructor(private readonly stream: Writable = process.stdout) {}

  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= FLUSH_CHARS) this.flush();
  }

  flush(): void {
    if (this.size === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(text)) this.congested = true;
  }

  /** Flushes, then resolves once the stream has room again. */
  async drain(): Promise<void> {
    this.flush();
    if (!this.congested) return;
    this.congested = false;
    if (this.stream.writableNeedDrain) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done);
          this.stream.off('close', done);
          this.stream.off('error', done);
          resolve();
        };
        this.stream.once('drain', done);
        this.stream.once('close', done);
        this.stream.once('error', done);
      });
    }
  }

  /** Flushes and waits until everything written has been handed to the OS. */
  async end(): Promise<void> {
    this.flush();
    await new Promise<void>((resolve) => {
      if (this.stream.writableLength === 0) resolve();
      else this.stream.write('', () => resolve());
    });
  }
}
