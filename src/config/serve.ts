// The settings of `sluice serve`: built from defaults, then the YAML file given with --config,
// then the command-line flags (a flag always wins). Option names in the file are the flags
// without their dashes, as in pipeline files. The file is read again on SIGHUP.
//
//   min-level: warn
//   rate-limit: 1000/s
//   rate-burst: 2000
//   rate-action: slow
//   rate-overrides:
//     - cidr: 10.1.0.0/16
//       rate-limit: 5000/s
//       rate-burst: 10000
//     - cidr: 127.0.0.1/32
//       rate-limit: unlimited
//   max-line-bytes: 256KiB
//   max-connections: 4096
//   max-connections-per-ip: 1024
//   idle-timeout: 5m

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { CollectorSettings } from '../net/collector.js';
import type { Level } from '../record/record.js';
import { parseRate, type RateOverride } from '../transforms/rate-limit.js';
import { parseDurationMs, parsePositiveInt, parseSizeBytes } from '../util/units.js';

const level = z.enum(['trace', 'debug', 'info', 'notice', 'warn', 'error', 'critical']);
const numOrString = z.union([z.number().nonnegative(), z.string()]);

const overrideSchema = z.strictObject({
  cidr: z.string(),
  'rate-limit': numOrString,
  'rate-burst': z.number().int().positive().optional(),
});

export const serveConfigSchema = z.strictObject({
  'min-level': level.optional(),
  'rate-limit': numOrString.optional(),
  'rate-burst': z.number().int().positive().optional(),
  'rate-action': z.enum(['slow', 'drop']).optional(),
  'rate-overrides': z.array(overrideSchema).optional(),
  'max-line-bytes': numOrString.optional(),
  'max-connections': z.number().int().positive().optional(),
  'max-connections-per-ip': z.number().int().positive().optional(),
  'idle-timeout': numOrString.optional(),
});

export type ServeConfigFile = z.infer<typeof serveConfigSchema>;

/** The flags of `sluice serve` that are settings (strings as commander gives them). */
export interface ServeFlags {
  minLevel?: string;
  rateLimit?: string;
  rateBurst?: string;
  rateAction?: string;
  maxLineBytes?: string;
  maxConnections?: string;
  maxConnectionsPerIp?: string;
  idleTimeout?: string;
}

export const SERVE_DEFAULTS: CollectorSettings = {
  minLevel: 'trace',
  rate: undefined,
  rateAction: 'slow',
  rateOverrides: [],
  maxLineBytes: 256 * 1024,
  maxConnections: 4096,
  maxConnectionsPerIp: 1024,
  idleTimeoutMs: 300_000,
};

/** Reads and validates a serve config file; errors name the file and the key. */
export function loadServeConfig(file: string): ServeConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(`--config ${file}: cannot read (${code}).`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`--config ${file}: not valid YAML: ${(err as Error).message}`);
  }
  const parsed = serveConfigSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new ConfigError(`--config ${file}: ${where}: ${issue.message}.`);
  }
  return parsed.data;
}

/** Defaults ← config file ← flags. Throws ConfigError naming the bad option. */
export function resolveServeSettings(
  file: ServeConfigFile | undefined,
  flags: ServeFlags,
): CollectorSettings {
  const f = file ?? {};
  const s: CollectorSettings = { ...SERVE_DEFAULTS, rateOverrides: [] };
  const minLevel = flags.minLevel ?? f['min-level'];
  if (minLevel !== undefined) s.minLevel = checkLevel(minLevel);
  const action = flags.rateAction ?? f['rate-action'];
  if (action !== undefined) {
    if (action !== 'slow' && action !== 'drop') {
      throw new ConfigError(`--rate-action: "${action}" is not one of slow, drop.`);
    }
    s.rateAction = action;
  }
  const rate = flags.rateLimit ?? f['rate-limit'];
  const burst = flags.rateBurst ?? f['rate-burst'];
  if (rate !== undefined) {
    const perSec = rateValue(rate, '--rate-limit');
    const burstN =
      burst === undefined ? undefined : parsePositiveInt(String(burst), '--rate-burst');
    s.rate = { ratePerSec: perSec, burst: burstN ?? defaultBurst(perSec) };
  } else if (burst !== undefined) {
    throw new ConfigError('--rate-burst: needs --rate-limit too.');
  }
  s.rateOverrides = (f['rate-overrides'] ?? []).map((o, i): RateOverride => {
    const perSec = rateValue(o['rate-limit'], `rate-overrides.${i}.rate-limit`);
    return { cidr: o.cidr, ratePerSec: perSec, burst: o['rate-burst'] ?? defaultBurst(perSec) };
  });
  const maxLine = flags.maxLineBytes ?? f['max-line-bytes'];
  if (maxLine !== undefined) s.maxLineBytes = sizeValue(maxLine, '--max-line-bytes');
  const maxConn = flags.maxConnections ?? f['max-connections'];
  if (maxConn !== undefined)
    s.maxConnections = parsePositiveInt(String(maxConn), '--max-connections');
  const perIp = flags.maxConnectionsPerIp ?? f['max-connections-per-ip'];
  if (perIp !== undefined) {
    s.maxConnectionsPerIp = parsePositiveInt(String(perIp), '--max-connections-per-ip');
  }
  const idle = flags.idleTimeout ?? f['idle-timeout'];
  if (idle !== undefined) s.idleTimeoutMs = parseDurationMs(String(idle), '--idle-timeout');
  return s;
}

function checkLevel(value: string): Level {
  const parsed = level.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(`--min-level: "${value}" is not one of ${level.options.join(', ')}.`);
  }
  return parsed.data;
}

/** "unlimited" (or 0) lifts the limit; otherwise a rate such as 1000/s. */
function rateValue(value: string | number, what: string): number {
  if (value === 'unlimited' || value === 0 || value === '0') return Infinity;
  return parseRate(String(value), what);
}

function sizeValue(value: string | number, what: string): number {
  const n = parseSizeBytes(String(value), what);
  if (n < 64) throw new ConfigError(`${what}: ${n} bytes is too small; use at least 64.`);
  return n;
}

/** Without --rate-burst, one second's worth of records. */
function defaultBurst(perSec: number): number {
  return perSec === Infinity ? Infinity : Math.max(1, Math.ceil(perSec));
}
