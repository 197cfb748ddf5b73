// The redaction flags shared by ship, capture and serve: one call adds them, one call turns
// them into a redactor (or undefined when redaction is off). Errors surface at start.

import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import type { LogRecord } from '../record/record.js';
import { readRedactKey, type RedactMode } from '../transforms/redact/pseudonym.js';
import { createRedactor, type Redactor } from '../transforms/redact/redactor.js';
import { loadRules } from '../transforms/redact/rules.js';

export interface RedactFlags {
  redact?: string;
  redactRules?: string;
  redactMode?: string;
  redactKey?: string;
}

export function addRedactOptions(command: Command): Command {
  return command
    .option('--redact <preset>', 'remove patient identifiers from every record first: hipaa')
    .option('--redact-rules <file>', 'YAML redaction rules (docs/redact.md); implies --redact')
    .option('--redact-mode <mode>', 'mask ([REDACTED:KIND]) or hash (keyed pseudonym)', 'mask')
    .option('--redact-key <file>', 'HMAC key for --redact-mode hash (mode 0600, 16+ bytes)');
}

export function redactorFromFlags(flags: RedactFlags): Redactor | undefined {
  if (flags.redact === undefined && flags.redactRules === undefined) {
    if (flags.redactKey) throw new ConfigError('--redact-key needs --redact or --redact-rules.');
    return undefined;
  }
  if (flags.redact !== undefined && flags.redact !== 'hipaa') {
    throw new ConfigError(`--redact: "${flags.redact}" is not a preset; the preset is hipaa.`);
  }
  const mode = flags.redactMode ?? 'mask';
  if (mode !== 'mask' && mode !== 'hash') {
    throw new ConfigError(`--redact-mode: "${mode}" is not one of mask, hash.`);
  }
  return createRedactor({
    rules: flags.redactRules ? loadRules(flags.redactRules) : undefined,
    mode: mode as RedactMode,
    key: flags.redactKey ? readRedactKey(flags.redactKey) : undefined,
  });
}

/** A sink whose records are redacted before they are appended (serve: before the store). */
export function redactingSink<
  S extends { append(records: LogRecord[], options?: A): Promise<R>; close(): Promise<void> },
  A,
  R,
>(sink: S, redactor: Redactor | undefined): Pick<S, 'append' | 'close'> {
  if (!redactor) return sink;
  return {
    append: (records: LogRecord[], options?: A) =>
      sink.append(redactor.redactBatch(records), options),
    close: () => sink.close(),
  };
}
