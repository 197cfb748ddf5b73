// Subset matching of records against the expected.json cases (see cases/README.md for the
// `_` keys), and a duplicate-key check on serialized JSON.

import assert from 'node:assert/strict';
import type { LogRecord } from '../../src/record/record.js';

type Json = unknown;

function get(obj: Json, path: string): Json {
  let cur = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, Json>)[part];
  }
  return cur;
}

function assertSubset(actual: Json, expected: Json, where: string): void {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    assert.ok(actual !== null && typeof actual === 'object', `${where}: expected an object`);
    for (const [k, v] of Object.entries(expected)) {
      assertSubset((actual as Record<string, Json>)[k], v, `${where}.${k}`);
    }
    return;
  }
  assert.deepEqual(actual, expected, where);
}

/** Checks one record against one expected entry, honouring the `_` instruction keys. */
export function assertRecordMatches(rec: LogRecord, expected: Record<string, Json>, where: string) {
  for (const [key, value] of Object.entries(expected)) {
    if (!key.startsWith('_')) {
      assertSubset((rec as unknown as Record<string, Json>)[key], value, `${where} ${key}`);
      continue;
    }
    switch (key) {
      case '_absent':
        for (const path of value as string[]) {
          assert.equal(get(rec, path), undefined, `${where}: ${path} must be absent`);
        }
        break;
      case '_timestamp_one_of':
        assert.ok((value as string[]).includes(rec.timestamp), `${where}: ${rec.timestamp}`);
        break;
      case '_message_startswith':
        assert.ok(rec.message.startsWith(value as string), `${where}: message ${rec.message}`);
        break;
      case '_message_contains':
        assert.ok(rec.message.includes(value as string), `${where}: message ${rec.message}`);
        break;
      case '_message_not_contains':
        assert.ok(!rec.message.includes(value as string), `${where}: message ${rec.message}`);
        break;
      default:
        // _received_at, _unique_keys, _timestamp_full_precision, _request_line_empty_or_dash:
        // handled by the caller or nothing to assert on a millisecond record.
        break;
    }
  }
}

/** Throws when any object in the JSON text repeats a key. */
export function assertUniqueKeys(text: string): void {
  const stack: Array<Set<string> | null> = [];
  let i = 0;
  let expectKey = false;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        assert.ok(!top.has(key), `duplicate key ${key} in ${text}`);
        top.add(key);
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
    i++;
  }
}
