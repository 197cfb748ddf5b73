// Compression of closed segments, off the ingest path: a worker thread does the reading,
// gzip and writing, one segment at a time; the writer only queues names and hears results.

import { Worker } from 'node:worker_threads';
import { StoreError } from '../errors.js';
import { storeMetrics } from './metrics.js';

export interface CompressionResult {
  segment: string;
  previousBytes: number;
  storedBytes: number;
  rawBytes: number;
  millis: number;
}

interface Job {
  segment: string;
  resolve: (r: CompressionResult | undefined) => void;
  reject: (err: unknown) => void;
}

type WorkerReply = { ok: true; result: CompressionResult } | { ok: false; error: string };

export class Compressor {
  private worker?: Worker;
  private readonly jobs: Job[] = [];
  private running?: Job;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly dir: string,
    private readonly level: number,
    private readonly idLimit: number,
  ) {}

  enqueue(segment: string): Promise<CompressionResult | undefined> {
    return new Promise((resolve, reject) => {
      this.jobs.push({ segment, resolve, reject });
      this.next();
    });
  }

  /** Segments queued or being compressed (retention leaves them alone). */
  pending(): string[] {
    return [...(this.running ? [this.running.segment] : []), ...this.jobs.map((j) => j.segment)];
  }

  idle(): Promise<void> {
    if (!this.running && this.jobs.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    for (const j of this.jobs.splice(0)) j.resolve(undefined);
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private next(): void {
    if (this.running) return;
    const job = this.jobs.shift();
    if (!job) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    this.running = job;
    const worker = this.ensureWorker();
    worker.postMessage({
      dir: this.dir,
      segment: job.segment,
      level: this.level,
      idLimit: this.idLimit,
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./compress-worker.js', import.meta.url));
    w.unref();
    w.on('message', (reply: WorkerReply) => this.finish(reply));
    w.on('error', (err) => this.finish({ ok: false, error: err.message }));
    w.on('exit', () => {
      if (this.worker === w) this.worker = undefined;
      if (this.running) this.finish({ ok: false, error: 'compression worker exited' });
    });
    this.worker = w;
    return w;
  }

  private finish(reply: WorkerReply): void {
    const job = this.running;
    this.running = undefined;
    if (job) {
      const metrics = storeMetrics();
      if (reply.ok) {
        metrics.compressedSegments.inc();
        job.resolve(reply.result);
      } else {
        metrics.compressionErrors.inc();
        job.reject(new StoreError(`${this.dir}: compressing ${job.segment}: ${reply.error}`));
      }
    }
    this.next();
  }
}
