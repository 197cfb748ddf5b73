// User regexes (--grep and ~ in --where): built once, refused when they can take exponential
// time, and mined for a literal that every match must contain, so the engine can search raw
// bytes for that literal before it parses anything.

import { ConfigError } from '../errors.js';

/**
 * True when the pattern has a quantified group that itself contains an unbounded quantifier,
 * such as (a+)+ or (x*y)*: the shape behind catastrophic backtracking (ReDoS).
 */
export function hasNestedQuantifier(source: string): boolean {
  const stack: boolean[] = [];
  let inner = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      i = skipClass(source, i);
      continue;
    }
    if (c === '(') {
      stack.push(inner);
      inner = false;
    } else if (c === ')') {
      const groupHasQuantifier: boolean = inner;
      inner = (stack.pop() ?? false) || groupHasQuantifier;
      if (groupHasQuantifier && isUnboundedQuantifier(source, i + 1)) return true;
    } else if (isUnboundedQuantifier(source, i)) {
      inner = true;
    }
  }
  return false;
}

function isUnboundedQuantifier(source: string, i: number): boolean {
  const c = source[i];
  return c === '+' || c === '*' || (c === '{' && /^\{\d*,\}/.test(source.slice(i)));
}

function skipClass(source: string, start: number): number {
  for (let i = start + 1; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === ']' && i > start + 1) return i;
  }
  return source.length;
}

/** Compiles a user regex, naming `what` (e.g. "--grep") in the error when it cannot be used. */
export function compileUserRegex(source: string, flags: string, what: string): RegExp {
  if (hasNestedQuantifier(source)) {
    throw new ConfigError(
      `${what}: regex ${JSON.stringify(source)} nests unbounded quantifiers (like (a+)+), ` +
        'which can take exponential time; rewrite it without the nesting.',
    );
  }
  try {
    return new RegExp(source, flags);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`${what}: ${JSON.stringify(source)} is not a valid regex (${reason}).`);
  }
}

const META = new Set(['.', '^', '$', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '\\']);
const CLASS_ESCAPES = new Set([
  'd',
  'D',
  'w',
  'W',
  's',
  'S',
  'b',
  'B',
  'p',
  'P',
  'k',
  'u',
  'x',
  'c',
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
  'n',
  'r',
  't',
  'f',
  'v',
]);

/**
 * The longest literal that every match of the regex contains, or undefined when there is none
 * that is safe to rely on (alternation at the top, a case-insensitive flag, no literal run).
 */
export function requiredLiteral(source: string, flags: string): string | undefined {
  if (flags.includes('i')) return undefined;
  let depth = 0;
  let best = '';
  let run = '';
  const endRun = () => {
    if (run.length > best.length) best = run;
    run = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '[') {
      endRun();
      i = skipClass(source, i);
      continue;
    }
    if (c === '{' && depth === 0) {
      const q = /^\{\d*(?:,\d*)?\}/.exec(source.slice(i));
      if (q) {
        endRun();
        i += q[0].length - 1;
        continue;
      }
    }
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === '|' && depth === 0) return undefined;
    if (depth > 0 || c === '(' || c === ')') {
      endRun();
      continue;
    }
    let ch: string | undefined;
    if (c === '\\') {
      const e = source[i + 1];
      i++;
      if (e !== undefined && !CLASS_ESCAPES.has(e) && !/[A-Za-z0-9]/.test(e)) ch = e;
    } else if (!META.has(c)) ch = c;
    if (ch === undefined || ch.charCodeAt(0) < 0x20 || ch === '\ufffd') {
      endRun();
      continue;
    }
    const q = source[i + 1];
    if (q === '?' || q === '*' || q === '{') {
      endRun();
      continue;
    }
    run += ch;
    if (q === '+') endRun();
  }
  endRun();
  return best.length > 0 ? best : undefined;
}

/** True when the regex is nothing but a literal, so a plain substring test decides it. */
export function isPureLiteral(source: string, flags: string): boolean {
  return !flags.includes('i') && requiredLiteral(source, flags) === unescapeLiteral(source);
}

function unescapeLiteral(source: string): string | undefined {
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const e = source[i + 1];
      if (e === undefined || /[A-Za-z0-9]/.test(e)) return undefined;
      out += e;
      i++;
    } else if (META.has(c)) return undefined;
    else out += c;
  }
  return out;
}
