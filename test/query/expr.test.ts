// The --where language: grammar, precedence, value semantics, errors with caret positions, and
// the literals the engine may search for before parsing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpressionError } from '../../src/errors.js';
import type { LogRecord } from '../../src/record/record.js';
import { compileWhere, parseExpression } from '../../src/query/expr/index.js';
import { tokenize } from '../../src/query/expr/tokens.js';

const rec: LogRecord = {
  timestamp: '2026-03-01T08:15:02.120Z',
  level: 'warn',
  severity: 13,
  message: 'GET /api/users HTTP/1.1',
  host: 'web-1',
  service: 'api',
  format: 'apache_combined',
  http: { method: 'GET', path: '/api/users', status: 404, bytes: 512 },
  fields: { user_id: 42, code: '7', big: 12345678901234567890n, 'log.origin': 'x', flag: true },
};

function where(expr: string, r: LogRecord = rec): boolean {
  return compileWhere(expr).predicate(r);
}

function errorAt(expr: string): { message: string; position: number; pointer: string } {
  try {
    compileWhere(expr);
  } catch (err) {
    assert.ok(err instanceof ExpressionError, `expected ExpressionError, got ${err}`);
    return { message: err.message, position: err.position, pointer: err.pointer() };
  }
  assert.fail(`expected ${JSON.stringify(expr)} to be refused`);
}

test('query expr - comparison operators on numbers', () => {
  assert.equal(where('http.status = 404'), true);
  assert.equal(where('http.status == 404'), true);
  assert.equal(where('http.status != 404'), false);
  assert.equal(where('http.status >= 400'), true);
  assert.equal(where('http.status > 404'), false);
  assert.equal(where('http.status < 500'), true);
  assert.equal(where('http.status <= 403'), false);
  assert.equal(where('http.bytes > 511.5'), true);
});

test('query expr - strings, bare words and numeric strings', () => {
  assert.equal(where('service = api'), true);
  assert.equal(where('service = "api"'), true);
  assert.equal(where("host = 'web-1'"), true);
  assert.equal(where('http.path = "/api/users"'), true);
  assert.equal(where('service = "API"'), false);
  assert.equal(where('code = 7'), true, 'a numeric string equals the number');
  assert.equal(where('code > 6'), true);
  assert.equal(where('user_id = "42"'), true, 'a number equals its text');
  assert.equal(where('flag = true'), true);
  assert.equal(where('service < b'), true, 'strings order as text');
});

test('query expr - bare keys are looked up under fields; dotted keys are found whole', () => {
  assert.equal(where('user_id = 42'), true);
  assert.equal(where('fields.user_id = 42'), true);
  assert.equal(where('fields.log.origin = x'), true);
  assert.equal(where('log.origin = x'), true);
  assert.equal(where('constructor exists'), false, 'no prototype keys');
  assert.equal(where('http.constructor exists'), false);
});

test('query expr - integers beyond 2^53 compare exactly', () => {
  assert.equal(where('big = 12345678901234567890'), true);
  assert.equal(where('big = 12345678901234567891'), false);
  assert.equal(where('big > 1e18'), true);
});

test('query expr - regex match with ~ and !~, strings or /regex/flags', () => {
  assert.equal(where('message ~ "users"'), true);
  assert.equal(where('message ~ /^GET \\/api/'), true);
  assert.equal(where('message ~ /get/'), false);
  assert.equal(where('message ~ /get/i'), true);
  assert.equal(where('message !~ "POST"'), true);
  assert.equal(where('http.status ~ "^4"'), true, 'numbers match as text');
  assert.equal(where('missing ~ "x"'), false);
});

test('query expr - in lists, exists and not', () => {
  assert.equal(where('http.status in (200, 404)'), true);
  assert.equal(where('http.status in (200, 500)'), false);
  assert.equal(where('service in ("web", api)'), true);
  assert.equal(where('http.status not in (200, 500)'), true);
  assert.equal(where('user_id exists'), true);
  assert.equal(where('nope exists'), false);
  assert.equal(where('not nope exists'), true);
  assert.equal(where('nope != 1'), true, '!= is "not =": true when the field is missing');
  assert.equal(where('nope < 1'), false, 'ordering a missing field is false');
});

test('query expr - level compares by severity order', () => {
  assert.equal(where('level >= warn'), true);
  assert.equal(where('level > warn'), false);
  assert.equal(where('level < error'), true);
  assert.equal(where('level = WARN'), true);
  assert.equal(where('level in (error, warn)'), true);
});

test('query expr - times compare as instants', () => {
  assert.equal(where('timestamp >= 2026-03-01T08:00:00Z'), true);
  assert.equal(where('timestamp < 2026-03-01'), false);
  assert.equal(where('timestamp > 2026-03-01T09:15:00+01:00'), true, 'offsets are honoured');
  assert.equal(where('timestamp < 2026-03-01T09:15:03+01:00'), true);
  assert.equal(where('timestamp >= "2026-03-01T08:15:02.120Z"'), true);
  assert.equal(where('timestamp > "2026-03-01T08:15:02.120Z"'), false);
});

test('query expr - precedence: not binds tighter than and, and tighter than or', () => {
  // false or (true and true) = true; (false or true) and true would also be true, so use a
  // case that separates the two readings.
  assert.equal(where('service = x or service = api and http.status = 404'), true);
  assert.equal(where('service = api or service = x and http.status = 1'), true);
  assert.equal(where('(service = api or service = x) and http.status = 1'), false);
  assert.equal(where('not service = x and http.status = 404'), true);
  assert.equal(where('not (service = api and http.status = 404)'), false);
  assert.equal(where('service = api && http.status = 404 || false_field exists'), true);
  assert.equal(where('!(service = api)'), false);
  const ast = parseExpression('a = 1 or b = 2 and not c = 3');
  assert.equal(ast.kind, 'or');
  assert.equal(ast.kind === 'or' && ast.right.kind, 'and');
});

test('query expr - keywords are case-insensitive and whitespace is free', () => {
  assert.equal(where('service=api AND http.status>=400'), true);
  assert.equal(where('  NOT   nope   EXISTS  '), true);
});

test('query expr - errors point a caret at the problem', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['', 0, /empty/],
    ['http.status >=', 14, /expected a value/],
    ['http.status 500', 12, /expected an operator/],
    ['(a = 1', 6, /expected "\)"/],
    ['a = 1)', 5, /"\)" without its "\("/],
    ['a = 1 b = 2', 6, /expected "and", "or"/],
    ['a = "open', 4, /not closed/],
    ['a = 1 # x', 6, /unexpected character/],
    ['level > loud', 8, /a level is one of/],
    ['a in 1, 2', 5, /expected "\(" after "in"/],
    ['a = /x/', 4, /only goes with ~/],
    ['message ~ "(a+)+$"', 10, /exponential/],
    ['message ~ "a("', 10, /not a valid regex/],
    ['timestamp > nope', 12, /compares with a time/],
    ['= 3', 0, /expected a field name/],
  ];
  for (const [expr, position, pattern] of cases) {
    const e = errorAt(expr);
    assert.match(e.message, pattern, expr);
    assert.equal(e.position, position, `position for ${JSON.stringify(expr)}`);
    const [line, caret] = e.pointer.split('\n');
    assert.equal(line, expr);
    assert.equal(caret, ' '.repeat(position) + '^');
  }
});

test('query expr - tokenizer keeps columns and decodes strings', () => {
  const tokens = tokenize('a.b >= "x\\"y" and c in (1, 2026-01-01)');
  assert.deepEqual(
    tokens.map((t) => [t.kind, t.text, t.pos]),
    [
      ['word', 'a.b', 0],
      ['op', '>=', 4],
      ['string', 'x"y', 7],
      ['and', 'and', 14],
      ['word', 'c', 18],
      ['in', 'in', 20],
      ['lparen', '(', 23],
      ['number', '1', 24],
      ['comma', ',', 25],
      ['time', '2026-01-01', 27],
      ['rparen', ')', 37],
      ['end', '', 38],
    ],
  );
});

test('query expr - required literals come only from verbatim fields under and', () => {
  assert.equal(compileWhere('message ~ "timeout after"').literal, 'timeout after');
  assert.equal(
    compileWhere('http.path = "/api/users" and http.status >= 500').literal,
    '/api/users',
  );
  assert.equal(compileWhere('service = api and message ~ /disk full/').literal, 'disk full');
  assert.equal(compileWhere('service = a or service = b').literal, undefined);
  assert.equal(compileWhere('not message ~ "x"').literal, undefined);
  assert.equal(compileWhere('level = error').literal, undefined, 'level is derived');
  assert.equal(compileWhere('http.status = 500').literal, undefined, 'numbers are not searched');
  assert.equal(compileWhere('message ~ /x/i').literal, undefined, 'case-insensitive');
  assert.equal(compileWhere('message ~ "a|b"').literal, undefined, 'alternation');
});

test('query expr - deep nesting and huge expressions are refused with a caret, not a crash', () => {
  const deep = errorAt('('.repeat(5000) + 'level = "error"' + ')'.repeat(5000));
  assert.match(deep.message, /nested more than 64 levels/);
  assert.equal(deep.position, 64);
  assert.match(errorAt('not '.repeat(65) + 'level = "error"').message, /nested more than/);
  const long = errorAt(Array(1001).fill('level = "error"').join(' and '));
  assert.match(long.message, /more than 1000 conditions/);
  // At the limits they still parse and evaluate.
  assert.equal(where('('.repeat(64) + 'http.status = 404' + ')'.repeat(64)), true);
  assert.equal(where(Array(1000).fill('http.status = 404').join(' and ')), true);
  assert.equal(where('not '.repeat(64) + 'http.status = 404'), true);
  assert.equal(where('not '.repeat(63) + 'http.status = 404'), false);
});
