import { afterEach, describe, expect, test } from 'vitest';
import { fakeApi, target } from './fakeApi.js';
import { LOGICAL, prodManifests } from './fixtures.js';
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
