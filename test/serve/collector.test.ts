import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixture } from '../helpers.js';
import { connectTo, endAndWait, startCollector, until, writePieces } from './helpers.js';

const CASE = '22-octet-counted-syslog-tcp';

test('serve - case 22: octet-counted syslog written in awkward pieces', async () => {
  const input = readFileSync(fixture('cases', CASE, 'input.bin'));
  const expected = JSON.parse(readFileSync(fixture('cases', CASE, 'expected.json'), 'utf8'));
  const [len1, len2] = expected.frame_lengths_bytes as number[];
  const frame2Start = String(len1).length + 1 + len1;
  const frame2Middle = frame2Start + Math.floor((String(len2).length + 1 + len2) / 2);
  const uUmlaut = input.indexOf(Buffer.from('ü', 'utf8'), frame2Start + len2);
  assert.ok(uUmlaut > 0, 'frame 3 holds a ü');
  const cuts = [2, frame2Middle, uUmlaut + 1];
  const pieces = [
    input.subarray(0, cuts[0]),
    input.subarray(cuts[0], cuts[1]),
    input.subarray(cuts[1], cuts[2]),
    input.subarray(cuts[2]),
  ];
  const { collector, sink, port } = await startCollector();
  try {
    const socket = await connectTo(port);
    await writePieces(socket, pieces);
    await endAndWait(socket);
    await until(() => sink.records.length >= 3, 5000, '3 records');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sink.records.length, 3);
    expected.records.forEach((want: Record<string, unknown>, i: number) => {
      const got = sink.records[i] as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) {
        if (k === '_absent') for (const a of v as string[]) assert.equal(got[a], undefined, a);
        else assert.deepEqual(got[k], v, `record ${i} field ${k}`);
      }
      assert.match(String(got.source), /^tcp:\/\/127\.0\.0\.1:\d+$/);
    });
  } finally {
    await collector.close({ timeoutMs: 2000 });
  }
});
