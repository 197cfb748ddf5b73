// The scenario file format (YAML, validated with zod) and its compiled form. Built-in
// scenarios are written in the same shape and go through the same checks.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, InputError } from '../../errors.js';
import { LEVELS, type Level } from '../../record/record.js';
import { FACILITIES } from '../../parse/syslog.js';
import { parseDurationMs } from '../../util/units.js';
import { Weighted } from '../weighted.js';
import { compileParts, type Parts } from './placeholders.js';

/** The facility names a scenario may use: the parser's list, so what is written parses back. */
export const FACILITY_NAMES = FACILITIES;

const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - only');
const weights = z
  .record(z.string(), z.number().nonnegative())
  .refine((w) => Object.values(w).some((v) => v > 0), 'needs at least one weight above 0');
const count = z.number().int().min(1);
const countRange = z.union([count, z.tuple([count, count])]);
const durationText = z.union([z.string(), z.number().positive()]);
const oneLine = z.string().refine((s) => !/[\r\n]/.test(s), 'must be one line (no newline)');
/** A request target as written in a request line: printable ASCII, no spaces, quotes or `\`. */
const target = z
  .string()
  .startsWith('/')
  .refine(
    (s) => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s),
    'a request target is printable ASCII without spaces, quotes or backslashes',
  );

const templateSchema = z.strictObject({
  message: oneLine.pipe(z.string().min(1)),
  weight: z.number().positive().default(1),
  level: z.enum(LEVELS).optional(),
  method: z
    .string()
    .regex(/^[A-Z]+$/, 'an upper-case HTTP method')
    .optional(),
  path: target.optional(),
  status: z.union([z.number().int().min(100).max(599), weights]).optional(),
  msgid: name.optional(),
  fields: z.record(name, z.union([oneLine, z.number()])).optional(),
});

const stateSchema = z.strictObject({
  level: z.enum(LEVELS).optional(),
  rate: z.number().positive().default(1),
  events: countRange.optional(),
  duration: z.union([durationText, z.tuple([durationText, durationText])]).optional(),
  authenticated: z.boolean().default(false),
  status: weights.optional(),
  latency_ms: z
    .union([z.number().positive(), z.tuple([z.number().positive(), z.number().positive()])])
    .optional(),
  templates: z.array(templateSchema).min(1),
  next: weights,
});

export const scenarioSchema = z.strictObject({
  name,
  description: z.string().optional(),
  entities: z.number().int().min(1).max(100_000).default(1),
  entity: name.default('entity'),
  initial: z.string(),
  service: name.optional(),
  hosts: z.array(name).min(1).optional(),
  users: z.array(name).min(1).optional(),
  facility: z.enum(FACILITY_NAMES).default('local0'),
  phi: z.boolean().default(false),
  requests: z.boolean().default(true),
  paths: z.array(target).min(1).optional(),
  states: z.record(name, stateSchema).refine((s) => Object.keys(s).length > 0, 'needs a state'),
});

export type ScenarioSpec = z.input<typeof scenarioSchema>;
type ParsedSpec = z.output<typeof scenarioSchema>;

export interface CompiledTemplate {
  message: Parts;
  level?: Level;
  method?: string;
  path?: Parts;
  query?: Parts;
  status?: Weighted<number>;
  msgid: string;
  fields: Array<[string, Parts | number]>;
}

export interface CompiledState {
  name: string;
  level?: Level;
  rate: number;
  events?: [number, number];
  durationMs?: [number, number];
  authenticated: boolean;
  status?: Weighted<number>;
  /** Median and spread (sigma of the log) of latencies. */
  latency: [number, number];
  templates: Weighted<CompiledTemplate>;
  /** Target state names; 'end' ends the entity and a new one starts at the initial state. */
  next: Weighted<string>;
  /** The allowed targets, for checks and docs. */
  edges: readonly string[];
}

export interface CompiledPath {
  path: Parts;
  query?: Parts;
}

export interface Scenario {
  name: string;
  description: string;
  entities: number;
  entityKey: string;
  initial: string;
  service: string;
  hosts?: readonly string[];
  users?: readonly string[];
  facilityCode: number;
  phi: boolean;
  requests: boolean;
  paths?: Weighted<CompiledPath>;
  states: ReadonlyMap<string, CompiledState>;
}

/** The end-of-entity pseudo state a `next` map may name. */
export const END_STATE = 'end';

class SpecProblem {
  constructor(
    readonly key: string,
    readonly problem: string,
  ) {}
}

function keyPath(path: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s ? `.${String(p)}` : String(p);
  }
  return s || '(top level)';
}

function statusWeights(v: number | Record<string, number>, key: string): Weighted<number> {
  if (typeof v === 'number') return new Weighted([[v, 1]]);
  return new Weighted(
    Object.entries(v).map(([code, w]) => {
      const n = Number(code);
      if (!Number.isInteger(n) || n < 100 || n > 599) {
        throw new SpecProblem(key, `"${code}" is not an HTTP status (100-599)`);
      }
      return [n, w] as const;
    }),
  );
}

function parts(text: string, phi: boolean, key: string): Parts {
  const compiled = compileParts(text, phi);
  if (typeof compiled === 'string') throw new SpecProblem(key, compiled);
  return compiled;
}

function splitTarget(text: string, phi: boolean, key: string): CompiledPath {
  const q = text.indexOf('?');
  if (q < 0) return { path: parts(text, phi, key) };
  return { path: parts(text.slice(0, q), phi, key), query: parts(text.slice(q + 1), phi, key) };
}

function durationRange(v: string | number | [string | number, string | number], key: string) {
  const one = (x: string | number) => {
    try {
      return typeof x === 'number' ? x * 1000 : parseDurationMs(x, key);
    } catch (err) {
      throw new SpecProblem(key, (err as Error).message);
    }
  };
  const [a, b] = Array.isArray(v) ? [one(v[0]), one(v[1])] : [one(v), one(v)];
  if (a <= 0 || b < a) throw new SpecProblem(key, 'needs 0 < minimum <= maximum');
  return [a, b] as [number, number];
}

function compileTemplate(
  t: ParsedSpec['states'][string]['templates'][number],
  phi: boolean,
  key: string,
): CompiledTemplate {
  const target = t.path === undefined ? undefined : splitTarget(t.path, phi, `${key}.path`);
  return {
    message: parts(t.message, phi, `${key}.message`),
    level: t.level,
    method: t.method,
    path: target?.path,
    query: target?.query,
    status: t.status === undefined ? undefined : statusWeights(t.status, `${key}.status`),
    msgid: t.msgid ?? '',
    fields: Object.entries(t.fields ?? {}).map(([k, v]) => [
      k,
      typeof v === 'number' ? v : parts(v, phi, `${key}.fields.${k}`),
    ]),
  };
}

function compileState(
  stateName: string,
  s: ParsedSpec['states'][string],
  spec: ParsedSpec,
): CompiledState {
  const key = `states.${stateName}`;
  if (s.events !== undefined && s.duration !== undefined) {
    throw new SpecProblem(key, 'give either events or duration, not both');
  }
  const events =
    s.events === undefined ? undefined : Array.isArray(s.events) ? s.events : [s.events, s.events];
  if (events && events[1] < events[0])
    throw new SpecProblem(`${key}.events`, 'minimum above maximum');
  for (const target of Object.keys(s.next)) {
    if (target !== END_STATE && !(target in spec.states)) {
      throw new SpecProblem(`${key}.next.${target}`, `no state named "${target}"`);
    }
  }
  const latency = s.latency_ms ?? 60;
  const [p50, p99] = Array.isArray(latency) ? latency : [latency, latency * 5];
  if (p99 < p50) throw new SpecProblem(`${key}.latency_ms`, 'p99 below p50');
  return {
    name: stateName,
    level: s.level,
    rate: s.rate,
    events: events as [number, number] | undefined,
    durationMs: s.duration === undefined ? undefined : durationRange(s.duration, `${key}.duration`),
    authenticated: s.authenticated,
    status: s.status === undefined ? undefined : statusWeights(s.status, `${key}.status`),
    latency: [p50, Math.max(0.05, Math.log(p99 / p50) / 2.326)],
    templates: new Weighted(
      s.templates.map(
        (t, i) => [compileTemplate(t, spec.phi, `${key}.templates[${i}]`), t.weight] as const,
      ),
    ),
    next: new Weighted(Object.entries(s.next)),
    edges: Object.keys(s.next).filter((k) => (s.next[k] ?? 0) > 0),
  };
}

/**
 * Validates a scenario and compiles it. `origin` names where it came from (a file path or
 * "built-in web") and starts every error message.
 */
export function compileScenario(input: unknown, origin: string): Scenario {
  const result = scenarioSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`${origin}: key ${keyPath(issue.path)}: ${issue.message}`);
  }
  const spec = result.data;
  try {
    if (!(spec.initial in spec.states)) {
      throw new SpecProblem('initial', `no state named "${spec.initial}"`);
    }
    const states = new Map<string, CompiledState>();
    for (const [n, s] of Object.entries(spec.states)) states.set(n, compileState(n, s, spec));
    return {
      name: spec.name,
      description: spec.description ?? '',
      entities: spec.entities,
      entityKey: spec.entity,
      initial: spec.initial,
      service: spec.service ?? spec.name,
      hosts: spec.hosts,
      users: spec.users,
      facilityCode: FACILITY_NAMES.indexOf(spec.facility),
      phi: spec.phi,
      requests: spec.requests,
      paths: spec.paths
        ? new Weighted(
            spec.paths.map(
              (p, i) =>
                [splitTarget(p, spec.phi, `paths[${i}]`), 1 / Math.pow(i + 1, 1.1)] as const,
            ),
          )
        : undefined,
      states,
    };
  } catch (err) {
    if (err instanceof SpecProblem) {
      throw new ConfigError(`${origin}: key ${err.key}: ${err.problem}`);
    }
    throw err;
  }
}

/** Reads, parses and compiles a scenario YAML file; every error names the file. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`${path}: cannot read scenario file: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const line = (err as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    const where = line ? ` (line ${line})` : '';
    throw new ConfigError(
      `${path}${where}: not valid YAML: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  return compileScenario(doc, path);
}
