// User regexes: the ReDoS guard and the literal every match must contain.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../src/errors.js';
import {
  compileUserRegex,
  hasNestedQuantifier,
  isPureLiteral,
  requiredLiteral,
} from '../../src/query/regex.js';

test('query regex - nested unbounded quantifiers are refused', () => {
  for (const bad of ['(a+)+$', '(a*)*', '(x+y)*z', '((ab)+c)+', '(\\w+\\s?)*$']) {
    assert.equal(hasNestedQuantifier(bad), true, bad);
    assert.throws(() => compileUserRegex(bad, '', '--grep'), ConfigError);
  }
  for (const ok of ['(ab)+', 'a+b+', '(a|b)c*', '[(+)]+', '\\(a+\\)+', '(a{2})+', 'x(?:y)?z+']) {
    assert.equal(hasNestedQuantifier(ok), false, ok);
  }
});

test('query regex - the guard keeps the classic ReDoS input fast', () => {
  // (a+)+$ against 50k "a"s and "!" would run for ages; it is refused before it runs.
  const t0 = Date.now();
  assert.throws(() => compileUserRegex('(a+)+$', '', '--grep'), /exponential/);
  assert.ok(Date.now() - t0 < 1000);
});

test('query regex - required literal of common patterns', () => {
  assert.equal(requiredLiteral('timeout', ''), 'timeout');
  assert.equal(requiredLiteral('connection (refused|reset)', ''), 'connection ');
  assert.equal(requiredLiteral('^GET /api/v\\d+/users', ''), 'GET /api/v');
  assert.equal(requiredLiteral('a{2,3}xyz', ''), 'xyz');
  assert.equal(requiredLiteral('colou?r', ''), 'colo');
  assert.equal(requiredLiteral('ab+c', ''), 'ab');
  assert.equal(requiredLiteral('\\.php$', ''), '.php');
  assert.equal(requiredLiteral('foo|bar', ''), undefined);
  assert.equal(requiredLiteral('[abc]\\d*', ''), undefined);
  assert.equal(requiredLiteral('Foo', 'i'), undefined);
  assert.equal(isPureLiteral('disk full', ''), true);
  assert.equal(isPureLiteral('a\\.b', ''), true);
  assert.equal(isPureLiteral('a.b', ''), false);
});

test('query regex - every string a regex matches contains its required literal', () => {
  const atoms = ['a', 'b', 'x', '\\.', '.', '[ab]', '(a|b)', 'a?', 'b*', 'x+', '\\d', ' '];
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...atoms), { minLength: 1, maxLength: 8 }),
      fc.string(),
      (parts, extra) => {
        const source = parts.join('');
        const lit = requiredLiteral(source, '');
        const re = new RegExp(source);
        const samples = ['abx.ab x', 'aab.x1', extra, 'x', 'ab', '1 . a b x'];
        for (const s of samples) if (re.test(s) && lit !== undefined) assert.ok(s.includes(lit));
      },
    ),
    { numRuns: 300 },
  );
});
