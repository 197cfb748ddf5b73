// Runs a validated pipeline: sources emit batches, transforms map them, sinks consume them.
// Acknowledgements flow backwards: a batch that fans out to several stages is delivered only
// when every branch is. Every stage counts records in, out and dropped by reason, on the
// shared metrics registry, so the conservation report reads the same numbers as /metrics.

import type { Batch, AckOutcome } from '../record/batch.js';
import { Acknowledgement } from '../record/batch.js';
import type { LogRecord } from '../record/record.js';
import { counter } from '../telemetry/metrics.js';

export type Emit = (batch: Batch) => Promise<void>;

export interface SourceRuntime {
  /** Produces batches until the source ends or `signal` aborts; resolves when done. */
  run(emit: Emit, signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

export interface TransformResult {
  records: LogRecord[];
  /** Records left out of `records`, by reason (filtered, sampled, rate_limited...). */
  dropped?: Record<string, number>;
}

export interface TransformRuntime {
  process(records: LogRecord[]): TransformResult | Promise<TransformResult>;
  close?(): Promise<void>;
}

export interface SinkRuntime {
  /** Takes a batch; resolves when it has room for more; settles `batch.ack` when done with it. */
  write(batch: Batch): Promise<void>;
  close(): Promise<void>;
}

export type StageRuntime =
  | { kind: 'source'; name: string; runtime: SourceRuntime }
  | { kind: 'transform'; name: string; runtime: TransformRuntime }
  | { kind: 'sink'; name: string; runtime: SinkRuntime };

const recordsIn = counter('sluice_pipeline_records_in_total', 'Records into a stage.', ['stage']);
const recordsOut = counter('sluice_pipeline_records_out_total', 'Records out of a stage.', [
  'stage',
]);
const recordsDropped = counter(
  'sluice_pipeline_records_dropped_total',
  'Records a stage left out, by reason.',
  ['stage', 'reason'],
);
const recordsDelivered = counter(
  'sluice_pipeline_records_delivered_total',
  'Records a sink reported delivered.',
  ['stage'],
);
const recordsRejected = counter(
  'sluice_pipeline_records_rejected_total',
  'Records a sink rejected or dropped, by reason.',
  ['stage', 'reason'],
);

export class Pipeline {
  private readonly stages = new Map<string, StageRuntime>();
  private readonly downstream = new Map<string, string[]>();
  private readonly controller = new AbortController();

  constructor(stages: StageRuntime[], edges: Array<{ from: string; to: string }>) {
    for (const stage of stages) this.stages.set(stage.name, stage);
    for (const { from, to } of edges) {
      const list = this.downstream.get(from) ?? [];
      list.push(to);
      this.downstream.set(from, list);
    }
  }

  /** Runs every source to its end (or until stop()), then closes transforms and sinks. */
  async run(): Promise<void> {
    const sources = [...this.stages.values()].filter((s) => s.kind === 'source');
    try {
      await Promise.all(
        sources.map((s) =>
          (s.runtime as SourceRuntime).run(
            (b) => this.fromSource(s.name, b),
            this.controller.signal,
          ),
        ),
      );
    } finally {
      await this.closeAll();
    }
  }

  /** Asks every source to stop; run() then drains and closes the rest. */
  stop(): void {
    this.controller.abort();
  }

  private async fromSource(name: string, batch: Batch): Promise<void> {
    recordsOut.inc({ stage: name }, batch.records.length);
    await this.forward(name, batch);
  }

  /** Sends a batch to every stage downstream of `from`, splitting its acknowledgement. */
  private async forward(from: string, batch: Batch): Promise<void> {
    const targets = this.downstream.get(from) ?? [];
    if (targets.length === 0) {
      batch.ack.delivered();
      return;
    }
    const acks = joinAcks(batch.ack, targets.length);
    await Promise.all(
      targets.map((to, i) => {
        // Transforms may change records in place (redact), so each extra branch gets a copy.
        const records = i === 0 ? batch.records : structuredClone(batch.records);
        return this.deliver(to, { records, bytes: batch.bytes, ack: acks[i] });
      }),
    );
  }

  private async deliver(name: string, batch: Batch): Promise<void> {
    const stage = this.stages.get(name)!;
    recordsIn.inc({ stage: name }, batch.records.length);
    if (stage.kind === 'sink') {
      watchSink(name, batch);
      await stage.runtime.write(batch);
      return;
    }
    if (stage.kind !== 'transform') return;
    const result = await stage.runtime.process(batch.records);
    recordsOut.inc({ stage: name }, result.records.length);
    for (const [reason, count] of Object.entries(result.dropped ?? {})) {
      if (count > 0) recordsDropped.inc({ stage: name, reason }, count);
    }
    if (result.records.length === 0) {
      // Records left out by policy resolve as delivered, so the source never waits for them.
      batch.ack.delivered();
      return;
    }
    await this.forward(name, { records: result.records, bytes: batch.bytes, ack: batch.ack });
  }

  private async closeAll(): Promise<void> {
    for (const stage of this.stages.values()) {
      if (stage.kind === 'transform') await stage.runtime.close?.();
    }
    await Promise.all(
      [...this.stages.values()]
        .filter((s) => s.kind === 'sink')
        .map((s) => (s.runtime as SinkRuntime).close()),
    );
    for (const stage of this.stages.values()) {
      if (stage.kind === 'source') await stage.runtime.close?.();
    }
  }
}

function watchSink(name: string, batch: Batch): void {
  const count = batch.records.length;
  void batch.ack.wait().then((outcome) => {
    if (outcome.status === 'delivered') recordsDelivered.inc({ stage: name }, count);
    else recordsRejected.inc({ stage: name, reason: outcome.reason }, count);
  });
}

/**
 * Splits one acknowledgement into `n`: the parent is delivered when all children are, and
 * otherwise takes the first outcome that was not a delivery.
 */
export function joinAcks(parent: Acknowledgement, n: number): Acknowledgement[] {
  if (n === 1) return [parent];
  let pending = n;
  let failure: AckOutcome | undefined;
  const settleOne = (outcome: AckOutcome) => {
    if (outcome.status !== 'delivered' && !failure) failure = outcome;
    if (--pending === 0) parent.settle(failure ?? { status: 'delivered' });
  };
  return Array.from({ length: n }, () => new Acknowledgement(settleOne));
}
