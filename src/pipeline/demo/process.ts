// A child `sluice` process of the demo: started with the same Node.js and CLI as the parent,
// its structured log kept in a file, watched for the lines that say where it listens.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IoError } from '../../errors.js';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export class DemoProcess {
  readonly child: ChildProcess;
  private readonly log: WriteStream;
  private readonly lines: string[] = [];
  private readonly watchers: Array<{ test: (line: string) => boolean; done: (l: string) => void }> =
    [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    args: string[],
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
    this.child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let carry = '';
    this.child.stderr!.on('data', (b: Buffer) => {
      this.log.write(b);
      const text = carry + b.toString('utf8');
      const parts = text.split('\n');
      carry = parts.pop() ?? '';
      for (const line of parts) this.onLine(line);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        if (carry) this.onLine(carry);
        this.log.end();
        resolve(code);
      });
    });
  }

  private onLine(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 200) this.lines.shift();
    for (const w of [...this.watchers]) {
      if (w.test(line)) {
        this.watchers.splice(this.watchers.indexOf(w), 1);
        w.done(line);
      }
    }
  }

  /** The last lines the process wrote on stderr (for error messages). */
  tail(n = 5): string {
    return this.lines.slice(-n).join('\n');
  }

  /** Resolves with the first stderr line that passes `test`; rejects if the process exits. */
  waitFor(test: (line: string) => boolean, timeoutMs = 20_000): Promise<string> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new IoError(`demo: ${this.name} did not start in time:\n${this.tail()}`));
      }, timeoutMs);
      const watcher = {
        test,
        done: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.watchers.push(watcher);
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new IoError(`demo: ${this.name} exited (${code}):\n${this.tail()}`));
      });
    });
  }

  /** Sends SIGTERM and waits for the exit; SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Parses a pino JSON log line, or returns undefined. */
export function logFields(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
