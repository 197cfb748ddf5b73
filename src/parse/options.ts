// Options shared by every parser, as `sluice parse` and the library take them.

import type { Format } from '../record/record.js';

export interface ParseOptions {
  /** A format to force, or 'auto' (default) to detect it line by line. */
  format?: Format | 'auto';
  /** IANA zone for times written without an offset (default UTC). */
  timezone?: string;
  /** Year for RFC 3164 times, which carry none; without it the year is inferred. */
  assumeYear?: number;
  /** Reference time in epoch ms; default: the moment each line is read. */
  now?: number;
  /** Keep the original line in `raw` for every record, not only for unparsed lines. */
  keepRaw?: boolean;
  /** Longest line accepted by framers built from these options (default 1 MiB). */
  maxLineBytes?: number;
  /** Written to `source` of every record (a path or a peer address). */
  source?: string;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
