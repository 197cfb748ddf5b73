// A batch: the unit that moves between stages (DESIGN.md). Its acknowledgement resolves
// exactly once, and flows backwards to the source that produced it.

import type { LogRecord } from './record.js';

export type AckOutcome =
  | { status: 'delivered' }
  | { status: 'rejected'; reason: string }
  | { status: 'dropped'; reason: string };

export interface Batch {
  records: LogRecord[];
  /** Approximate size in bytes of the records as read (raw line bytes). */
  bytes: number;
  /** Called once when the batch's fate is known. */
  ack: Acknowledgement;
}

/** An acknowledgement handle that settles once; later settles are ignored. */
export class Acknowledgement {
  private settled = false;
  private readonly waiters: Array<(outcome: AckOutcome) => void> = [];
  private outcome?: AckOutcome;

  constructor(onSettle?: (outcome: AckOutcome) => void) {
    if (onSettle) this.waiters.push(onSettle);
  }

  get isSettled(): boolean {
    return this.settled;
  }

  settle(outcome: AckOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.outcome = outcome;
    for (const waiter of this.waiters.splice(0)) waiter(outcome);
  }

  delivered(): void {
    this.settle({ status: 'delivered' });
  }

  /** Resolves when settled; never rejects. */
  wait(): Promise<AckOutcome> {
    if (this.outcome) return Promise.resolve(this.outcome);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export function makeBatch(records: LogRecord[], bytes: number, onSettle?: (o: AckOutcome) => void) {
  return { records, bytes, ack: new Acknowledgement(onSettle) } satisfies Batch;
}
