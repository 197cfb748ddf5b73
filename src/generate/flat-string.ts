// V8 keeps a string built by concatenation (13 characters or more) as a tree of its parts
// until something flattens it, and reading it char by char then goes through the tree on
// every call. Strings the access-log byte path copies on every line (paths, addresses,
// users, referrers) are flattened once where they are made.

/** Shortest concatenation V8 builds as a tree rather than copying (ConsString::kMinLength). */
const TREE_MIN_LENGTH = 13;

/** The same text as a flat string; `s` itself when it is short or not Latin-1. */
export function flatString(s: string): string {
  if (s.length < TREE_MIN_LENGTH) return s;
  const copy = Buffer.from(s, 'latin1').toString('latin1');
  return copy === s ? copy : s;
}
