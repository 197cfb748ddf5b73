// The parsers as a library: one line to one record, a stateful line parser, the multiline
// joiner and the format detector's building blocks.

export type { ParseOptions } from './options.js';
export { DEFAULT_MAX_LINE_BYTES } from './options.js';
export type { LineParser } from './line-parser.js';
export { createLineParser, parseLine, markTruncated } from './line-parser.js';
export type { Multiline, MultilineOptions, MultilinePreset } from './multiline.js';
export { createMultiline, compileStartPattern, MULTILINE_PRESETS } from './multiline.js';
export { levelFromValue, levelFromWord, levelFromStatus } from './level.js';
export type { ParseStreamOptions } from './stream.js';
export { createParseStream } from './stream.js';
