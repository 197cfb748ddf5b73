// The named error classes of sluice. Library code throws only these (a lint rule bans plain
// Error), so callers can tell a bad option from a bad input from a failed peer.

export class SluiceError extends Error {
  /** Process exit status a CLI command should use when this error ends it. */
  readonly exitCode: number = 2;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A command-line flag or config option has a value that cannot be used. */
export class ConfigError extends SluiceError {}

/** Input data that cannot be read as what it claims to be (fatal only where documented). */
export class InputError extends SluiceError {}

/** A file or directory could not be read or written. */
export class IoError extends SluiceError {}

/** A peer broke the wire protocol (bad frame, CRC mismatch, oversized payload). */
export class ProtocolError extends SluiceError {}

/** A store folder is locked, corrupt or of an unknown version. */
export class StoreError extends SluiceError {}

/** A query expression could not be parsed; `position` is the column of the problem. */
export class ExpressionError extends SluiceError {
  constructor(
    message: string,
    readonly expression: string,
    readonly position: number,
  ) {
    super(message);
  }

  /** The expression with a caret under the problem, for terminal output. */
  pointer(): string {
    return `${this.expression}\n${' '.repeat(Math.max(0, this.position))}^`;
  }
}

/** Builds the one message shape used for bad options: what, where, got, expected. */
export function optionError(owner: string, option: string, got: unknown, expected: string) {
  return new ConfigError(`${owner}: option ${option} got ${JSON.stringify(got)}; ${expected}.`);
}
