import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineSplitter, decodeCut, lineText, type RawLine } from '../../src/sources/file/lines.js';

/** The input in the chunks the cuts make, each with its offset. */
function* chunksOf(input: Buffer, cuts: number[]): Generator<[Buffer, number]> {
  let from = 0;
  for (const cut of [
    ...cuts.filter((c) => c > 0 && c < input.length).sort((a, b) => a - b),
    input.length,
  ]) {
    if (cut <= from) continue;
    yield [input.subarray(from, cut), from];
    from = cut;
  }
}

function splitAll(input: Buffer, cuts: number[], max = 1 << 20): RawLine[] {
  const s = new LineSplitter(max);
  const out: RawLine[] = [];
  for (const [chunk, from] of chunksOf(input, cuts)) s.push(chunk, from, out);
  return out;
}

test('lines - offsets and texts do not depend on where the chunks are cut', () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }).filter((x) => !x.includes('\n'))),
      fc.array(fc.nat(400), { maxLength: 6 }),
      (lines, cuts) => {
        const input = Buffer.from(lines.map((l) => l + '\n').join(''));
        const got = splitAll(input, cuts);
        assert.deepEqual(
          got.map((l) => l.text),
          lines.map((l) => l.replace(/\r$/, '')),
        );
        let offset = 0;
        for (const l of got) {
          assert.equal(l.start, offset);
          offset = l.end;
        }
        assert.equal(offset, input.length);
      },
    ),
  );
});

test('lines - one byte at a time gives the same lines; a partial last line is held', () => {
  const input = Buffer.from('a\r\nbé\n\nlast');
  const s = new LineSplitter(100);
  const out: RawLine[] = [];
  for (let i = 0; i < input.length; i++) s.push(input.subarray(i, i + 1), i, out);
  assert.deepEqual(
    out.map((l) => l.text),
    ['a', 'bé', ''],
  );
  assert.equal(s.pendingBytes, 4);
  s.flushPartial(out);
  assert.deepEqual(out[3], { text: 'last', start: 8, end: 12, partial: true });
});

test('lines - an overlong line is cut at a character boundary and its tail skipped', () => {
  const long = 'é'.repeat(10); // 20 bytes
  const input = Buffer.from(`ok\n${long}\nafter\n`);
  for (const cuts of [[], [5], [4, 7, 9, 11, 13], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]]) {
    const got = splitAll(input, cuts, 9);
    assert.deepEqual(
      got.map((l) => l.text),
      ['ok', 'éééé', 'after'],
      `cuts ${cuts}`,
    );
    assert.equal(got[1].truncatedFromBytes, 20);
    assert.equal(got[2].start, 24);
  }
});

test('lines - a UTF-8 byte order mark at the start of the file is dropped', () => {
  const got = splitAll(Buffer.from('\ufeffhello\nworld\n'), []);
  assert.deepEqual(
    got.map((l) => l.text),
    ['hello', 'world'],
  );
});

test('lines - decodeCut never ends in a broken character', () => {
  const b = Buffer.from('a€'); // 1 + 3 bytes
  assert.equal(decodeCut(b.subarray(0, 2)), 'a');
  assert.equal(decodeCut(b.subarray(0, 3)), 'a');
  assert.equal(decodeCut(b), 'a€');
});

test('lines - deferred texts decode to what the splitter would have decoded', () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }).filter((x) => !x.includes('\n'))),
      fc.array(fc.nat(400), { maxLength: 6 }),
      fc.boolean(),
      (lines, cuts, crlf) => {
        const input = Buffer.from(lines.map((l) => l + (crlf ? '\r\n' : '\n')).join(''));
        const plain = splitAll(input, cuts);
        const deferring = new LineSplitter(1 << 20);
        deferring.deferText = true;
        const texts: string[] = [];
        for (const [chunk, from] of chunksOf(input, cuts)) {
          const out: RawLine[] = [];
          deferring.push(chunk, from, out);
          // Decoded while the chunk is current, as the file source does.
          for (const l of out) texts.push(l.deferred ? lineText(chunk, l) : l.text);
        }
        assert.deepEqual(
          texts,
          plain.map((l) => l.text),
        );
      },
    ),
  );
});
