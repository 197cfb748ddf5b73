// Joins the lines of one multi-line event (stack traces, goroutine dumps) into one string, so
// that one event becomes one record. Shared by `sluice parse`, capture and query.
//
// Two ways to say where events start: `startPattern` (every matching line starts an event,
// every other line joins the event before it), or a preset that knows what continuation lines
// of Java, Python and Go traces look like.

import { ConfigError } from '../errors.js';

export type MultilinePreset = 'java' | 'python' | 'go';
export const MULTILINE_PRESETS: readonly MultilinePreset[] = ['java', 'python', 'go'];

export interface MultilineOptions {
  /** A line matching this starts a new event; others are continuations. */
  startPattern?: RegExp;
  /** Built-in continuation rules for stack traces. */
  preset?: MultilinePreset;
  /** Most lines in one event (default 500); a longer event is cut and a new one begun. */
  maxLines?: number;
  /** Most bytes (UTF-16 units) in one event (default 1 MiB). */
  maxBytes?: number;
}

export interface Multiline {
  /** Takes one line; returns the events it completed (usually 0 or 1). */
  push(line: string): string[];
  /** Returns the event being built, if any. */
  flush(): string[];
  /** True while an event is held (callers with timers flush it after a quiet period). */
  readonly pending: boolean;
}

const JAVA_CONT =
  /^(?:\s+at\s|\s*\.\.\. \d+ (?:more|common frames omitted)|\s*Caused by:|\s*Suppressed:|\s+)/;
const PY_TRACEBACK = /^Traceback \(most recent call last\):/;
const PY_CHAIN =
  /^(?:During handling of the above exception|The above exception was the direct cause)/;
const PY_EXC_LINE = /^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Fault)?(?::|$)/;
const GO_PANIC = /^(?:panic: |fatal error: )/;
const GO_GOROUTINE = /^goroutine \d+ \[/;
const GO_CONT =
  /^(?:\s|goroutine \d+ \[|created by |exit status |\[signal |$|[\w./*()[\]-]+\(.*\)$)/;

/** Decides, line by line, whether a line continues the current event. */
interface Rule {
  continues(line: string): boolean;
}

class StartPatternRule implements Rule {
  constructor(private readonly re: RegExp) {}
  continues(line: string): boolean {
    this.re.lastIndex = 0;
    return !this.re.test(line);
  }
}

class JavaRule implements Rule {
  continues(line: string): boolean {
    return line.length > 0 && JAVA_CONT.test(line);
  }
}

/** Python: a traceback, its indented frames, chained tracebacks and the final exception line. */
class PythonRule implements Rule {
  private inTrace = false;
  private sawFrame = false;
  continues(line: string): boolean {
    if (PY_TRACEBACK.test(line)) {
      this.inTrace = true;
      this.sawFrame = false;
      return true;
    }
    if (!this.inTrace) return false;
    if (line.length === 0 || PY_CHAIN.test(line)) return true;
    if (/^\s/.test(line)) {
      this.sawFrame = true;
      return true;
    }
    if (this.sawFrame && PY_EXC_LINE.test(line)) {
      // The exception line ends the traceback, unless a chained one follows.
      this.inTrace = false;
      return true;
    }
    this.inTrace = false;
    return false;
  }
}

/** Go: `panic:` / `goroutine N [state]:` dumps with function and tab-indented file lines. */
class GoRule implements Rule {
  private inDump = false;
  continues(line: string): boolean {
    if (GO_PANIC.test(line)) {
      this.inDump = true;
      return false;
    }
    if (GO_GOROUTINE.test(line)) {
      this.inDump = true;
      return true;
    }
    if (this.inDump && GO_CONT.test(line)) return true;
    this.inDump = false;
    return false;
  }
}

class Joiner implements Multiline {
  private lines: string[] = [];
  private bytes = 0;
  private readonly maxLines: number;
  private readonly maxBytes: number;

  constructor(
    private readonly rule: Rule,
    opts: MultilineOptions,
  ) {
    this.maxLines = opts.maxLines ?? 500;
    this.maxBytes = opts.maxBytes ?? 1024 * 1024;
  }

  get pending(): boolean {
    return this.lines.length > 0;
  }

  push(line: string): string[] {
    const cont = this.rule.continues(line);
    const out: string[] = [];
    if (this.lines.length > 0) {
      const full = this.lines.length >= this.maxLines || this.bytes + line.length > this.maxBytes;
      if (!cont || full) out.push(this.take());
    }
    this.lines.push(line);
    this.bytes += line.length + 1;
    return out;
  }

  flush(): string[] {
    return this.lines.length > 0 ? [this.take()] : [];
  }

  private take(): string {
    const s = this.lines.length === 1 ? this.lines[0] : this.lines.join('\n');
    this.lines = [];
    this.bytes = 0;
    return s;
  }
}

export function createMultiline(opts: MultilineOptions): Multiline {
  if (opts.startPattern && opts.preset) {
    throw new ConfigError('multiline: give either a start pattern or a preset, not both.');
  }
  if (opts.startPattern) return new Joiner(new StartPatternRule(opts.startPattern), opts);
  switch (opts.preset) {
    case 'java':
      return new Joiner(new JavaRule(), opts);
    case 'python':
      return new Joiner(new PythonRule(), opts);
    case 'go':
      return new Joiner(new GoRule(), opts);
    default:
      throw new ConfigError(
        `multiline: preset ${JSON.stringify(opts.preset)} is unknown; use java, python or go.`,
      );
  }
}

/** Compiles a user's --multiline-start pattern, naming the flag when it is not a regex. */
export function compileStartPattern(source: string, flag = '--multiline-start'): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new ConfigError(
      `${flag}: ${JSON.stringify(source)} is not a valid regular expression ` +
        `(${(err as Error).message}).`,
    );
  }
}
