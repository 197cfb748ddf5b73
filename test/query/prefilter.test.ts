// The raw-line prefilters must never reject a line whose record matches. Checked against the
// parser itself over every corpus and case file: each line's parsed record is the truth, and
// the scanner with the prefilter must visit every line whose record passes the filter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, sharedCorpus } from '../helpers.js';
import { createLineParser } from '../../src/parse/line-parser.js';
import { LEVELS, LEVEL_RANK, type Level, type LogRecord } from '../../src/record/record.js';
import { buildRecordFilter, type FilterOptions } from '../../src/query/filter.js';
import { buildPrefilter, levelPrefilter } from '../../src/query/prefilter.js';
import { scanBlock } from '../../src/query/scan.js';

const CONTAINER = /^(?:\{"log":|\d{4}-\d\d-\d\dT\S+ (?:stdout|stderr) [PF] )/;

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (!/\.(md|tsv|json)$/.test(name) && !name.startsWith('LICENSE')) out.push(p);
  }
  return out;
}

interface Parsed {
  buf: Buffer;
  lines: string[];
  records: LogRecord[];
}

/** Every non-container corpus file, split into lines with one parsed record per line. */
function corpus(): Parsed[] {
  const dirs = [fixture('corpus'), fixture('cases')];
  const shared = sharedCorpus();
  if (shared) dirs.push(join(shared, 'loghub'));
  const out: Parsed[] = [];
  for (const file of dirs.flatMap(files)) {
    const buf = readFileSync(file);
    const lines = buf
      .toString('utf8')
      .split('\n')
      .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
      .filter((l) => l.length > 0);
    if (lines.slice(0, 8).some((l) => CONTAINER.test(l))) continue;
    const parser = createLineParser({ now: Date.parse('2026-03-01T00:00:00Z') });
    const records: LogRecord[] = [];
    for (const line of lines) {
      const got: LogRecord[] = [];
      parser.push(line, got);
      records.push(got[0]);
    }
    out.push({ buf, lines, records });
  }
  return out;
}

const CORPUS = corpus();

function visited(p: Parsed, options: FilterOptions): Set<string> {
  const pre = buildPrefilter(options, buildRecordFilter(options));
  const seen = new Set<string>();
  scanBlock(p.buf, p.buf.length, pre, (line) => {
    seen.add(line.endsWith('\r') ? line.slice(0, -1) : line);
    return true;
  });
  return seen;
}

test('query prefilter - the corpus is there to check against', () => {
  assert.ok(CORPUS.length >= 20, `only ${CORPUS.length} corpus files`);
  assert.ok(CORPUS.reduce((n, p) => n + p.lines.length, 0) > 2500);
});

test('query prefilter - the level prefilter never rejects a line at or above the level', () => {
  let rejected = 0;
  for (const level of LEVELS) {
    const pre = levelPrefilter(level);
    for (const p of CORPUS) {
      const seen = visited(p, { level });
      p.records.forEach((rec, i) => {
        const line = p.lines[i];
        const ok = LEVEL_RANK[rec.level] >= LEVEL_RANK[level];
        if (ok) assert.ok(seen.has(line), `--level ${level} skipped ${JSON.stringify(line)}`);
        const l1 = Buffer.from(line).toString('latin1');
        if (pre && !pre.check(l1)) {
          rejected++;
          assert.ok(!ok, `check rejected a ${rec.level} line at --level ${level}: ${line}`);
        }
      });
    }
  }
  assert.ok(rejected > 1000, `the prefilter should reject many lines, rejected ${rejected}`);
});

test('query prefilter - grep and where literals never skip a matching line', () => {
  const words = new Set<string>();
  for (const p of CORPUS) {
    for (const rec of p.records.slice(0, 40)) {
      for (const w of rec.message.split(/[\s"=,]+/)) if (w.length >= 3) words.add(w);
    }
  }
  const samples = [...words].filter((_, i) => i % 7 === 0).slice(0, 120);
  assert.ok(samples.length > 50);
  let skipped = 0;
  for (const word of samples) {
    const escaped = word.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const options: FilterOptions[] = [
      { grep: escaped },
      { grep: escaped.toUpperCase(), ignoreCase: true },
      { where: `message ~ ${JSON.stringify(escaped)}` },
    ];
    for (const opt of options) {
      const filter = buildRecordFilter(opt);
      for (const p of CORPUS) {
        const seen = visited(p, opt);
        p.records.forEach((rec, i) => {
          if (filter.predicate(rec)) assert.ok(seen.has(p.lines[i]), `${word} skipped`);
          else if (!seen.has(p.lines[i])) skipped++;
        });
      }
    }
  }
  assert.ok(skipped > 10000, `literals should let the scanner skip lines, skipped ${skipped}`);
});

test('query prefilter - -v on a literal decides unparsed lines only when sure', () => {
  const opt: FilterOptions = { grep: 'GET', invert: true };
  const pre = buildPrefilter(opt, buildRecordFilter(opt));
  assert.ok(pre.invertLiteral);
  const filter = buildRecordFilter(opt);
  for (const p of CORPUS) {
    const sure = new Map<string, boolean>();
    scanBlock(p.buf, p.buf.length, pre, (line, s) => {
      sure.set(line.replace(/\r$/, ''), s);
      return true;
    });
    p.records.forEach((rec, i) => {
      if (sure.get(p.lines[i])) assert.ok(filter.predicate(rec), p.lines[i]);
    });
  }
});

test('query prefilter - levels at info and below have no prefilter (no level means info)', () => {
  for (const level of ['trace', 'debug', 'info'] as Level[]) {
    assert.equal(levelPrefilter(level), undefined);
  }
});

test('query prefilter - the level words cover every word of the parser at each level', () => {
  // The parser's own table, read from its source, is the list the prefilter must cover.
  const source = readFileSync(fixture('..', '..', 'src', 'parse', 'level.ts'), 'utf8');
  const entries = [...source.matchAll(/^\s+(\w+): '(\w+)',$/gm)].map((m) => [m[1], m[2]]);
  assert.ok(entries.length > 20);
  for (const [word, level] of entries) {
    if (!(LEVELS as readonly string[]).includes(level)) continue;
    const pre = levelPrefilter(level as Level);
    if (!pre) continue;
    for (const form of [word, word.toUpperCase(), `[${word}]`, `"level":"${word}"`]) {
      assert.ok(pre.check(`x ${form} y`), `${form} must pass --level ${level}`);
    }
  }
});
