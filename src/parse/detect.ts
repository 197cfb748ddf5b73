// Format detection. Candidates are chosen by the first character, so a line pays for a few
// cheap checks at most; the line parser tries the format of the previous line before these.

import type { Format } from '../record/record.js';
import type { FormatParser } from './context.js';
import { parseAccess } from './access.js';
import { parseApacheError } from './apache-error.js';
import { parseNginxError } from './nginx-error.js';
import { parseSyslog3164 } from './syslog3164.js';
import { parseSyslog5424 } from './syslog5424.js';
import { parseJson } from './json.js';
import { parseLogfmt } from './logfmt.js';

/** The parser of each structured format (access logs share one scanner). */
export const PARSERS: Readonly<Record<Exclude<Format, 'text'>, FormatParser>> = {
  apache_common: parseAccess,
  apache_combined: parseAccess,
  apache_error: parseApacheError,
  nginx_error: parseNginxError,
  syslog_rfc3164: parseSyslog3164,
  syslog_rfc5424: parseSyslog5424,
  json: parseJson,
  logfmt: parseLogfmt,
};

const BY_DIGIT: FormatParser[] = [
  parseAccess,
  parseNginxError,
  parseSyslog5424,
  parseSyslog3164,
  parseLogfmt,
];
const BY_ANGLE: FormatParser[] = [parseSyslog5424, parseSyslog3164];
const BY_BRACKET: FormatParser[] = [parseApacheError];
const BY_BRACE: FormatParser[] = [parseJson];
const BY_LETTER: FormatParser[] = [parseSyslog3164, parseAccess, parseLogfmt];
const BY_OTHER: FormatParser[] = [parseAccess, parseLogfmt];

/** The parsers worth trying for a line, most likely first. */
export function candidates(line: string): readonly FormatParser[] {
  const c = line.charCodeAt(0);
  if (c >= 48 && c <= 57) return BY_DIGIT;
  if (c === 60) return BY_ANGLE;
  if (c === 123 || c === 32 || c === 9) return BY_BRACE;
  if (c === 91) return BY_BRACKET;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return BY_LETTER;
  return BY_OTHER;
}
