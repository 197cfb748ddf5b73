// The options of every stage type a pipeline file can name. Option names are the matching
// command's flags without the dashes (`segment-size` is `sluice store --segment-size`), so a
// command line turns into a config without relearning. Values take the same units as flags.

import { z } from 'zod';
import { FORMATS, LEVELS } from '../record/record.js';

export type StageKind = 'source' | 'transform' | 'sink';

const duration = z.union([z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d|w)?$/), z.number().min(0)]);
const size = z.union([z.string().regex(/^\d+(\.\d+)?\s*[a-zA-Z]*$/), z.number().int().min(0)]);
const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT')
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'the port must be 0 to 65535');
const strings = z.union([z.string(), z.array(z.string()).min(1)]);
const level = z.enum(LEVELS);
const formatName = z.enum(['auto', ...FORMATS]);

const parseOptions = {
  format: formatName.optional(),
  timezone: z.string().optional(),
  'assume-year': z.number().int().optional(),
  'keep-raw': z.boolean().optional(),
  'max-line-bytes': size.optional(),
  multiline: z.enum(['java', 'python', 'go']).optional(),
  'multiline-start': z.string().optional(),
};

const listenOptions = {
  listen: hostPort,
  'max-line-bytes': size.optional(),
  'max-connections': z.number().int().positive().optional(),
  'max-connections-per-ip': z.number().int().positive().optional(),
  'idle-timeout': duration.optional(),
  'rate-limit': z.string().optional(),
  'rate-burst': z.number().int().positive().optional(),
  'rate-action': z.enum(['slow', 'drop']).optional(),
  'min-level': level.optional(),
};

const generateOptions = z.strictObject({
  format: z.string().optional(),
  scenario: z.string().optional(),
  rate: z.number().min(0).optional(),
  count: z.number().int().positive().optional(),
  duration: duration.optional(),
  seed: z.union([z.number(), z.string()]).optional(),
  'start-time': z.string().optional(),
  'burst-every': duration.optional(),
  'burst-for': duration.optional(),
  'burst-factor': z.number().positive().optional(),
});

const fileOptions = z.strictObject({
  path: strings,
  'exclude-path': strings.optional(),
  'start-at': z.enum(['beginning', 'end']).optional(),
  state: z.string().optional(),
  'partial-flush': duration.optional(),
  'batch-size': z.number().int().positive().optional(),
  'batch-wait': duration.optional(),
  ...parseOptions,
});

export const STAGE_SCHEMAS: Record<StageKind, Record<string, z.ZodType>> = {
  source: {
    generate: generateOptions,
    file: fileOptions,
    stdin: z.strictObject({ ...parseOptions }),
    tcp: z.strictObject({ ...listenOptions, ...parseOptions }),
    tls: z.strictObject({
      ...listenOptions,
      ...parseOptions,
      cert: z.string(),
      key: z.string(),
      ca: z.string().optional(),
      'require-client-cert': z.boolean().optional(),
    }),
  },
  transform: {
    parse: z.strictObject({ ...parseOptions }),
    filter: z.strictObject({
      level: level.optional(),
      grep: z.string().optional(),
      'ignore-case': z.boolean().optional(),
      invert: z.boolean().optional(),
      where: z.string().optional(),
      include: z.string().optional(),
      exclude: z.string().optional(),
    }),
    tag: z.strictObject({
      tag: z.array(z.string().regex(/^[^=]+=.+$/, 'expected NAME=REGEX')).optional(),
      rules: z.string().optional(),
    }),
    redact: z.strictObject({
      redact: z.enum(['hipaa']).optional(),
      'redact-rules': z.string().optional(),
      'redact-mode': z.enum(['mask', 'hash']).optional(),
      'redact-key': z.string().optional(),
    }),
    sample: z.strictObject({
      rate: z.number().gt(0).max(1),
      seed: z.number().int().optional(),
    }),
    rate_limit: z.strictObject({
      'rate-limit': z.string().regex(/^\d+(\.\d+)?\/s$/, 'expected N/s, e.g. 1000/s'),
      'rate-burst': z.number().int().positive().optional(),
    }),
  },
  sink: {
    store: z.strictObject({
      dir: z.string(),
      'segment-size': size.optional(),
      'segment-age': duration.optional(),
      compression: z.enum(['none', 'gzip']).optional(),
      fsync: z.enum(['always', 'interval', 'never']).optional(),
      'retain-age': duration.optional(),
      'retain-size': size.optional(),
      'retain-segments': z.number().int().positive().optional(),
    }),
    stdout: z.strictObject({ output: z.enum(['json', 'text']).optional() }),
    file: z.strictObject({
      out: z.string(),
      'batch-size': z.number().int().positive().optional(),
      'batch-wait': duration.optional(),
    }),
    ship: z.strictObject({
      to: z.string().regex(/^(tcp|tls):\/\/.+:\d+$/, 'expected tcp://HOST:PORT or tls://HOST:PORT'),
      protocol: z.enum(['sluice', 'ndjson']).optional(),
      compress: z.enum(['none', 'gzip', 'deflate', 'auto']).optional(),
      level: z.number().int().min(0).max(9).optional(),
      'batch-size': z.number().int().positive().optional(),
      'batch-bytes': size.optional(),
      'batch-wait': duration.optional(),
      spool: z.string().optional(),
      'spool-max': size.optional(),
      'when-full': z.enum(['block', 'drop-oldest']).optional(),
      ca: z.string().optional(),
      cert: z.string().optional(),
      key: z.string().optional(),
      insecure: z.boolean().optional(),
    }),
  },
};
