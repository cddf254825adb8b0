import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../src/config/duration.js';
import { TargetStore } from '../src/config/store.js';
import { validateTarget } from '../src/config/target.js';
import { resolvePassword } from '../src/config/password.js';
import { DbdrillError } from '../src/errors.js';
import { tempConfigDir } from './helpers/cli.js';

const base = { name: 'prod', engine: 'postgres', host: 'db1', port: '5432', user: 'backup', dbname: 'app', repo: '/srv/repo' };

function errorOf(fn: () => unknown): DbdrillError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DbdrillError) return e;
    throw e;
  }
  throw new Error('expected a DbdrillError');
}

describe('target validation', () => {
  it('accepts a full target and applies engine defaults', () => {
    const t = validateTarget({ name: 'm', engine: 'mysql', dbname: 'shop', repo: '/r' });
    expect(t).toEqual({ name: 'm', engine: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', dbname: 'shop', repo: '/r' });
    expect(validateTarget(base).port).toBe(5432);
  });

  it.each([
    [{ port: '70000' }, /port "70000" is out of range; use a port number from 1 to 65535/],
    [{ port: '0' }, /port "0" is out of range/],
    [{ port: 'abc' }, /port "abc" is out of range/],
    [{ engine: 'oracle' }, /engine "oracle" is not supported; use --engine postgres or --engine mysql/],
    [{ repo: undefined }, /repo is missing; give it with --repo/],
    [{ name: 'bad name!' }, /name "bad name!" is not a valid target name/],
    [{ rto: 'soon' }, /rto "soon" is not a duration/],
    [{ passwordEnv: 'not-a-var' }, /is not an environment variable name/],
  ])('rejects %o with a sentence naming the field', (patch, message) => {
    const e = errorOf(() => validateTarget({ ...base, ...patch }));
    expect(e.message).toMatch(message);
    expect(e.exitCode).toBe(2);
  });

  it('parses and formats durations', () => {
    expect(parseDuration('1h30m', 'rto')).toBe(5400);
    expect(parseDuration('15m', 'rpo')).toBe(900);
    expect(parseDuration('90s', 'x')).toBe(90);
    expect(formatDuration(5400)).toBe('1h30m');
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(2 * 86400 + 3600)).toBe('2d1h');
  });
});

describe('target store', () => {
  let cfg: ReturnType<typeof tempConfigDir>;
  beforeEach(() => {
    cfg = tempConfigDir();
  });
  afterEach(() => cfg.cleanup());

  it('stores targets in a 0600 file, lists them sorted and refuses duplicates', () => {
    const store = new TargetStore(cfg.dir);
    store.add({ ...base, name: 'zeta' });
    store.add(base);
    expect(store.list().map((t) => t.name)).toEqual(['prod', 'zeta']);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(statSync(cfg.dir).mode & 0o777).toBe(0o700);
    const e = errorOf(() => store.add(base));
    expect(e.code).toBe('duplicate-target');
    expect(e.message).toMatch(/A target named "prod" already exists/);
    // Reopening reads the same catalog.
    expect(new TargetStore(cfg.dir).get('prod').host).toBe('db1');
  });

  it('names unknown targets and the known ones', () => {
    const store = new TargetStore(cfg.dir);
    store.add(base);
    const e = errorOf(() => store.get('nope'));
    expect(e.code).toBe('unknown-target');
    expect(e.message).toBe('There is no target named "nope" (known targets: prod).');
  });

  it('reports a hand-edited invalid target with the file and field', () => {
    const store = new TargetStore(cfg.dir);
    store.add(base);
    writeFileSync(store.path, JSON.stringify({ version: 1, targets: { prod: { ...base, name: undefined, port: 99999 } } }));
    const e = errorOf(() => new TargetStore(cfg.dir).list());
    expect(e.message).toContain(`${store.path}: target "prod": port "99999" is out of range`);
  });

  it('reports a config file that is not JSON without clearing it', () => {
    writeFileSync(join(cfg.dir, 'config.json'), '{ not json');
    const e = errorOf(() => new TargetStore(cfg.dir));
    expect(e.message).toMatch(/config\.json cannot be read .*; fix the JSON or move the file away\./);
  });
});

describe('password resolution', () => {
  let cfg: ReturnType<typeof tempConfigDir>;
  beforeEach(() => {
    cfg = tempConfigDir();
  });
  afterEach(() => cfg.cleanup());

  it('reads the named variable and says when it is unset', () => {
    const t = validateTarget({ ...base, passwordEnv: 'DB_PW' });
    expect(resolvePassword(t, { DB_PW: 's3cret' })).toBe('s3cret');
    expect(() => resolvePassword(t, {})).toThrow(/reads its password from \$DB_PW, which is not set; export DB_PW/);
  });

  it('reads a private file and refuses one others can read', () => {
    const file = join(cfg.dir, 'pw');
    writeFileSync(file, 'filepw\n', { mode: 0o600 });
    const t = validateTarget({ ...base, passwordFile: file });
    expect(resolvePassword(t, {})).toBe('filepw');
    writeFileSync(join(cfg.dir, 'open'), 'x', { mode: 0o644 });
    const open = validateTarget({ ...base, passwordFile: join(cfg.dir, 'open') });
    expect(() => resolvePassword(open, {})).toThrow(/is readable by others; run chmod 600/);
  });
});
