// The corpus: files listed in formats.tsv give at least the listed share of records in their
// format; every file parses without throwing; and the lines that fall back to `text` are the
// ones listed below, each checked by a person to be in no supported format.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fixture, sharedCorpus } from '../helpers.js';
import { createLineParser } from '../../src/parse/index.js';
import { NewlineFramer } from '../../src/framing/newline.js';
import type { LogRecord } from '../../src/record/record.js';

const NOW = Date.parse('2024-06-01T00:00:00Z');

function parseFile(path: string): LogRecord[] {
  const parser = createLineParser({ now: NOW });
  const framer = new NewlineFramer();
  const recs: LogRecord[] = [];
  framer.push(readFileSync(path), (line) => parser.push(line, recs));
  framer.end((line) => parser.push(line, recs));
  parser.flush(recs);
  return recs;
}

function rows(tsv: string): Array<[string, string, number]> {
  return readFileSync(tsv, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const [file, format, share] = l.split('\t');
      return [file, format, Number(share)];
    });
}

function checkShares(root: string): void {
  for (const [file, format, share] of rows(join(root, 'formats.tsv'))) {
    const path = join(root, file);
    if (!existsSync(path)) continue;
    test(`corpus - ${file} is at least ${share} ${format}`, () => {
      const recs = parseFile(path);
      assert.ok(recs.length > 0);
      const got = recs.filter((r) => r.format === format).length / recs.length;
      assert.ok(got >= share, `${file}: ${got.toFixed(4)} of records are ${format}`);
    });
  }
}

/**
 * Lines (1-based, as records in order) that fall back to `text`, per file, with why a person
 * agrees they are in no supported format. Files not named here must have none.
 */
const TEXT_FALLBACKS: Record<string, { lines: number[] | number; why: string }> = {
  'beats-filebeat/docker_corrupted.log': {
    lines: [7],
    why: 'a Docker JSON line with its opening brace cut off: not valid JSON',
  },
  'beats-filebeat/nginx-error.log': {
    lines: [4, 5],
    why: 'continuation lines of a multi-line PHP message (need --multiline)',
  },
  'elastic-examples/kafka0-server.log.2016-12-19-20': {
    lines: 721,
    why: 'log4j layout `[date] LEVEL text` and Java stack traces: not a supported format',
  },
  'lnav/logfile_mixed_json2.json': {
    lines: [5, 6, 7, 8],
    why: 'a Go panic line and its indented frames between JSON lines',
  },
  'lnav/logfile_vdsm.0': {
    lines: 16,
    why: 'vdsm `Thread::LEVEL::time::module` layout and a Python traceback',
  },
  'lnav/logfile_zap_console.0': {
    lines: 9,
    why: 'zap console encoder (tab-separated) and Go stack frames',
  },
  'loghub/OpenStack_2k_head.log': {
    lines: 1339,
    why: 'OpenStack oslo layout prefixed with a file name: not a supported format',
  },
  'rsyslog/fuzz-corpus-syslog-messages.log': {
    lines: [4],
    why: '`<0>x`: a PRI with no timestamp or header at all',
  },
  'rsyslog/parsertest-parse1-messages.log': {
    lines: [19, 20],
    why: 'RFC 5424 with malformed structured data (`eventSource= "Application"`)',
  },
};

function corpusFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!/\.(md|tsv)$|^LICENSE$|^\./.test(name)) out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}

function checkFallbacks(root: string): void {
  for (const file of corpusFiles(root)) {
    test(`corpus - ${file} parses, and its text fallbacks are the known ones`, () => {
      const recs = parseFile(join(root, file));
      const text: number[] = [];
      recs.forEach((r, i) => {
        assert.ok(r.timestamp && r.level && r.severity, `${file} #${i + 1}: incomplete record`);
        if (r.format === 'text') text.push(i + 1);
      });
      const known = TEXT_FALLBACKS[file];
      if (!known) assert.deepEqual(text, [], `${file}: lines fell back to text`);
      else if (typeof known.lines === 'number') {
        assert.equal(text.length, known.lines, `${file}: ${known.why}`);
      } else assert.deepEqual(text, known.lines, `${file}: ${known.why}`);
    });
  }
}

checkShares(fixture('corpus'));
checkFallbacks(fixture('corpus'));

const shared = sharedCorpus();
if (shared) {
  // Only the rows and files that the repository's copy lacks (the loghub files).
  const local = new Set(corpusFiles(fixture('corpus')));
  for (const [file, format, share] of rows(join(shared, 'formats.tsv'))) {
    if (local.has(file)) continue;
    test(`corpus - shared ${file} is at least ${share} ${format}`, () => {
      const recs = parseFile(join(shared, file));
      const got = recs.filter((r) => r.format === format).length / recs.length;
      assert.ok(got >= share, `${file}: ${got.toFixed(4)} of records are ${format}`);
    });
  }
  for (const file of corpusFiles(shared).filter((f) => !local.has(f))) {
    test(`corpus - shared ${file} parses, and its text fallbacks are the known ones`, () => {
      const recs = parseFile(join(shared, file));
      const text = recs.flatMap((r, i) => (r.format === 'text' ? [i + 1] : []));
      const known = TEXT_FALLBACKS[file];
      const want = known ? known.lines : [];
      if (typeof want === 'number') assert.equal(text.length, want, known?.why);
      else assert.deepEqual(text, want);
    });
  }
} else {
  test('corpus - shared loghub files', { skip: '../shared/corpus is not present' }, () => {});
}
