// The `auto` codec choice: a closed-loop controller over a ladder of settings, from cheapest
// to smallest (none, gzip 1, 3, 6, 9). After each evaluation period it looks at two numbers:
//   busy    = time spent compressing / wall time of the period (the CPU cost of compression)
//   backlog = bytes waiting in front of the wire / the backlog limit (how far behind we are)
//   input   = bytes of input not read yet / a bound (how far behind its sources the shipper is)
// and applies this rule (docs/ship.md):
//   1. behind (backlog > 50%) and compression is the cost (busy > 50%)   → one step cheaper
//   2. behind and compression is cheap (busy <= 50%): the link is the bottleneck → one step
//      smaller, since fewer bytes on the wire is what helps
//   3. the input is behind (input > 50%) while the link keeps up: the shipper's own CPU is the
//      bottleneck, and compression is part of it → one step cheaper when busy > 10%, but not
//      below gzip 1 unless busy > 50% (none saves nothing)
//   4. keeping up (backlog and input < 10%) and the next step's predicted busy (busy × its
//      measured or assumed cost ratio) stays under 40% → one step smaller, to save bytes for
//      free
//   5. busy > 70% while keeping up → one step cheaper before it falls behind
// A change needs two periods in a row that agree (hysteresis), and a step taken down because
// of CPU is not retried upward for a cooldown of 10 periods. A step taken for a slow link
// (rule 2) is a trial: when the throughput (raw bytes compressed per second, which the window
// ties to the acknowledgements) has not risen by 5% two periods later, the receiver rather than
// the link was the limit, and the step is undone and not retried for the cooldown.

import type { Codec } from './codec.js';

export interface Setting {
  codec: Codec;
  level: number;
}

export const AUTO_LADDER: readonly Setting[] = [
  { codec: 'none', level: 0 },
  { codec: 'gzip', level: 1 },
  { codec: 'gzip', level: 3 },
  { codec: 'gzip', level: 6 },
  { codec: 'gzip', level: 9 },
];

/** Assumed CPU cost per byte relative to gzip 1, until measured. */
const ASSUMED_COST = [0.02, 1, 1.4, 2.8, 6];

export interface AutoObservation {
  rawBytes: number;
  compressMs: number;
}

export interface AutoDecision extends Setting {
  from: Setting;
  reason: string;
}

export interface AutoControllerOptions {
  /** Length of one evaluation period. */
  periodMs: number;
  /** Start at this ladder step (default 1: gzip level 1). */
  startStep?: number;
  now?: () => number;
}

const BEHIND = 0.5;
const CAUGHT_UP = 0.1;
const CPU_HIGH = 0.5;
const CPU_TARGET = 0.4;
const CPU_DANGER = 0.7;
/** With the input behind, compression above this share of the time is worth cheapening. */
const CPU_INPUT = 0.1;
/** The cheapest step rule 3 takes for the input's sake: gzip 1. */
const INPUT_FLOOR_STEP = 1;
const COOLDOWN_PERIODS = 10;
/** A slow-link step is kept only if the throughput rose by this much. */
const TRIAL_GAIN = 1.05;
/** Periods a slow-link step runs before it is judged. */
const TRIAL_PERIODS = 2;

export class AutoController {
  private step: number;
  private periodStart: number;
  private compressMs = 0;
  private rawBytes = 0;
  /** Measured ms per MB at each step (exponential average), NaN until measured. */
  private readonly msPerMb: number[] = AUTO_LADDER.map(() => NaN);
  private proposal?: { step: number; count: number };
  private readonly cooldownUntil: number[] = AUTO_LADDER.map(() => 0);
  private period = 0;
  private readonly now: () => number;
  /** A slow-link step on trial: where it came from and the throughput before it. */
  private trial?: { from: number; bytesPerMs: number; periods: number };
  /** Raw bytes per ms of the last period, the baseline of a trial. */
  private lastBytesPerMs = 0;

  constructor(private readonly options: AutoControllerOptions) {
    this.step = options.startStep ?? 1;
    this.now = options.now ?? Date.now;
    this.periodStart = this.now();
  }

  get current(): Setting {
    return AUTO_LADDER[this.step];
  }

  /** Records one compressed batch. */
  observe(o: AutoObservation): void {
    this.compressMs += o.compressMs;
    this.rawBytes += o.rawBytes;
  }

  /**
   * Called before each batch with the backlog fraction in front of the wire and the input's
   * (both 0..1); returns a decision when the setting changes, else undefined.
   */
  evaluate(backlog: number, input = 0): AutoDecision | undefined {
    const elapsed = this.now() - this.periodStart;
    if (elapsed < this.options.periodMs || this.rawBytes === 0) return undefined;
    const busy = this.compressMs / elapsed;
    const bytesPerMs = this.rawBytes / elapsed;
    this.updateCost();
    this.period++;
    this.periodStart = this.now();
    this.compressMs = 0;
    this.rawBytes = 0;
    this.lastBytesPerMs = bytesPerMs;
    const judged = this.judgeTrial(bytesPerMs);
    if (judged) return judged;
    const wanted = this.propose(busy, backlog, input);
    if (!wanted || wanted.step === this.step) {
      this.proposal = undefined;
      return undefined;
    }
    this.proposal =
      this.proposal?.step === wanted.step
        ? { step: wanted.step, count: this.proposal.count + 1 }
        : {
            step: wanted.step,
            count: 1,
          };
    if (this.proposal.count < 2) return undefined;
    const from = this.current;
    if (wanted.step < this.step && wanted.cpu)
      this.cooldownUntil[this.step] = this.period + COOLDOWN_PERIODS;
    this.trial = wanted.link
      ? { from: this.step, bytesPerMs: this.lastBytesPerMs, periods: 0 }
      : undefined;
    this.step = wanted.step;
    this.proposal = undefined;
    return { ...this.current, from, reason: wanted.reason };
  }

  /** Undoes a slow-link step that did not raise the throughput (see the rule above). */
  private judgeTrial(bytesPerMs: number): AutoDecision | undefined {
    const t = this.trial;
    if (t === undefined || ++t.periods < TRIAL_PERIODS) return undefined;
    this.trial = undefined;
    if (bytesPerMs >= t.bytesPerMs * TRIAL_GAIN) return undefined;
    const from = this.current;
    this.cooldownUntil[this.step] = this.period + COOLDOWN_PERIODS;
    this.step = t.from;
    this.proposal = undefined;
    const change = Math.round((bytesPerMs / Math.max(t.bytesPerMs, 1e-9) - 1) * 100);
    const reason =
      `a smaller setting did not raise throughput (${change}%): ` +
      'the receiver, not the link, is the limit';
    return { ...this.current, from, reason };
  }

  private updateCost(): void {
    const cost = this.compressMs / (this.rawBytes / 1e6);
    const prev = this.msPerMb[this.step];
    this.msPerMb[this.step] = Number.isNaN(prev) ? cost : prev * 0.7 + cost * 0.3;
  }

  /** Cost of step b relative to step a, measured where possible. */
  private costRatio(a: number, b: number): number {
    const ma = this.msPerMb[a];
    const mb = this.msPerMb[b];
    if (!Number.isNaN(ma) && !Number.isNaN(mb) && ma > 0) return mb / ma;
    return ASSUMED_COST[b] / ASSUMED_COST[a];
  }

  private propose(busy: number, backlog: number, input: number) {
    const pct = (x: number) => `${Math.round(x * 100)}%`;
    const facts = `compression busy ${pct(busy)}, backlog ${pct(backlog)}, input ${pct(input)}`;
    const up = this.step + 1;
    const down = this.step - 1;
    const canUp = up < AUTO_LADDER.length && this.cooldownUntil[up] <= this.period;
    if (backlog > BEHIND) {
      if (busy > CPU_HIGH && down >= 0) {
        return { step: down, cpu: true, reason: `falling behind and CPU-bound (${facts})` };
      }
      if (busy <= CPU_HIGH && canUp) {
        const reason = `falling behind on a slow link (${facts})`;
        return { step: up, cpu: false, link: true, reason };
      }
      return undefined;
    }
    if (input > BEHIND) {
      const floor = busy > CPU_HIGH ? 0 : INPUT_FLOOR_STEP;
      if (busy > CPU_INPUT && down >= floor) {
        return {
          step: down,
          cpu: true,
          reason: `input falling behind, link keeping up (${facts})`,
        };
      }
      return undefined;
    }
    if (busy > CPU_DANGER && down >= 0) {
      return { step: down, cpu: true, reason: `compression near CPU limit (${facts})` };
    }
    if (backlog < CAUGHT_UP && input < CAUGHT_UP && canUp) {
      const predicted = busy * this.costRatio(this.step, up);
      if (predicted < CPU_TARGET) {
        return {
          step: up,
          cpu: false,
          reason: `keeping up with room to spare (${facts}, predicted ${pct(predicted)})`,
        };
      }
    }
    return undefined;
  }
}
