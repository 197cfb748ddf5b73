// The rare-byte literal search must find exactly what Buffer.indexOf finds, whatever byte it
// picks as the rare one and wherever the candidates fall.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LiteralSearch } from '../../src/query/literal.js';

function all(find: (from: number) => number): number[] {
  const out: number[] = [];
  for (let p = find(0); p >= 0; p = find(p + 1)) out.push(p);
  return out;
}

test('literal - finds every occurrence that indexOf finds, from any sample', () => {
  const alphabet = fc.constantFrom(...'/abkmu\n'.split(''));
  fc.assert(
    fc.property(
      fc.array(alphabet, { minLength: 1, maxLength: 6 }),
      fc.array(alphabet, { minLength: 0, maxLength: 400 }),
      // A sample of mostly other bytes, so that the rare-byte path is the one taken.
      fc.array(alphabet, { minLength: 0, maxLength: 60 }),
      (lit, text, few) => {
        const literal = Buffer.from(lit.join(''));
        const buf = Buffer.from(text.join(''));
        const sample = Buffer.from('z'.repeat(8192) + few.join(''));
        const search = new LiteralSearch(literal, sample);
        assert.deepEqual(
          all((from) => search.find(buf, from)),
          all((from) => buf.indexOf(literal, from)),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('literal - searches from the rare byte of a path in an access log', () => {
  const line =
    '1.2.3.4 - - [01/Mar/2026:00:00:00 +0000] "GET /index.html HTTP/1.1" 200 5 "-" "curl/8"\n';
  const sample = Buffer.from(line.repeat(100));
  const hit = '1.2.3.4 - - [01/Mar/2026:00:00:01 +0000] "GET /checkout/confirm HTTP/1.1" 200 5\n';
  const buf = Buffer.from(line.repeat(50) + hit + line.repeat(50) + hit);
  const search = new LiteralSearch(Buffer.from('/checkout/confirm'), sample);
  const first = buf.indexOf('/checkout/confirm');
  assert.ok(first > 0);
  assert.equal(search.find(buf, 0), first);
  assert.equal(search.find(buf, first + 1), buf.indexOf('/checkout/confirm', first + 1));
  assert.equal(search.find(buf, buf.length - 3), -1);
});
