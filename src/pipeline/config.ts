// The pipeline config file of `sluice run`: sources, transforms and sinks by name, each with
// a `type`, its options (spelled as the matching command's flags) and, for transforms and
// sinks, the names of the stages that feed it. Validation happens before anything starts, and
// every error names the file, the line and column, and what is wrong.

import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { STAGE_SCHEMAS, type StageKind } from './schemas.js';

export interface StageConfig {
  name: string;
  kind: StageKind;
  type: string;
  inputs: string[];
  options: Record<string, unknown>;
}

export interface PipelineConfig {
  file: string;
  stages: StageConfig[];
}

interface Located {
  file: string;
  doc: Document;
  lines: LineCounter;
}

const KINDS: Array<[StageKind, string]> = [
  ['source', 'sources'],
  ['transform', 'transforms'],
  ['sink', 'sinks'],
];

/** Reads and validates a pipeline file; throws ConfigError with file:line:col on the first problem. */
export function loadPipelineConfig(file: string): PipelineConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the pipeline file (${(err as Error).message}).`);
  }
  return parsePipelineConfig(text, file);
}

export function parsePipelineConfig(text: string, file: string): PipelineConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at: Located = { file, doc, lines };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw locatedError(at, e.pos[0], `is not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const root = doc.toJS() as unknown;
  if (!root || typeof root !== 'object' || Array.isArray(root)) {
    throw locatedError(at, 0, 'must be a mapping with sources, transforms and sinks');
  }
  const known = new Set(['sources', 'transforms', 'sinks']);
  for (const key of Object.keys(root)) {
    if (!known.has(key)) {
      throw errorAtPath(at, [key], `unknown section "${key}"; expected sources, transforms, sinks`);
    }
  }
  const stages = readStages(at, root as Record<string, unknown>);
  checkGraph(at, stages);
  return { file, stages };
}

function readStages(at: Located, root: Record<string, unknown>): StageConfig[] {
  const stages: StageConfig[] = [];
  const names = new Set<string>();
  for (const [kind, section] of KINDS) {
    const entries = root[section];
    if (entries === undefined || entries === null) continue;
    if (typeof entries !== 'object' || Array.isArray(entries)) {
      throw errorAtPath(at, [section], `${section} must be a mapping of stage names to stages`);
    }
    for (const [name, body] of Object.entries(entries as Record<string, unknown>)) {
      if (names.has(name)) {
        throw errorAtPath(at, [section, name], `stage name "${name}" is used twice`);
      }
      names.add(name);
      stages.push(readStage(at, kind, section, name, body));
    }
  }
  if (!stages.some((s) => s.kind === 'source')) {
    throw locatedError(at, 0, 'has no sources; a pipeline needs at least one');
  }
  if (!stages.some((s) => s.kind === 'sink')) {
    throw locatedError(at, 0, 'has no sinks; a pipeline needs at least one');
  }
  return stages;
}

function readStage(
  at: Located,
  kind: StageKind,
  section: string,
  name: string,
  body: unknown,
): StageConfig {
  const path = [section, name];
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw errorAtPath(at, path, `stage "${name}" must be a mapping with a type`);
  }
  const { type, inputs, ...options } = body as Record<string, unknown>;
  const schemas = STAGE_SCHEMAS[kind];
  if (typeof type !== 'string') {
    throw errorAtPath(at, path, `stage "${name}" has no type; ${kind} types: ${typeList(kind)}`);
  }
  const schema = schemas[type];
  if (!schema) {
    throw errorAtPath(
      at,
      [...path, 'type'],
      `unknown ${kind} type "${type}" in stage "${name}"; ${kind} types: ${typeList(kind)}`,
    );
  }
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = [...path, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') where.push(issue.keys[0]);
    throw errorAtPath(at, where, `stage "${name}" (${type}): ${describeIssue(issue)}`);
  }
  return {
    name,
    kind,
    type,
    inputs: readInputs(at, kind, path, name, inputs),
    options: parsed.data as Record<string, unknown>,
  };
}

function readInputs(
  at: Located,
  kind: StageKind,
  path: string[],
  name: string,
  inputs: unknown,
): string[] {
  if (kind === 'source') {
    if (inputs !== undefined) {
      throw errorAtPath(at, [...path, 'inputs'], `source "${name}" cannot have inputs`);
    }
    return [];
  }
  const list = typeof inputs === 'string' ? [inputs] : inputs;
  if (!Array.isArray(list) || list.length === 0 || !list.every((i) => typeof i === 'string')) {
    throw errorAtPath(
      at,
      inputs === undefined ? path : [...path, 'inputs'],
      `${kind} "${name}" needs inputs: a list of the stages that feed it`,
    );
  }
  return list as string[];
}

function checkGraph(at: Located, stages: StageConfig[]): void {
  const byName = new Map(stages.map((s) => [s.name, s]));
  for (const stage of stages) {
    const section = sectionOf(stage.kind);
    stage.inputs.forEach((input, i) => {
      const from = byName.get(input);
      const where = [section, stage.name, 'inputs', String(i)];
      if (!from) throw errorAtPath(at, where, `input "${input}" of "${stage.name}" is no stage`);
      if (from.kind === 'sink') {
        throw errorAtPath(at, where, `input "${input}" of "${stage.name}" is a sink`);
      }
    });
  }
  // A stage whose output goes nowhere is a mistake in the file, not a silent drop.
  const fed = new Set(stages.flatMap((s) => s.inputs));
  for (const stage of stages) {
    if (stage.kind !== 'sink' && !fed.has(stage.name)) {
      throw errorAtPath(
        at,
        [sectionOf(stage.kind), stage.name],
        `${stage.kind} "${stage.name}" feeds nothing; name it in some stage's inputs`,
      );
    }
  }
  findCycle(at, stages, byName);
}

function findCycle(at: Located, stages: StageConfig[], byName: Map<string, StageConfig>): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (stage: StageConfig, trail: string[]): void => {
    if (state.get(stage.name) === 'done') return;
    if (state.get(stage.name) === 'visiting') {
      const loop = [...trail.slice(trail.indexOf(stage.name)), stage.name].join(' -> ');
      throw errorAtPath(at, [sectionOf(stage.kind), stage.name], `stages form a loop: ${loop}`);
    }
    state.set(stage.name, 'visiting');
    for (const input of stage.inputs) visit(byName.get(input)!, [...trail, stage.name]);
    state.set(stage.name, 'done');
  };
  for (const stage of stages) visit(stage, []);
}

function sectionOf(kind: StageKind): string {
  return KINDS.find(([k]) => k === kind)![1];
}

function typeList(kind: StageKind): string {
  return Object.keys(STAGE_SCHEMAS[kind]).join(', ');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.length > 0 ? `option "${issue.path.join('.')}"` : 'options';
  if (issue.code === 'unrecognized_keys') {
    return `unknown option ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return `missing option "${issue.path.join('.')}" (${issue.expected})`;
  }
  return `${key}: ${issue.message}`;
}

/**
 * Finds where a path is written: the key of a mapping entry (that is where a reader looks),
 * or an item of a list; falls back to the nearest parent that exists.
 */
function nodeAt(doc: Document, path: string[]): Node | undefined {
  for (let n = path.length; n > 0; n--) {
    const parent = n > 1 ? doc.getIn(path.slice(0, n - 1), true) : doc.contents;
    const last = path[n - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === last);
      if (pair && isScalar(pair.key)) return pair.key;
    } else if (isSeq(parent)) {
      const item = parent.items[Number(last)];
      if (item && typeof item === 'object' && 'range' in item) return item as Node;
    }
  }
  return undefined;
}

function errorAtPath(at: Located, path: string[], message: string): ConfigError {
  const node = nodeAt(at.doc, path);
  return locatedError(at, node?.range?.[0] ?? 0, message);
}

function locatedError(at: Located, offset: number, message: string): ConfigError {
  const { line, col } = at.lines.linePos(offset);
  return new ConfigError(`${at.file}:${line}:${col}: ${message}.`.replace(/\.\.$/, '.'));
}
