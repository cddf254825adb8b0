import { afterEach, describe, expect, test, vi } from 'vitest';
import { sparkline, statusStrip } from '../../screens/widgets/Sparkline/sparkline.js';
import { fakeApi, target } from './fakeApi.js';
import { pgSeries, pgStreamReport, seg } from './healthFixtures.js';
import { cleanupAll, expectFits, frameLines, KEYS, renderApp, stripAnsi, tick } from './helpers.js';

afterEach(() => {
  cleanupAll();
  vi.useRealTimers();
});


describe('sparkline', () => {
  test('scales bars to the largest value shown, keeps gaps for unknown samples, shows only the newest', () => {
    expect(sparkline([0, 1, 2, 4, null, 8], 10)).toBe('▁▂▃▅ █');
    expect(sparkline([0, 0, 0], 10)).toBe('▁▁▁');
    // A single waiting file on an empty history is a small bar, not a full one (floor 4).
    expect(sparkline([0, 1], 10, 4)).toBe('▁▃');
    expect(sparkline([1, 2, 3, 4, 5], 2)).toBe('▇█');
    expect(statusStrip(['OK', 'OK', 'WARN', 'CRIT'], 3)).toBe('.wC');
  });
});

describe('Health screen', () => {
  const series = pgSeries(8, 3);

  test('samples live: status with its reason in words, counts, backlog, last archived and failed, RPO, history', async () => {
    // The screen paces samples with its own timer (setTimeout): faked, the next one comes when
    // the test moves the clock, not after two real seconds. Frames are polled on the real clock.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const api = fakeApi({ targets: [target('prod')], healthSample: async (_n, i) => series[Math.min(i, series.length - 1)]! });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('5');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('sample 1'), 'the first sample'));
    expect(frame).toMatch(/prod · every 2s · sample 1 at 2026-12-01 10:00:00Z/);
    expect(frame).toMatch(/OK\s+Archiving and backups are healthy\./);
    expect(frame).toMatch(/archived\s+40 segments · .* · last 000000010000000000000028 2s ago/);
    expect(frame).toMatch(/failed\s+0 · none/);
    expect(frame).toMatch(/settings\s+archive_mode on · archive_timeout 1m/);
    expect(frame).toMatch(/window\s+2026-12-01 09:01:00Z → /);
    expectFits(frame);
    // The fake hands out the next sample each time; the screen's own clock paces them 2 s apart
    // (counted from when the first sample started, so a little less is left of it now).
    expect(api.samples).toBe(1);
    vi.advanceTimersByTime(1000);
    await tick();
    expect(api.samples).toBe(1);
    vi.advanceTimersByTime(1000);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('sample 2'), 'the second sample'));
    expect(frame).toMatch(/status\s+\.\./);
    expect(api.samples).toBeGreaterThanOrEqual(2);
  });

  test('a stalled archiver (exit 200: failed_count still) reads CRIT with the segment named, and the history shows it', async () => {
    // Start late in the series: the history in the report carries the earlier samples.
    const api = fakeApi({ targets: [target('prod')], healthSample: async () => series.at(-1)! });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('5');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('sample 1')));
    const lines = frameLines(frame);
    const status = lines.findIndex((l) => /^CRIT\s+archiving:/.test(l));
    expect(status).toBeGreaterThan(0);
    expect(frame).toContain(seg(43));
    expect(frame).toMatch(/failed\s+0 · none/);
    expect(frame).toMatch(/backlog\s+5 \.ready · oldest 00000001000000000000002B waiting/);
    expect(frame).toMatch(/status\s+\.{3,}w+C+\s*$/m);
    const spark = lines.find((l) => l.startsWith('backlog  '))!;
    expect(spark).toMatch(/▁▁▁.*█/);
    // The failing check leads, whole; it is not listed twice, and the rest follow worst first.
    const checks = lines.filter((l) => /^(OK|WARN|CRIT)\s+\w+:/.test(l));
    expect(checks[0]).toMatch(/^CRIT\s+archiving/);
    expect(checks.filter((l) => /archiving:/.test(l))).toHaveLength(1);
    expectFits(frame);
  });

  test('space pauses sampling and resumes it; + and - change the interval', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const api = fakeApi({ targets: [target('prod')], healthSample: async () => series[0]! });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('5');
    await r.waitForFrame((f) => f.includes('sample 1'));
    await r.press(' ');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('PAUSED')));
    expect(frameLines(frame).at(-1)).toMatch(/space resume/);
    const taken = api.samples;
    // Far past the 2 s interval: a paused screen has no timer left to fire.
    vi.advanceTimersByTime(10_000);
    await tick();
    expect(api.samples).toBe(taken);
    await r.press('-');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('every 1s')));
    await r.press('+', '+', '+');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('every 10s')));
    expect(frameLines(frame).at(-1)).toMatch(/\+ every 10s, slower {2}- faster/);
    await r.press(' ');
    await r.waitForFrame((f) => !f.includes('PAUSED') && f.includes('sample 2'), 'a sample right after resuming');
  });

  test('an engine error is one sentence, and with no target the screen says where to pick one', async () => {
    const api = fakeApi({ targets: [target('prod')] });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('5');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL')));
    expect(frame).toMatch(/FAIL\s+no health fixture for prod/);
    const empty = renderApp(fakeApi({ targets: [] }));
    await empty.waitForFrame((f) => f.includes('No targets yet'));
    await empty.press('5');
    expect(stripAnsi(await empty.waitForFrame((f) => f.includes('No target selected')))).toMatch(/pick one on Targets \(1\)/);
    await empty.press(KEYS.escape);
  });
});

describe('Health screen with dbdrill stream', () => {
  for (const size of [{ columns: 80, rows: 24 }, { columns: 60, rows: 20 }]) {
    test(`${size.columns}x${size.rows}: a running synchronous stream shows its lag and RPO 0; a stopped one is CRIT with the command that drops its slot`, async () => {
      let r = renderApp(fakeApi({ targets: [target('prod')], healthSample: async () => pgStreamReport('running') }), size);
      await r.waitForFrame((f) => f.includes('prod'));
      await r.press('5');
      let frame = stripAnsi(await r.waitForFrame((f) => f.includes('sample 1')));
      // at 60 columns the line ends in an ellipsis after the lag
      expect(frame).toMatch(size.columns === 80 ? /stream\s+running, sync · 8\.0 KiB behind \(0\.3 s\) · slot keeps 16 MiB/ : /stream\s+running, sync · 8\.0 KiB behind \(0\.3 s\) · slot…/);
      expect(frame).toMatch(/RPO 0: the stream is the synchronous/);
      expectFits(frame, size);
      cleanupAll();
      r = renderApp(fakeApi({ targets: [target('prod')], healthSample: async () => pgStreamReport('stopped') }), size);
      await r.waitForFrame((f) => f.includes('prod'));
      await r.press('5');
      frame = stripAnsi(await r.waitForFrame((f) => f.includes('sample 1')));
      expect(frame).toMatch(/CRIT\s+stream/);
      expect(frame.replace(/\s+/g, ' ')).toContain("pg_drop_replication_slot('dbdrill_prod')");
      expect(frame).toMatch(/stream\s+STOPPED 5m · slot keeps 900 MiB/);
      expectFits(frame, size);
    });
  }
});

describe('Health panel lines for MySQL/MariaDB', () => {
  test('binlog on/off and format, the current binlog against the newest archived one, what waits, a purge gap', async () => {
    const { panelLines } = await import('../../screens/health/panelLines.js');
    const { thresholdsOf } = await import('../../src/config/health-settings.js');
    const lines = panelLines({
      target: 'shop', engine: 'mysql', at: '2026-12-01T10:00:00.000Z', status: 'WARN', checks: [],
      server: { reachable: true, version: '10.11.18-MariaDB' },
      binlog: {
        at: '2026-12-01T10:00:00.000Z', logBin: true, binlogFormat: 'ROW', currentBinlog: 'mysql-bin.000012', currentBytes: 2048, serverBinlogs: 5, oldestOnServer: 'mysql-bin.000008',
        archiveDir: '/srv/shop/binlog', archivePresent: true, archivedCount: 9, newestArchived: 'mysql-bin.000010', newestArchivedTime: '2026-12-01T09:58:00.000Z', newestArchivedAgeSeconds: 120,
        pending: ['mysql-bin.000011'], currentBehind: false, gap: { from: 'mysql-bin.000006', to: 'mysql-bin.000007' }, behindSince: null, window: { seconds: 0, samples: 1, backlogDelta: 0 },
        pendingBytes: 1024, lastSync: null, syncSchedule: null, evidence: [], broken: false, binlogGrowthBytesPerSecond: null, binlogDisk: null, diskFullInSeconds: null,
      },
      backup: { count: 1, newestComplete: { id: '20261201T090000Z-L', finishedAt: '2026-12-01T09:00:10.000Z', ageSeconds: 3590 }, newest: { id: '20261201T090000Z-L', status: 'complete' } },
      thresholds: thresholdsOf(undefined),
      metrics: {} as never,
      history: [],
    });
    const text = lines.map((l) => `${l.label}: ${l.text}`);
    expect(text).toContain('binlog: on · format ROW · writing mysql-bin.000012 (2.0 KiB)');
    expect(text).toContain('archived: 9 files · newest mysql-bin.000010 2m ago');
    expect(text).toContain('waiting: 1 closed binlog(s) not archived: mysql-bin.000011');
    expect(text).toContain('GAP: mysql-bin.000006…mysql-bin.000007 purged before archiving: no restore replays across it');
    expect(lines.find((l) => l.label === 'GAP')?.tone).toBe('bad');
    expect(text).toContain('backup: newest complete 20261201T090000Z-L · 59m50s ago');
    expect(text).toContain('window: none yet (a backup with its binlog position and archived binlogs make one)');
  });
});
