// What a found identifier becomes: a mask naming its kind, or a keyed HMAC pseudonym that is
// the same for the same value on every line (so one patient can be followed, not named).
// The value is normalised per kind first: "JOHN SMITH" and "John  Smith" are one person.

import { createHmac } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError, IoError } from '../../errors.js';

export type RedactMode = 'mask' | 'hash';

const MIN_KEY_BYTES = 16;
const CACHE_LIMIT = 50_000;

const MASKS = new Map<string, string>();

/** `[REDACTED:KIND]`, one string per kind (built once, not per match). */
export function mask(kind: string): string {
  let m = MASKS.get(kind);
  if (m === undefined) {
    m = `[REDACTED:${kind.toUpperCase()}]`;
    MASKS.set(kind, m);
  }
  return m;
}

function normalise(kind: string, value: string): string {
  switch (kind) {
    case 'ssn':
    case 'phone':
    case 'zip':
      return value.replace(/\D/g, '');
    case 'email':
    case 'url':
    case 'ip':
      return value.toLowerCase();
    default:
      return value.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
  }
}

/** A keyed pseudonymiser with a bounded cache (a log repeats the same patient many times). */
export function createPseudonymiser(key: Buffer): (kind: string, value: string) => string {
  const cache = new Map<string, string>();
  return (kind, value) => {
    const input = `${kind}\u0000${normalise(kind, value)}`;
    let token = cache.get(input);
    if (token === undefined) {
      const digest = createHmac('sha256', key).update(input).digest('hex').slice(0, 16);
      token = `[${kind.toUpperCase()}:${digest}]`;
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(input, token);
    }
    return token;
  };
}

/** Reads the HMAC key file: at least 16 bytes, not readable by group or others. */
export function readRedactKey(path: string): Buffer {
  let mode: number;
  let key: Buffer;
  try {
    mode = statSync(path).mode;
    key = readFileSync(path);
  } catch (err) {
    throw new IoError(`redact key ${path} cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `redact key ${path} has mode ${(mode & 0o777).toString(8)}; it must not be readable by group or others (chmod 600).`,
    );
  }
  const trimmed = Buffer.from(key.toString('utf8').trim(), 'utf8');
  if (trimmed.length < MIN_KEY_BYTES) {
    throw new ConfigError(
      `redact key ${path} holds ${trimmed.length} bytes; at least ${MIN_KEY_BYTES} are needed.`,
    );
  }
  return trimmed;
}
