// The line filter transform: keeps lines that match any --include pattern (when some are
// given) and none of the --exclude patterns. It decides on the line text before parsing, so
// a dropped line costs no record; the source counts it as delivered by policy.

import { ConfigError } from '../errors.js';

export interface LineFilterOptions {
  /** Regular expressions (source text); a line must match one of them, when any are given. */
  include?: readonly string[];
  /** Regular expressions; a line matching any of them is dropped. */
  exclude?: readonly string[];
}

/** Compiles a user's regular expression; a bad one is an error naming it and where it came from. */
export function compileRegex(source: string, what: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    const why = (err as Error).message.replace(/^Invalid regular expression: /, '');
    throw new ConfigError(`${what}: "${source}" is not a valid regular expression (${why}).`);
  }
}

/** The filter as a predicate on line text, or undefined when it keeps everything. */
export function createLineFilter(opts: LineFilterOptions): ((text: string) => boolean) | undefined {
  const include = (opts.include ?? []).map((s) => compileRegex(s, '--include'));
  const exclude = (opts.exclude ?? []).map((s) => compileRegex(s, '--exclude'));
  if (include.length === 0 && exclude.length === 0) return undefined;
  return (text) => {
    if (include.length > 0 && !include.some((re) => re.test(text))) return false;
    return !exclude.some((re) => re.test(text));
  };
}
