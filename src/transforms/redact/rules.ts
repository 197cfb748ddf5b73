// The redaction rules file (--redact-rules FILE): YAML checked with zod when sluice starts,
// so a bad rule stops the command with the file, the rule and the problem named, instead of
// leaking data later. docs/redact.md documents the format.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, IoError } from '../../errors.js';
import { hasNestedQuantifier } from '../../query/regex.js';
import { regexDetector, type Detector } from './detectors.js';
import { KIND_NAME, PHI_KINDS } from './kinds.js';
import { cues } from './patterns.js';

const kind = z.string().regex(KIND_NAME, 'a kind is lower case letters, digits and _');

const PatternRule = z.strictObject({
  kind,
  /** A JavaScript regular expression; a group named `v` limits what is replaced. */
  pattern: z.string().min(1).max(2000),
  /** Regex flags besides g and u: i, m, s. */
  flags: z
    .string()
    .regex(/^[ims]*$/, 'flags may only be i, m and s')
    .optional(),
  /** Cue words; when given, the match is kept only right after one of them. */
  context: z.array(z.string().min(1).max(64)).min(1).optional(),
});

const KeyRule = z.strictObject({ key: z.string().min(1).max(200), kind });

export const RulesFile = z.strictObject({
  /** Start from the built-in HIPAA detectors (default) or from nothing. */
  preset: z.enum(['hipaa', 'none']).default('hipaa'),
  /** Built-in kinds to turn off. */
  disable: z.array(z.enum(PHI_KINDS)).default([]),
  patterns: z.array(PatternRule).default([]),
  keys: z.array(KeyRule).default([]),
  /** Field names whose values are never changed. */
  skip_keys: z.array(z.string().min(1)).default([]),
  mode: z.enum(['mask', 'hash']).optional(),
});
export type RulesFile = z.infer<typeof RulesFile>;

export interface CompiledRules {
  preset: 'hipaa' | 'none';
  disabled: Set<string>;
  detectors: Detector[];
  keys: Array<{ key: string; kind: string }>;
  skipKeys: string[];
  mode?: 'mask' | 'hash';
}

function compilePattern(file: string, index: number, rule: z.infer<typeof PatternRule>): Detector {
  const where = `redact rules ${file}: patterns[${index}] (${rule.kind})`;
  if (hasNestedQuantifier(rule.pattern)) {
    throw new ConfigError(
      `${where}: pattern ${JSON.stringify(rule.pattern)} nests quantifiers, which can take ` +
        'exponential time; rewrite it without a repeated group that repeats inside.',
    );
  }
  const source = rule.context
    ? `(?<![\\p{L}\\p{N}_])${cues(rule.context.map((w) => w.toLowerCase()))}` +
      `[\\s:=#"'\\[\\](){}-]{1,6}(?<v>${rule.pattern})`
    : rule.pattern;
  try {
    return regexDetector(rule.kind, 'any', source, undefined, `gu${rule.flags ?? ''}`);
  } catch (err) {
    throw new ConfigError(
      `${where}: pattern is not a valid regular expression: ${(err as Error).message}`,
    );
  }
}

export function compileRules(file: string, data: unknown): CompiledRules {
  const parsed = RulesFile.safeParse(data ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || '(top level)';
    throw new ConfigError(`redact rules ${file}: ${path}: ${issue?.message ?? 'invalid'}.`);
  }
  const rules = parsed.data;
  return {
    preset: rules.preset,
    disabled: new Set(rules.disable),
    detectors: rules.patterns.map((r, i) => compilePattern(file, i, r)),
    keys: rules.keys,
    skipKeys: rules.skip_keys,
    mode: rules.mode,
  };
}

export function loadRules(file: string): CompiledRules {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new IoError(`redact rules ${file} cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`redact rules ${file} is not valid YAML: ${(err as Error).message}`);
  }
  return compileRules(file, data);
}
