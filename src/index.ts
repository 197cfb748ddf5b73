// The sluice library: the record, the parsers and the stages, for programs that embed them.

export * from './record/record.js';
export * from './record/batch.js';
export * from './errors.js';
export * from './record/json.js';
export * from './record/json-bytes.js';
export * from './parse/index.js';
export * from './framing/newline.js';
export * from './sources/input.js';
export * from './store/index.js';
export * as generate from './generate/index.js';
