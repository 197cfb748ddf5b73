// Shared syslog pieces: the PRI value and facility names (RFC 3164 and RFC 5424 use the same).

import type { Level, SyslogFields } from '../record/record.js';
import { SYSLOG_SEVERITY_LEVEL } from './level.js';

export const FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

export interface Pri {
  value: number;
  /** Index just after `>`. */
  end: number;
}

/** Reads `<N>` (N 0-191) at the start of the line; undefined when absent or malformed. */
export function readPri(line: string): Pri | undefined {
  if (line.charCodeAt(0) !== 60) return undefined;
  let v = 0;
  let i = 1;
  for (; i < 5; i++) {
    const c = line.charCodeAt(i);
    if (c === 62) break;
    const d = c - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  if (i === 1 || line.charCodeAt(i) !== 62 || v > 191) return undefined;
  return { value: v, end: i + 1 };
}

/** The `syslog` object and level a PRI value stands for. */
export function priFields(pri: number): { syslog: SyslogFields; level: Level } {
  const code = pri >> 3;
  const sev = pri & 7;
  return {
    syslog: { facility: FACILITIES[code], facility_code: code, severity_code: sev },
    level: SYSLOG_SEVERITY_LEVEL[sev],
  };
}
