// The generate stage's public surface: make realistic log lines in-process (createGenerator),
// run them at a rate to a sink (runGenerator), and load or build scenarios.

export { createGenerator, Generator } from './generator.js';
export type { GeneratorOptions, BurstOptions, Chunk } from './generator.js';
export { runGenerator, formatSummary } from './run.js';
export type { RunOptions, RunSummary } from './run.js';
export { StreamSink, RotatingFileSink } from './output.js';
export type { LineSink, RotationOptions } from './output.js';
export { GENERATED_FORMATS, isGeneratedFormat, createFormatter, levelInFormat } from './formats.js';
export type { GeneratedFormat } from './formats.js';
export { cloneEvent, PHI_KINDS } from './event.js';
export type { GenEvent, GenRequest, PhiKind, PhiSpan } from './event.js';
export type { LineLabel, PhiLabel } from './labels.js';
export { builtinScenario, BUILTIN_SPECS } from './scenario/builtin.js';
export { compileScenario, loadScenarioFile, scenarioSchema, END_STATE } from './scenario/schema.js';
export type { Scenario, ScenarioSpec } from './scenario/schema.js';
export { ScenarioEngine } from './scenario/engine.js';
export { Prng } from './prng.js';
