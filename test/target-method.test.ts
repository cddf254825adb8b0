import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METHODS } from '../src/config/methods.js';
import { validateTarget } from '../src/config/target.js';
import { mysqlEngine } from '../src/engines/mysql/index.js';
import { postgresEngine } from '../src/engines/postgres/index.js';

const base = { name: 'm', engine: 'postgres', repo: '/srv/dbdrill/m' };

describe('a target\'s backup method', () => {
  it('the config knows exactly the methods each engine\'s table has', () => {
    expect(Object.keys(postgresEngine.methods)).toEqual([...METHODS.postgres]);
    expect(Object.keys(mysqlEngine.methods)).toEqual([...METHODS.mysql]);
  });

  it('native is the default and is not stored; pgbackrest is, with its settings', () => {
    expect(validateTarget(base).method).toBeUndefined();
    expect(validateTarget({ ...base, method: 'native' }).method).toBeUndefined();
    expect(validateTarget({ ...base, method: 'pgbackrest', processMax: '4', checkpoint: 'spread' })).toMatchObject({ method: 'pgbackrest', processMax: 4, checkpoint: 'spread' });
    // fast is the default: not stored.
    expect(validateTarget({ ...base, method: 'pgbackrest', checkpoint: 'fast' }).checkpoint).toBeUndefined();
    expect(postgresEngine.methodOf(validateTarget({ ...base, method: 'pgbackrest' })).ownCatalog?.kinds).toEqual(['physical']);
    expect(postgresEngine.methodOf(validateTarget(base)).ownCatalog).toBeUndefined();
  });

  it('refuses in one sentence: an unknown method, one of another engine, settings without the method, bad values', () => {
    expect(() => validateTarget({ ...base, method: 'barman' })).toThrow('method "barman" is not a PostgreSQL backup method; use --method native or --method pgbackrest.');
    expect(() => validateTarget({ ...base, engine: 'mysql', dbname: 'shop', method: 'pgbackrest' })).toThrow('method "pgbackrest" is not a MySQL/MariaDB backup method; use --method native.');
    expect(() => validateTarget({ ...base, processMax: 2 })).toThrow('processMax is a setting of the pgbackrest method; add --method pgbackrest or drop --process-max.');
    expect(() => validateTarget({ ...base, engine: 'mysql', dbname: 'shop', checkpoint: 'spread' })).toThrow('checkpoint is a setting of no method of this engine; drop --checkpoint.');
    expect(() => validateTarget({ ...base, method: 'pgbackrest', processMax: '0' })).toThrow('processMax "0" is out of range; use a whole number from 1 to 64.');
    expect(() => validateTarget({ ...base, method: 'pgbackrest', checkpoint: 'slow' })).toThrow('checkpoint "slow" is not known; use fast or spread.');
  });

  it('--type diff on pg_basebackup gets one sentence naming the way to diff backups', () => {
    const native = postgresEngine.methodOf(validateTarget(base));
    expect(native.backupTypes.physical).toEqual(['full']);
    expect(native.refuseType!(validateTarget(base), 'physical', 'incr')).toBe(
      '--type incr needs a method that takes incremental backups; target "m" uses pg_basebackup, which takes full ones only: drop --type, or switch the target with dbdrill target edit m --method pgbackrest.',
    );
  });

  it('no file in src/ops or src/cli names a method: the method row in src/engines decides', () => {
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    const named = files('src/ops').concat(files('src/cli')).filter((f) => /\.method\s*[!=]==?\s*['"]|['"]\s*[!=]==?\s*\w+\.method\b|['"]pgbackrest['"]/.test(readFileSync(f, 'utf8')));
    expect(named).toEqual([]);
  });
});
