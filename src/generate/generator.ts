// The generator: a scenario engine, an event clock and a formatter. It hands out events, lines
// or whole chunks of lines up to a time on the event clock; it never looks at the wall clock,
// so the same seed and start time give the same bytes whatever the pacing.

import { ConfigError } from '../errors.js';
import { blankEvent, type GenEvent } from './event.js';
import {
  createFormatter,
  levelInFormat,
  type GeneratedFormat,
  type LineFormatter,
  type SlotRecorder,
} from './formats.js';
import { labelLine, type LineLabel } from './labels.js';
import { AccessByteWriter } from './access-bytes.js';
import { Prng } from './prng.js';
import { builtinScenario } from './scenario/builtin.js';
import { ScenarioEngine } from './scenario/engine.js';
import type { Scenario } from './scenario/schema.js';

export interface BurstOptions {
  /** A burst starts every `everyMs` of event time (the first at everyMs). */
  everyMs: number;
  /** How long each burst lasts. */
  forMs: number;
  /** Rate multiplier during a burst. */
  factor: number;
}

export interface GeneratorOptions {
  format: GeneratedFormat;
  /** A compiled scenario or the name of a built-in one (default 'web'). */
  scenario?: Scenario | string;
  seed?: string | number;
  /** Time of the first event, epoch ms (default: now). */
  startTimeMs?: number;
  /** Lines per second of event time (the asked rate, or the simulated rate under --rate 0). */
  ratePerSec: number;
  burst?: BurstOptions;
  /** 'uniform' spaces lines evenly; 'poisson' draws exponential gaps with the same mean. */
  arrivals?: 'uniform' | 'poisson';
}

export interface Chunk {
  /** The lines, each ending in a newline, UTF-8. A fresh buffer the caller may keep. */
  data: Buffer;
  lines: number;
  /** NDJSON labels of the chunk's lines, when asked for. */
  labels?: string;
}

export class Generator {
  readonly scenario: Scenario;
  readonly format: GeneratedFormat;
  readonly startTimeMs: number;
  /** Lines produced so far. */
  count = 0;
  private readonly rng: Prng;
  private readonly engine: ScenarioEngine;
  private readonly formatter: LineFormatter;
  private readonly event = blankEvent();
  private readonly recorder: SlotRecorder = [];
  private scratch = Buffer.allocUnsafe(1 << 20);
  private readonly asciiLines: boolean;
  private readonly byteWriter: AccessByteWriter | null;
  private clockMs: number;
  private readonly gapMs: number;

  constructor(private readonly opts: GeneratorOptions) {
    if (!(opts.ratePerSec > 0) || !Number.isFinite(opts.ratePerSec)) {
      throw new ConfigError(`rate ${opts.ratePerSec} must be above 0 for the clock.`);
    }
    this.format = opts.format;
    this.scenario =
      typeof opts.scenario === 'object' ? opts.scenario : builtinScenario(opts.scenario ?? 'web');
    this.rng = new Prng(opts.seed ?? 1);
    this.startTimeMs = Math.floor(opts.startTimeMs ?? Date.now());
    this.clockMs = this.startTimeMs;
    this.gapMs = 1000 / opts.ratePerSec;
    const access = opts.format === 'apache_common' || opts.format === 'apache_combined';
    this.asciiLines = access;
    this.byteWriter = access ? new AccessByteWriter(opts.format === 'apache_combined') : null;
    const structured =
      opts.format === 'json' || opts.format === 'logfmt' || opts.format === 'syslog_rfc5424';
    this.engine = new ScenarioEngine(this.scenario, this.rng, this.startTimeMs, {
      message: !access,
      structured,
    });
    this.formatter = createFormatter(opts.format);
  }

  /** Event time (ms) of the next line. */
  get nextTimeMs(): number {
    return Math.floor(this.clockMs);
  }

  /** The allowed edges of the scenario's state machine. */
  edges(): Map<string, readonly string[]> {
    return this.engine.edges();
  }

  private burstFactor(t: number): number {
    const b = this.opts.burst;
    if (!b) return 1;
    const since = t - this.startTimeMs;
    if (since < b.everyMs) return 1;
    return since % b.everyMs < b.forMs ? b.factor : 1;
  }

  /**
   * The next event. The object is reused by the following call: copy it (cloneEvent) to keep it.
   */
  nextEvent(): GenEvent {
    const ev = this.event;
    const now = Math.floor(this.clockMs);
    this.engine.fill(ev, now);
    ev.seq = ++this.count;
    ev.level = levelInFormat(this.format, ev.level, ev.request.status);
    const gap = this.gapMs / (this.engine.lastRate * this.burstFactor(now));
    this.clockMs += this.opts.arrivals === 'poisson' ? this.rng.exponential(gap) : gap;
    return ev;
  }

  /** The line of an event, without the newline. */
  line(ev: GenEvent): string {
    return this.formatter(ev, null);
  }

  /** The line of an event and its label (state, entity and exact PHI spans). */
  labelledLine(ev: GenEvent): { line: string; label: LineLabel } {
    this.recorder.length = 0;
    const line = this.formatter(ev, this.recorder);
    return { line, label: labelLine(ev, line, this.recorder) };
  }

  /** The next `n` lines as strings (no newlines), for callers that want records in-process. */
  lines(n: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.formatter(this.nextEvent(), null));
    return out;
  }

  /**
   * Lines up to `maxLines`, stopping before the first event later than `untilMs` (event time).
   * Lines are written straight into a scratch buffer (much faster than joining strings) and
   * copied out once per chunk.
   */
  chunk(maxLines: number, untilMs = Number.POSITIVE_INFINITY, withLabels = false): Chunk {
    const chunk = this.borrowChunk(maxLines, untilMs, withLabels);
    return { ...chunk, data: Buffer.from(chunk.data) };
  }

  /**
   * Like chunk(), but `data` is a view of the generator's own buffer, valid only until the
   * next call: for a writer that finishes each write before asking for more (saves a copy).
   */
  borrowChunk(maxLines: number, untilMs = Number.POSITIVE_INFINITY, withLabels = false): Chunk {
    if (this.byteWriter && !withLabels) return this.accessChunk(this.byteWriter, maxLines, untilMs);
    let labels = '';
    let n = 0;
    let at = 0;
    // Lines are joined in small groups: one buffer write per group flattens the rope once.
    let group = '';
    while (n < maxLines && this.clockMs <= untilMs) {
      const ev = this.nextEvent();
      if (withLabels) {
        const labelled = this.labelledLine(ev);
        group += labelled.line + '\n';
        labels += JSON.stringify(labelled.label) + '\n';
      } else {
        group += this.formatter(ev, null) + '\n';
      }
      if ((++n & 31) === 0) {
        at = this.put(group, at);
        group = '';
      }
    }
    if (group) at = this.put(group, at);
    const data = this.scratch.subarray(0, at);
    return withLabels ? { data, lines: n, labels } : { data, lines: n };
  }

  /** Longest access line the byte path expects; a longer one makes it grow the buffer first. */
  private accessChunk(writer: AccessByteWriter, maxLines: number, untilMs: number): Chunk {
    let n = 0;
    let at = 0;
    while (n < maxLines && this.clockMs <= untilMs) {
      const ev = this.nextEvent();
      const r = ev.request;
      const most =
        r.clientIp.length +
        r.remoteUser.length +
        r.path.length +
        r.query.length +
        r.referrer.length +
        r.userAgent.length +
        128;
      if (at + most > this.scratch.length) this.grow(at + most);
      at = writer.write(ev, this.scratch, at);
      n++;
    }
    return { data: this.scratch.subarray(0, at), lines: n };
  }

  private put(text: string, at: number): number {
    if (at + text.length * 3 > this.scratch.length) this.grow(at + text.length * 3);
    // Access-log lines are ASCII by construction (targets are checked at load, placeholder
    // values percent-encoded, the rest from ASCII lists), and latin1 encoding is cheaper.
    return at + this.scratch.write(text, at, this.asciiLines ? 'latin1' : 'utf8');
  }

  private grow(atLeast: number): void {
    const next = Buffer.allocUnsafe(Math.max(atLeast, this.scratch.length * 2));
    this.scratch.copy(next);
    this.scratch = next;
  }
}

/** A generator of lines of one format from one scenario (see GeneratorOptions). */
export function createGenerator(opts: GeneratorOptions): Generator {
  return new Generator(opts);
}
