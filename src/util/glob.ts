// A small glob matcher for file paths: `*`, `?`, `[abc]`, `{a,b}` and `**`. Node 20's
// path.matchesGlob prints an ExperimentalWarning and chokidar 4 dropped globs, so the file
// source compiles its patterns here once and matches every discovered path against them.

import { isAbsolute, resolve, sep } from 'node:path';
import { ConfigError } from '../errors.js';

export interface CompiledGlob {
  /** The pattern as given, made absolute. */
  pattern: string;
  /** The longest leading folder with no wildcard: where a watcher must look. */
  baseDir: string;
  /** How many folder levels below baseDir a match can be (Infinity with `**`). */
  depth: number;
  regex: RegExp;
}

const MAGIC = /[*?[\]{}]/;

/** Compiles a glob into a matcher; relative patterns are taken from `cwd`. */
export function compileGlob(pattern: string, cwd = process.cwd()): CompiledGlob {
  if (pattern.trim() === '') throw new ConfigError('glob: an empty pattern matches nothing.');
  const absolute = isAbsolute(pattern) ? pattern : resolve(cwd, pattern);
  const parts = absolute.split(sep);
  const firstMagic = parts.findIndex((p) => MAGIC.test(p));
  const baseParts = firstMagic < 0 ? parts.slice(0, -1) : parts.slice(0, firstMagic);
  const baseDir = baseParts.join(sep) || sep;
  const rest = firstMagic < 0 ? parts.slice(-1) : parts.slice(firstMagic);
  const depth = rest.includes('**') ? Infinity : rest.length - 1;
  return { pattern: absolute, baseDir, depth, regex: new RegExp(`^${globToRegex(absolute)}$`) };
}

/** True when `path` (absolute) matches any of the globs. */
export function matchesAny(path: string, globs: readonly CompiledGlob[]): boolean {
  return globs.some((g) => g.regex.test(path));
}

/** Translates glob syntax to a regular expression source; `/` separates segments. */
export function globToRegex(glob: string): string {
  let out = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      const double = glob[i + 1] === '*';
      if (
        double &&
        (i === 0 || glob[i - 1] === '/') &&
        (glob[i + 2] === '/' || i + 2 >= glob.length)
      ) {
        // `**/` matches zero or more whole folders; a trailing `**` matches everything below.
        out += glob[i + 2] === '/' ? '(?:[^/]*/)*' : '.*';
        i += glob[i + 2] === '/' ? 2 : 1;
      } else {
        out += '[^/]*';
        if (double) i++;
      }
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new ConfigError(`glob "${glob}": "[" at column ${i + 1} is never closed.`);
      let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body}]`;
      i = end;
    } else if (c === '{') {
      braces++;
      out += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (c === ',' && braces > 0) out += '|';
    else out += c.replace(/[.+^$()|\\{}]/g, '\\$&');
  }
  if (braces > 0) throw new ConfigError(`glob "${glob}": "{" is never closed.`);
  return out;
}
