import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TargetStore } from '../src/config/store.js';
import { drillsDir, freeDrillId } from '../src/ops/drill.js';
import { listDrills } from '../src/ops/drill-history.js';

describe('drill ids', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dbdrill-drill-ids-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never reuse a report of the same second, and the history lists them newest first', () => {
    const repo = join(dir, 'repo');
    const at = new Date('2026-12-01T10:00:00.250Z');
    const ids = [freeDrillId(repo, at), freeDrillId(repo, at), freeDrillId(repo, at)];
    expect(ids).toEqual(['20261201T100000Z', '20261201T100000Z-2', '20261201T100000Z-3']);
    const later = freeDrillId(repo, new Date('2026-12-01T10:00:01Z'));
    for (const id of [...ids, later]) {
      // A whole report: the history refuses one without the fields every reader relies on.
      const report = { formatVersion: 1, id, target: 't', engine: 'postgres', status: 'passed', startedAt: at.toISOString(), requested: 'latest', steps: [], checks: [] };
      writeFileSync(join(drillsDir(repo), `${id}.json`), JSON.stringify(report));
    }
    const config = join(dir, 'config');
    new TargetStore(config).add({ name: 't', engine: 'postgres', repo });
    expect(listDrills(config, 't').map((d) => d.id)).toEqual(['20261201T100001Z', '20261201T100000Z-3', '20261201T100000Z-2', '20261201T100000Z']);
  });
});
