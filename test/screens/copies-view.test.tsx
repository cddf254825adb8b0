import { afterEach, describe, expect, test } from 'vitest';
import type { Held } from '../../src/copies/status.js';
import { fakeApi, target } from './fakeApi.js';
import { prodManifests } from './fixtures.js';
import { cleanupAll, expectFits, KEYS, renderApp, stripAnsi } from './helpers.js';

afterEach(cleanupAll);

/**
 * Issue 17: the console's view of copies. Targets shows the selected target's 3-2-1 verdict; the
 * Catalog's details say where each backup is held (the primary and each copy), naming what lacks.
 */
const RULE = 'WARN 3-2-1: newest backup 20261125T095500Z-L held 2x (local, nas), 2 kind(s) of storage, none off-site';
const SIZES = [
  { columns: 80, rows: 24 },
  { columns: 60, rows: 20 },
];

function heldAll(): Record<string, Held[]> {
  const out: Record<string, Held[]> = {};
  for (const m of prodManifests()) {
    out[m.id] = [
      { where: 'local', state: 'ok' },
      { where: 'nas', state: 'ok' },
      { where: 'offsite', state: 'missing' },
    ];
  }
  return out;
}

describe('copies in the console', () => {
  for (const size of SIZES) {
    test(`Targets shows the selected target's 3-2-1 at ${size.columns}x${size.rows}`, async () => {
      const api = fakeApi({ targets: [target('prod', { copies321: RULE }), target('lab')] });
      const r = renderApp(api, size);
      const frame = stripAnsi(await r.waitForFrame((f) => f.includes('lab') && f.includes('3-2-1')));
      expect(frame).toContain('WARN 3-2-1: newest backup');
      expectFits(frame, size);
      // A target without copies has no 3-2-1 line.
      await r.press('j');
      const lab = stripAnsi(await r.waitForFrame((f) => !f.includes('3-2-1'), 'no 3-2-1 line for lab'));
      expect(lab).not.toContain('3-2-1');
    });

    test(`the Catalog's details say where a backup is held at ${size.columns}x${size.rows}`, async () => {
      const api = fakeApi({ targets: [target('prod'), target('lab')], manifests: { prod: prodManifests() }, held: { prod: heldAll() } });
      const r = renderApp(api, size);
      await r.waitForFrame((f) => f.includes('lab'));
      await r.press(KEYS.enter);
      await r.press(KEYS.tab);
      const frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes('local ✓ nas ✓ offsite missing'), 'the held line'));
      expect(frame).toMatch(/held\s+WARN\s+local ✓ nas ✓ offsite missing/);
      expectFits(frame, size);
    });
  }
});
