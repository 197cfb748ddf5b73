// The newline framer, the multiline joiner and the input source.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NewlineFramer } from '../../src/framing/newline.js';
import { createMultiline } from '../../src/parse/multiline.js';
import { openInput } from '../../src/sources/input.js';
import { IoError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

function frame(chunks: Buffer[], maxLineBytes?: number): Array<[string, boolean]> {
  const f = new NewlineFramer({ maxLineBytes });
  const out: Array<[string, boolean]> = [];
  const sink = (l: string, t: boolean) => void out.push([l, t]);
  for (const c of chunks) f.push(c, sink);
  f.end(sink);
  return out;
}

test('framing - lines split across chunks, CRLF, BOM and a last line without newline', () => {
  const bytes = Buffer.from('\ufeffone\r\ntwo\nthr', 'utf8');
  const whole = Buffer.concat([bytes, Buffer.from('ee\nfour')]);
  for (let cut = 0; cut <= whole.length; cut++) {
    const got = frame([whole.subarray(0, cut), whole.subarray(cut)]).map((x) => x[0]);
    assert.deepEqual(got, ['one', 'two', 'three', 'four'], `cut at ${cut}`);
  }
});

test('framing - invalid UTF-8 becomes U+FFFD and the line goes on', () => {
  const got = frame([Buffer.from([0x61, 0xff, 0x62, 0x0a, 0x63, 0x0a])]);
  assert.deepEqual(got, [
    ['a\ufffdb', false],
    ['c', false],
  ]);
});

test('framing - an overlong line is cut at maxLineBytes and its rest dropped', () => {
  const long = 'x'.repeat(100);
  for (const chunkSize of [7, 64, 1000]) {
    const input = Buffer.from(`before\n${long}\nafter\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < input.length; i += chunkSize) chunks.push(input.subarray(i, i + chunkSize));
    const got = frame(chunks, 40);
    assert.deepEqual(got, [
      ['before', false],
      ['x'.repeat(40), true],
      ['after', false],
    ]);
  }
});

test('framing - a cut never splits a UTF-8 character', () => {
  const got = frame([Buffer.from('é'.repeat(30) + '\n')], 11);
  assert.deepEqual(got, [['é'.repeat(5), true]]);
});

test('multiline - java preset joins at, Caused by and ... more', () => {
  const m = createMultiline({ preset: 'java' });
  const lines = [
    '2024-01-01 ERROR boom',
    'java.lang.IllegalStateException: bad',
    '\tat a.B.c(B.java:1)',
    'Caused by: java.io.IOException: x',
    '\t... 3 more',
    '2024-01-01 INFO next',
  ];
  const events = lines.flatMap((l) => m.push(l)).concat(m.flush());
  assert.equal(events.length, 3);
  assert.equal(events[1], lines.slice(1, 5).join('\n'));
  assert.equal(events[2], '2024-01-01 INFO next');
});

test('multiline - python preset keeps the traceback and its exception line', () => {
  const m = createMultiline({ preset: 'python' });
  const lines = [
    'ERROR failed',
    'Traceback (most recent call last):',
    '  File "x.py", line 1, in <module>',
    '    f()',
    'ValueError: nope',
    'INFO after',
  ];
  const events = lines.flatMap((l) => m.push(l)).concat(m.flush());
  assert.deepEqual(events, [lines.slice(0, 5).join('\n'), 'INFO after']);
});

test('multiline - go preset joins a goroutine dump', () => {
  const m = createMultiline({ preset: 'go' });
  const lines = [
    'panic: runtime error',
    '',
    'goroutine 1 [running]:',
    'main.main()',
    '\t/tmp/x.go:5 +0x1d',
    'exit status 2',
    'server started',
  ];
  const events = lines.flatMap((l) => m.push(l)).concat(m.flush());
  assert.deepEqual(events, [lines.slice(0, 6).join('\n'), 'server started']);
});

test('multiline - start pattern and maxLines', () => {
  const m = createMultiline({ startPattern: /^\d/, maxLines: 3 });
  const lines = ['1 a', ' b', ' c', ' d', '2 e'];
  const events = lines.flatMap((l) => m.push(l)).concat(m.flush());
  assert.deepEqual(events, ['1 a\n b\n c', ' d', '2 e']);
});

test('input - gzip is detected by content, missing files name the path', async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'plain-name.log');
    writeFileSync(path, gzipSync('hello\nworld\n'));
    const chunks: Buffer[] = [];
    for await (const c of openInput(path)) chunks.push(c);
    assert.equal(Buffer.concat(chunks).toString(), 'hello\nworld\n');
    const missing = join(dir.path, 'nope.log');
    await assert.rejects(
      async () => {
        for await (const _ of openInput(missing)) void _;
      },
      (err: unknown) => err instanceof IoError && err.message === `${missing}: no such file`,
    );
  } finally {
    dir.cleanup();
  }
});

test('stream - bytes in, records out, multiline joined, partial last line kept', async () => {
  const { createParseStream } = await import('../../src/parse/stream.js');
  const { Readable } = await import('node:stream');
  const input = Readable.from([
    Buffer.from('{"msg":"a","level":"warn"}\n2024-01-01T00:00:00Z ERROR x\n\tat A.b(A.java:1)\n'),
    Buffer.from('{"msg":"b"}'),
  ]);
  const recs: Array<{ message: string; level: string }> = [];
  for await (const r of input.pipe(createParseStream({ multiline: { preset: 'java' } }))) {
    recs.push(r as { message: string; level: string });
  }
  assert.deepEqual(
    recs.map((r) => [r.message, r.level]),
    [
      ['a', 'warn'],
      ['2024-01-01T00:00:00Z ERROR x\n\tat A.b(A.java:1)', 'error'],
      ['b', 'info'],
    ],
  );
});
