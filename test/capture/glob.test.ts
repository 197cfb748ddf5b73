import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, matchesAny } from '../../src/util/glob.js';

test('glob - star stays inside one folder, ** crosses folders', () => {
  const g = compileGlob('/var/log/*.log');
  assert.equal(g.baseDir, '/var/log');
  assert.equal(g.depth, 0);
  assert.ok(g.regex.test('/var/log/app.log'));
  assert.ok(!g.regex.test('/var/log/x/app.log'));
  const deep = compileGlob('/var/**/*.log');
  assert.equal(deep.baseDir, '/var');
  assert.equal(deep.depth, Infinity);
  assert.ok(deep.regex.test('/var/app.log'));
  assert.ok(deep.regex.test('/var/a/b/c.log'));
  assert.ok(!deep.regex.test('/var/a/b/c.txt'));
});

test('glob - ?, classes, braces and literal dots', () => {
  const g = compileGlob('/l/app{,-[0-9]}.log?');
  assert.ok(g.regex.test('/l/app.log1'));
  assert.ok(g.regex.test('/l/app-7.logx'));
  assert.ok(!g.regex.test('/l/app-x.log1'));
  assert.ok(!g.regex.test('/l/appxlog1'));
  assert.ok(matchesAny('/l/b.log', [compileGlob('/l/a.log'), compileGlob('/l/b.*')]));
});

test('glob - a pattern without wildcards matches that file only; relative uses cwd', () => {
  const g = compileGlob('logs/app.log', '/srv');
  assert.equal(g.baseDir, '/srv/logs');
  assert.ok(g.regex.test('/srv/logs/app.log'));
  assert.ok(!g.regex.test('/srv/logs/app.log.1'));
});

test('glob - an unclosed class or brace is an error naming the pattern', () => {
  assert.throws(() => compileGlob('/l/[ab.log'), /\[ab\.log.*never closed/);
  assert.throws(() => compileGlob('/l/{a,b.log'), /never closed/);
});
