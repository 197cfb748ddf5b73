// The main thread's side of the access-log worker (src/parse/access-worker.ts): hands it the
// second half of a chunk and gets back what it took. One worker per process, started on the
// first chunk big enough to share; a worker that fails is not asked again (the main thread
// then does all the work, as without one).

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { FACT_FIELDS } from './access-worker.js';
import type { SplitJob, SplitMemory, SplitResult } from './access-worker.js';

/** Chunks smaller than this are parsed on the main thread alone: a hand-over costs more. */
export const SPLIT_MIN_BYTES = 256 * 1024;

export class AccessSplit {
  private worker: Worker | undefined;
  /** No worker on one core, or when SLUICE_PARSE_WORKER=0 asks for one thread. */
  private failed = availableParallelism() < 2 || process.env.SLUICE_PARSE_WORKER === '0';
  private nextId = 0;
  private memory: SplitMemory | undefined;
  /** Whether the current worker has `memory` (a new worker gets it with its first job). */
  private memorySent = false;
  private pending: { id: number; done: (r: SplitResult | undefined) => void } | undefined;

  /** Whether a worker is (or can be) there to share the work. */
  get usable(): boolean {
    return !this.failed;
  }

  /**
   * Runs a job over `bytes` (complete lines) on the worker; undefined when there is none or
   * it failed. The memory the result refers to stays valid until the next run().
   */
  run(
    bytes: Uint8Array,
    job: Omit<SplitJob, 'id' | 'memory' | 'length'>,
  ): Promise<{ result: SplitResult; memory: SplitMemory } | undefined> {
    const w = this.start();
    if (!w) return Promise.resolve(undefined);
    const sent = this.memory;
    const memory = this.memoryFor(bytes.length);
    new Uint8Array(memory.input).set(bytes);
    const id = ++this.nextId;
    // Referenced while a job is out, so that the process waits for its answer.
    w.ref();
    return new Promise((resolve) => {
      this.pending = {
        id,
        done: (r) => {
          w.unref();
          resolve(r === undefined ? undefined : { result: r, memory });
        },
      };
      const msg: SplitJob = { ...job, id, length: bytes.length };
      if (memory !== sent || !this.memorySent) msg.memory = memory;
      this.memorySent = true;
      w.postMessage(msg);
    });
  }

  /** Shared memory for an input of `n` bytes, grown (rarely: chunks are at most 1 MiB). */
  private memoryFor(n: number): SplitMemory {
    if (this.memory === undefined || this.memory.input.byteLength < n) {
      const size = Math.max(n, 1 << 20);
      this.memory = {
        input: new SharedArrayBuffer(size),
        // Records are at most 4 bytes per input byte plus a fixed part; a worker that runs
        // out of room stops there and the main thread does the rest.
        output: new SharedArrayBuffer(size * 3),
        // An accepted line has at least 40 bytes.
        facts: new SharedArrayBuffer(Math.ceil(size / 40) * FACT_FIELDS * 8),
      };
    }
    return this.memory;
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private start(): Worker | undefined {
    if (this.failed) return undefined;
    if (this.worker) return this.worker;
    // A small young generation: the worker's own objects are few and short-lived, and the
    // default one would add tens of MB to peak RSS.
    const w = new Worker(new URL('./access-worker.js', import.meta.url), {
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    // The worker must not keep the process alive once the input is read.
    w.unref();
    w.on('message', (r: SplitResult) => {
      const p = this.pending;
      if (p && p.id === r.id) {
        this.pending = undefined;
        p.done(r);
      }
    });
    const fail = () => {
      this.failed = true;
      this.worker = undefined;
      const p = this.pending;
      this.pending = undefined;
      p?.done(undefined);
    };
    w.on('error', fail);
    w.on('exit', fail);
    this.worker = w;
    this.memorySent = false;
    return w;
  }
}

/**
 * Whether to share the next chunk, from how fast shared and unshared chunks went: on a busy
 * machine the second core may not be there, and waiting for the worker then makes things
 * slower (measured), so each window of 8 chunks also tries the way not preferred once.
 */
export class ShareChooser {
  /** Moving averages of ms per byte: unshared, shared. */
  private readonly msPerByte = [NaN, NaN];
  private chunks = 0;
  private preferShared = true;

  share(): boolean {
    const probe = this.chunks++ % 8 === 7;
    return probe ? !this.preferShared : this.preferShared;
  }

  /** How long a chunk of `bytes` took to parse (and write), shared or not. */
  record(shared: boolean, bytes: number, ms: number): void {
    const i = shared ? 1 : 0;
    const rate = ms / bytes;
    const old = this.msPerByte[i];
    this.msPerByte[i] = Number.isNaN(old) ? rate : old * 0.7 + rate * 0.3;
    const [single, both] = this.msPerByte;
    if (!Number.isNaN(single) && !Number.isNaN(both)) this.preferShared = both < single * 0.95;
  }
}
