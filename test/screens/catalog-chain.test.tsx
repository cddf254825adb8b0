import { afterEach, describe, expect, test } from 'vitest';
import type { Manifest } from '../../src/repo/manifest.js';
import { fakeApi, target } from './fakeApi.js';
import { cleanupAll, expectFits, frameLines, KEYS, renderApp, selectedLine, stripAnsi } from './helpers.js';

afterEach(cleanupAll);

/** A MariaDB repository: full F, incr I1 on F, incr I2 on I1, diff D on F, and an older full F0. */
const F0 = '20261206T230000Z-F';
const F = '20261207T010000Z-F';
const I1 = '20261207T020000Z-I';
const I2 = '20261207T030000Z-I';
const D = '20261207T040000Z-D';
const MB = 1024 * 1024;

function member(id: string, type: Manifest['type'], bytes: number, prior?: string, lsns = ['0', '100']): Manifest {
  const at = `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:00.000Z`;
  return {
    formatVersion: 1,
    id,
    target: 'shop',
    engine: 'mysql',
    kind: 'physical',
    type,
    status: 'complete',
    tool: { name: 'mariadb-backup', version: '10.11.6', argv: ['/usr/bin/mariadb-backup', '--backup', `--target-dir=/srv/backups/shop/backups/${id}/base`] },
    serverVersion: '10.11.6-MariaDB',
    startedAt: at,
    finishedAt: new Date(Date.parse(at) + 30_000).toISOString(),
    sizeBytes: bytes,
    format: 'mariadb-backup',
    files: [{ path: 'base/ibdata1.delta', bytes, sha256: 'ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12' }],
    ...(prior ? { prior } : {}),
    mysql: { binlogFile: 'mysql-bin.000002', binlogPosition: 4000, fromLsn: lsns[0], toLsn: lsns[1] },
  };
}

const manifests = (): Manifest[] => [
  member(D, 'diff', 40 * MB, F, ['5000', '9000']),
  member(I2, 'incr', 8 * MB, I1, ['7000', '8000']),
  member(I1, 'incr', 12 * MB, F, ['5000', '7000']),
  member(F, 'full', 900 * MB, undefined, ['0', '5000']),
  member(F0, 'full', 880 * MB),
];

describe('Catalog of a MariaDB chain (80x24)', () => {
  test('each diff and incr sits under its full, and the details say what restoring it reads', async () => {
    const r = renderApp(fakeApi({ targets: [target('shop', { engine: 'mysql', port: 3306, user: 'root', dbname: 'shop' })], manifests: { shop: manifests() } }));
    await r.waitForFrame((f) => f.includes('shop'));
    await r.press(KEYS.enter);
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('shop · 5 backups') && f.includes('details'), 'the catalog of shop'));
    const rows = frameLines(frame).filter((l) => /^(› | {2})2026/.test(l));
    // The chain whose newest member is newest first: F, then I1, I2, D as taken; then the older full.
    expect(rows.map((l) => l.slice(2, 20))).toEqual([F, I1, I2, D, F0]);
    expect(rows[0]).toMatch(/physical\s+full\s+OK/);
    expect(rows[1]).toMatch(/physical\s+└incr\s+OK/);
    expect(rows[3]).toMatch(/physical\s+└diff\s+OK/);
    expectFits(frame);

    // Down to I2: its details say it was taken on I1 and that a restore reads F, I1 and I2.
    await r.press('j', 'j');
    frame = stripAnsi(await r.waitForFrame((f) => selectedLine(f)?.includes(I2) === true && f.includes('restoring'), 'I2 selected with its chain'));
    await r.press(KEYS.tab);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('› details') && f.includes(`incr ${I2}`), 'the details pane'));
    expect(frame).toMatch(/InnoDB LSN\s+7000 → 8000/);
    expect(frame).toContain(`taken on   the chain's newest backup ${I1}`);
    expect(frame).toMatch(/restoring\s+reads 3 backups, 920 MiB, oldest first:/);
    expect(frame).toMatch(new RegExp(`full ${F}\\s+900 MiB`));
    expect(frame).toMatch(new RegExp(`incr ${I1}\\s+12 MiB`));
    expect(frame).toMatch(new RegExp(`incr ${I2}\\s+8.0 MiB`));
    expectFits(frame);
  });

  test('a member whose base is gone says its restore cannot be read, naming the missing backup', async () => {
    const withoutI1 = manifests().filter((m) => m.id !== I1);
    const r = renderApp(fakeApi({ targets: [target('shop', { engine: 'mysql', port: 3306, user: 'root', dbname: 'shop' })], manifests: { shop: withoutI1 } }));
    await r.waitForFrame((f) => f.includes('shop'));
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('shop · 4 backups'), 'the catalog');
    const frame = stripAnsi(r.lastFrame());
    const rows = frameLines(frame).filter((l) => /^(› | {2})2026/.test(l));
    // D's chain (F, D) is newest; I2 lost its base and stands alone, by its own id.
    expect(rows.map((l) => l.slice(2, 20))).toEqual([F, D, I2, F0]);
    await r.press('j', 'j', KEYS.tab);
    const details = stripAnsi(await r.waitForFrame((f) => f.includes('› details') && f.includes('cannot be read'), 'I2 details'));
    expect(details).toContain(`backup ${I1} is no longer in`);
    expect(details).toMatch(new RegExp(`incr ${I1}\\s+missing`));
    expectFits(details);
  });
});
