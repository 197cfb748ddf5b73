// The tag transform: rules map a regular expression on the line to tags and extra fields.
// Rules come from --tag NAME=REGEX flags or a YAML rules file; named groups in a pattern
// become fields too. Every pattern is compiled at start, so a bad one stops the command.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { JsonValue, LogRecord } from '../record/record.js';
import { compileRegex } from './filter.js';

export interface TagRule {
  pattern: RegExp;
  tags: string[];
  fields: Record<string, JsonValue>;
}

const TAG_NAME = /^[A-Za-z0-9_.:-]+$/;

/** Reads `NAME=REGEX` as given to --tag. */
export function parseTagFlag(text: string): TagRule {
  const eq = text.indexOf('=');
  const name = eq > 0 ? text.slice(0, eq) : '';
  if (!TAG_NAME.test(name) || eq === text.length - 1) {
    throw new ConfigError(`--tag: "${text}" is not NAME=REGEX (a name of letters, digits, _.:-).`);
  }
  return { pattern: compileRegex(text.slice(eq + 1), `--tag ${name}`), tags: [name], fields: {} };
}

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const rulesSchema = z.object({
  rules: z.array(
    z
      .object({
        match: z.string().min(1),
        tags: z.array(z.string().regex(TAG_NAME)).optional(),
        fields: z.record(z.string(), scalar).optional(),
      })
      .strict(),
  ),
});

/** Loads a YAML rules file: `rules: [{match: REGEX, tags: [..], fields: {..}}]`. */
export function loadTagRules(file: string): TagRule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--rules ${file}: cannot read it (${(err as Error).message}).`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`--rules ${file}: not valid YAML (${(err as Error).message}).`);
  }
  const result = rulesSchema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`--rules ${file}: ${issue.path.join('.') || 'top'}: ${issue.message}.`);
  }
  return result.data.rules.map((r, i) => ({
    pattern: compileRegex(r.match, `--rules ${file}: rules.${i}.match`),
    tags: r.tags ?? [],
    fields: r.fields ?? {},
  }));
}

/** Applies the rules to a record, matching on its line text; returns undefined with no rules. */
export function createTagger(
  rules: readonly TagRule[],
): ((record: LogRecord, text: string) => void) | undefined {
  if (rules.length === 0) return undefined;
  return (record, text) => {
    for (const rule of rules) {
      const m = rule.pattern.exec(text);
      if (!m) continue;
      if (rule.tags.length > 0) {
        const tags = (record.tags ??= []);
        for (const t of rule.tags) if (!tags.includes(t)) tags.push(t);
      }
      const extra = { ...rule.fields, ...(m.groups ?? {}) };
      for (const [k, v] of Object.entries(extra)) {
        if (v !== undefined) (record.fields ??= {})[k] = v;
      }
    }
  };
}
