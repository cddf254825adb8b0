import { afterEach, describe, expect, test } from 'vitest';
import { fakeApi, target } from './fakeApi.js';
import { LOGICAL, logical, prodManifests } from './fixtures.js';
import { cleanupAll, expectFits, KEYS, renderApp, stripAnsi } from './helpers.js';

afterEach(cleanupAll);

// Issue 20: r on a logical backup restores it into a new database from the console (name field,
// typed confirmation), as dbdrill restore NAME --backup ID --dbname NEWDB does.

for (const size of [
  { columns: 80, rows: 24 },
  { columns: 60, rows: 20 },
]) {
  describe(`Catalog at ${size.columns}x${size.rows}: logical restore`, () => {
    test('r opens the form with a suggested name; typing replaces it; the target typed starts it; the run ends with what was restored', async () => {
      const api = fakeApi({ targets: [target('prod'), target('staging')], manifests: { prod: prodManifests() } });
      const r = renderApp(api, size);
      await r.waitForFrame((f) => f.includes('staging'));
      await r.press(KEYS.enter);
      await r.waitForFrame((f) => f.includes('prod · 4 backups'));
      await r.press('r');
      let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Into a new database')));
      expect(frame).toContain(size.columns === 80 ? `Into a new database from ${LOGICAL}; the source stays` : `Into a new database from ${LOGICAL}\n`);
      expect(frame).toMatch(/› Database █prod_20261125_0955/);
      expect(frame).toMatch(/enter next/);
      expectFits(frame, size);

      // The first key replaces the suggestion; q and digits are text here.
      for (const ch of 'shop_q1') await r.press(ch);
      await r.waitForFrame((f) => /Database shop_q1█/.test(stripAnsi(f)));
      await r.press(KEYS.enter);
      frame = stripAnsi(await r.waitForFrame((f) => /› Confirm/.test(stripAnsi(f))));
      expect(frame).toMatch(/enter start \(name typed\)/);
      // A wrong name does not start it.
      for (const ch of 'pro') await r.press(ch);
      await r.press(KEYS.enter);
      frame = stripAnsi(await r.waitForFrame((f) => f.includes("Type the target's name exactly")));
      expect(api.logicalRestores).toEqual([]);
      expectFits(frame, size);
      await r.press('d');
      await r.press(KEYS.enter);
      frame = stripAnsi(await r.waitForFrame((f) => f.includes('Restored into shop_q1'), 'the restore done'));
      expect(api.logicalRestores).toEqual([{ name: 'prod', backup: LOGICAL, dbname: 'shop_q1' }]);
      expect(frame).toMatch(/Restored into shop_q1: 2 tables, 5200 rows\./);
      expect(frame.replace(/\s+/g, ' ')).toContain("2 table(s) match the backup's row counts and digests.");
      expectFits(frame, size);
      await r.press(KEYS.enter);
      await r.waitForFrame((f) => f.includes('prod · 4 backups') && !f.includes('Into a new database'));
    });
  });
}

// A MariaDB dump restores into a new schema like a PostgreSQL one (r), and also starts a
// point-in-time restore (its binlog position): R opens the picker with it. A PostgreSQL dump
// starts none, and R says so and what r does instead.
describe('Catalog: r and R on a MariaDB dump and a PostgreSQL one', () => {
  const SHOP = '20261125T100000Z-L';
  const dump = () =>
    logical(SHOP, '2026-11-25T10:00:00.000Z', {
      target: 'shop',
      engine: 'mysql',
      tool: { name: 'mariadb-dump', version: '10.11.6', argv: ['/usr/bin/mariadb-dump', '--single-transaction', 'shop'] },
      serverVersion: '10.11.6-MariaDB',
      format: 'mariadb-dump',
      files: [{ path: 'dump.sql', bytes: 3_355_443, sha256: 'ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12' }],
      mysql: { binlogFile: 'mysql-bin.000002', binlogPosition: 385 },
    });

  for (const size of [
    { columns: 80, rows: 24 },
    { columns: 60, rows: 20 },
  ]) {
    test(`at ${size.columns}x${size.rows}: r opens the new-schema form, R the picker with that backup`, async () => {
      const api = fakeApi({ targets: [target('shop', { engine: 'mysql', port: 3306, user: 'root', dbname: 'shop' })], manifests: { shop: [dump()] } });
      const r = renderApp(api, size);
      await r.waitForFrame((f) => f.includes('shop'));
      await r.press(KEYS.enter);
      let frame = stripAnsi(await r.waitForFrame((f) => f.includes('shop · 1 backup') && /R to a time/.test(stripAnsi(f))));
      expectFits(frame, size);
      await r.press('r');
      frame = stripAnsi(await r.waitForFrame((f) => f.includes('Into a new database')));
      expect(frame).toMatch(/› Database █shop_20261125_1000/);
      expectFits(frame, size);
      await r.press(KEYS.escape);
      await r.waitForFrame((f) => !f.includes('Into a new database'));
      await r.press('R');
      frame = stripAnsi(await r.waitForFrame((f) => /Restore/.test(f) && f.includes(`end of ${SHOP}`), 'the picker'));
      expect(frame).toMatch(new RegExp(`› end of ${SHOP}`));
    });
  }

  test('R on a PostgreSQL dump: one sentence, no picker', async () => {
    const api = fakeApi({ targets: [target('prod')], manifests: { prod: prodManifests() } });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press(KEYS.enter);
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('prod · 4 backups')));
    // The logical backup is the newest, selected first; it offers no R.
    expect(frame).not.toMatch(/R to a time/);
    await r.press('R');
    expect(stripAnsi(await r.waitForFrame((f) => f.includes('starts no point-in-time restore'))).replace(/\s+/g, ' ')).toContain(`Backup ${LOGICAL} starts no point-in-time restore; r restores it into a new database.`);
  });
});
