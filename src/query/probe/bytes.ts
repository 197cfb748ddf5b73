// Byte values and a byte comparison shared by the readers that look at raw lines.

export const TAB = 9;
export const NL = 10;
export const CR = 13;
export const SPACE = 32;
export const QUOTE = 34;
export const DASH = 45;
export const SLASH = 47;
export const COLON = 58;
export const QUESTION = 63;
export const BRACKET_OPEN = 91;
export const BACKSLASH = 92;
export const BRACKET_CLOSE = 93;
export const BRACE_OPEN = 123;
export const BRACE_CLOSE = 125;

/** buf[s, s + len) equals word[0, len). */
export function sameBytes(buf: Buffer, s: number, word: Buffer, len = word.length): boolean {
  for (let k = 0; k < len; k++) if (buf[s + k] !== word[k]) return false;
  return true;
}
