import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPidAlive, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { ArchivedPostgres, PitrRestores } from './helpers/archived-pg.js';
import { sandboxRunDir } from './helpers/sandbox.js';
import { flipMiddle, sharedSegments } from './helpers/wal-files.js';
import { walPush } from '../src/wal/archive.js';
import { settleStreamed } from '../src/wal/stream-settle.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { markerAndTicks, oneReceiver, receivers, Stream, until } from './helpers/stream.js';

/**
 * `dbdrill stream` on real servers: pg_receivewal with a slot into the repository's stream/,
 * completed segments moved into wal/ beside archive_command's wal-push, and restores to `latest`
 * replaying the .partial segment. The server is killed with SIGKILL a second after a marker
 * commit; with --synchronous the marker must be restored, without it the loss is measured.
 */
const cfg = tempConfigDir();
let env: Record<string, string>;
let restores: PitrRestores;
const servers: ArchivedPostgres[] = [];
const streams: Stream[] = [];
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 180_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startStream(name: string, extra: string[] = []): Stream {
  const s = Stream.start(name, env, extra);
  streams.push(s);
  return s;
}

/** A server with archive_command (wal-push) into its repository, a target for it and a base backup. */
async function serverWithTarget(name: string): Promise<ArchivedPostgres> {
  const db = await ArchivedPostgres.start(name);
  servers.push(db);
  env[`${name.toUpperCase()}_PW`] = db.server.password;
  const add = await cli(['target', 'add', name, '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', db.repo, '--password-env', `${name.toUpperCase()}_PW`]);
  expect(add.code, add.stderr).toBe(0);
  const backup = await cli(['backup', name, '--kind', 'physical']);
  expect(backup.code, backup.stderr).toBe(0);
  await db.sql('CREATE TABLE ticks (n serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(), note text)');
  return db;
}

async function slotActive(db: ArchivedPostgres, slot: string): Promise<boolean> {
  const rows = await db.sql<{ active: boolean }>(`SELECT active FROM pg_replication_slots WHERE slot_name = '${slot}'`);
  return rows[0]?.active === true;
}

/** The segment the stream was receiving: a .partial in stream/, not (yet) in wal/. */
function streamedPartial(db: ArchivedPostgres): string {
  const partials = readdirSync(join(db.repo, 'stream')).filter((f) => f.endsWith('.partial'));
  expect(partials).toHaveLength(1);
  const name = partials[0]!.slice(0, 24);
  expect(readdirSync(join(db.repo, 'wal', name.slice(0, 8)))).not.toContain(`${name}.dbw`);
  return name;
}

/** kill -9 of the postmaster; its backends follow it. */
async function killServer(db: ArchivedPostgres): Promise<void> {
  signalProcess(db.server.pid, 'SIGKILL');
  await waitForPidExit(db.server.pid, 10_000);
}

beforeAll(() => {
  env = { DBDRILL_CONFIG_DIR: cfg.dir };
  restores = new PitrRestores(cli, 'stream-restored');
});

afterAll(async () => {
  for (const s of streams) await s.stop();
  for (const db of servers) {
    for (const pid of receivers(db.repo)) if (isPidAlive(pid)) signalProcess(pid, 'SIGKILL');
  }
  await restores?.stopAll();
  for (const db of servers) await db.stop().catch(() => {});
  cfg.cleanup();
}, 120_000);

describe('dbdrill stream (asynchronous)', () => {
  let db: ArchivedPostgres;
  let stream: Stream;

  beforeAll(async () => {
    db = await serverWithTarget('strm');
    stream = startStream('strm');
    await until('the slot to be active', () => slotActive(db, 'dbdrill_strm'));
  }, 240_000);

  it('moves completed segments into wal/ beside archive_command, and a killed pg_receivewal is restarted without a gap', async () => {
    const before = [await oneReceiver(db.repo, stream)];
    for (let i = 0; i < 3; i++) {
      await db.sql(`INSERT INTO ticks (note) SELECT 'fill ${i}' FROM generate_series(1, 20000)`);
      await db.sql('SELECT pg_switch_wal()');
      if (i === 1) {
        // mid-stream: pg_receivewal dies at once, the WAL keeps coming
        signalProcess(before[0]!, 'SIGKILL');
      }
    }
    const after = await until('a new pg_receivewal', () => {
      const now = receivers(db.repo);
      return now.length === 1 && now[0] !== before[0] ? now : undefined;
    });
    expect(after[0]).not.toBe(before[0]);
    expect(stream.text()).toMatch(/the receiver stopped: pg_receivewal was killed by SIGKILL/);
    expect(stream.text()).toMatch(/restarting it in 1 s/);
    // Both writers fed one archive: nothing refused, and the window has no gap.
    // Some WAL in the segment after the last switch, so that pg_receivewal opens its .partial.
    await db.sql(`INSERT INTO ticks (note) VALUES ('after the switches')`);
    const last = (await db.sql<{ name: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS name'))[0]!.name;
    await until('the stream to catch up', () => readdirSync(join(db.repo, 'stream')).includes(`${last}.partial`));
    expect(stream.text()).not.toContain('REFUSED');
    const w = await cli(['window', 'strm', '--json']);
    expect(w.code, w.stderr).toBe(0);
    const win = JSON.parse(w.stdout) as { gaps: unknown[]; newestSegment: string };
    expect(win.gaps).toEqual([]);
    expect(win.newestSegment).toBe(last);
  }, 120_000);

  it('health: the stream is running with its lag; a forgotten slot retaining WAL is CRIT with the command that drops it; --prom exports both', async () => {
    const prom = join(sandboxRunDir(), `stream-prom-${process.pid}.prom`);
    let h = await cli(['health', 'strm', '--json', '--prom', prom]);
    let report = JSON.parse(h.stdout) as { checks: { name: string; status: string; reason: string }[]; archive: { stream?: { running: boolean; slot: string }; rpo: { basis: string } } };
    expect(report.archive.stream).toMatchObject({ running: true, slot: 'dbdrill_strm' });
    expect(report.archive.rpo.basis).toBe('stream');
    expect(report.checks.find((c) => c.name === 'stream')).toMatchObject({ status: 'OK', reason: expect.stringMatching(/^Stream running: \S+ \S*B behind/) });
    let text = readFileSync(prom, 'utf8');
    expect(text).toContain('dbdrill_stream_up{target="strm"} 1');
    expect(text).toMatch(/dbdrill_stream_slot_retained_bytes\{target="strm"\} \d+/);

    await db.sql(`SELECT pg_create_physical_replication_slot('forgotten', true)`);
    try {
      // Five segments' worth of WAL the forgotten slot now holds in pg_wal.
      for (let i = 0; i < 5; i++) {
        await db.sql(`INSERT INTO ticks (note) VALUES ('switch ${i}')`);
        await db.sql('SELECT pg_switch_wal()');
      }
      h = await cli(['health', 'strm', '--json', '--prom', prom]);
      expect(h.code, h.stderr).toBe(4);
      report = JSON.parse(h.stdout) as typeof report;
      const slots = report.checks.find((c) => c.name === 'replication slots');
      expect(slots?.status).toBe('CRIT');
      expect(slots?.reason).toMatch(/^Slot forgotten has no reader( \(for [^)]+\))? and retains \d+ MiB of WAL, which grows until the disk holding pg_wal \(.* free of .*\) is full; drop it with SELECT pg_drop_replication_slot\('forgotten'\)\.$/);
      text = readFileSync(prom, 'utf8');
      expect(text).toContain('dbdrill_health_check_status{target="strm",check="replication slots"} 2');
      expect(text).toContain('dbdrill_health_status{target="strm"} 2');
    } finally {
      await db.sql(`SELECT pg_drop_replication_slot('forgotten')`);
      rmSync(prom, { force: true });
    }
  }, 120_000);

  it('kill -9 of the server a second after a marker commit: restore latest reaches the last streamed commit, and the loss is measured', async () => {
    // A steady trickle of commits, then the marker, then the crash.
    for (let i = 0; i < 20; i++) await db.sql(`INSERT INTO ticks (note) VALUES ('tick ${i}')`);
    const marker = (await db.sql<{ at: Date }>(`INSERT INTO ticks (note) VALUES ('marker') RETURNING at`))[0]!.at;
    await sleep(1000);
    await killServer(db);
    const partial = streamedPartial(db);
    const r = await restores.restore('strm', ['--to', 'latest']);
    expect(r.code, r.stderr).toBe(0);
    // The last commits were only in the segment pg_receivewal was receiving.
    expect(r.report!.plan.walTo).toBe(partial);
    const rows = await db.sql<{ last: Date; marker: number }>(`SELECT max(at) AS last, count(*) FILTER (WHERE note = 'marker')::int AS marker FROM ticks`, r.report!.port);
    const rpoSeconds = Math.max(0, (marker.getTime() - rows[0]!.last.getTime()) / 1000);
    console.log(`stream RPO without --synchronous: ${rpoSeconds.toFixed(3)} s (marker ${rows[0]!.marker ? 'restored' : 'lost'})`);
    // Streaming sends WAL as it is flushed: a second is far more than it needs.
    expect(rows[0]!.marker).toBe(1);
    expect(r.report!.reached.lastCommitAt).toBeDefined();
  }, 240_000);

  it('the stream keeps retrying while the server is down and stops cleanly on SIGTERM, leaving no pg_receivewal', async () => {
    await until('a failed reconnect', () => /restarting it in [248] s/.test(stream.text()));
    const code = await stream.stop();
    expect(code).toBe(0);
    expect(receivers(db.repo)).toEqual([]);
  }, 60_000);
});

describe('dbdrill stream --synchronous', () => {
  let db: ArchivedPostgres;
  let stream: Stream;
  let markerAt = new Date(0);

  beforeAll(async () => {
    db = await serverWithTarget('strmsync');
    stream = startStream('strmsync', ['--synchronous']);
    await until('the stream to be the synchronous standby', async () => {
      const rows = await db.sql<{ sync_state: string }>(`SELECT sync_state FROM pg_stat_replication WHERE application_name = 'dbdrill_strmsync'`);
      return rows[0]?.sync_state === 'sync';
    });
  }, 240_000);

  it('sets synchronous_standby_names to the stream', async () => {
    const rows = await db.sql<{ v: string }>(`SELECT current_setting('synchronous_standby_names') AS v`);
    expect(rows[0]!.v).toBe('"dbdrill_strmsync"');
  });

  it('kill -9 of the server a second after a marker commit: the marker is restored (RPO 0)', async () => {
    for (let i = 0; i < 20; i++) await db.sql(`INSERT INTO ticks (note) VALUES ('tick ${i}')`);
    markerAt = (await db.sql<{ at: Date }>(`INSERT INTO ticks (note) VALUES ('marker') RETURNING at`))[0]!.at;
    await sleep(1000);
    await killServer(db);
    await stream.stop();
    const partial = streamedPartial(db);
    const r = await restores.restore('strmsync', ['--to', 'latest']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report!.plan.walTo).toBe(partial);
    expect(await markerAndTicks(db, r.report!.port)).toEqual({ marker: 1, ticks: 20 });
  }, 240_000);

  it("a drill of the streamed target replays the .partial up to the marker and measures its RPO from the stream's last write", async () => {
    const before = Date.now();
    const d = await cli(['drill', 'strmsync', '--json']);
    expect(d.code, d.stderr).toBe(0);
    const report = JSON.parse(d.stdout) as { rpo: { seconds: number; reference: string; lastCommitAt?: string } };
    // The server died seconds ago: the newest WAL in the repository is the partial's last write.
    expect(report.rpo.reference).toBe('now minus the newest archived segment');
    expect(report.rpo.seconds).toBeGreaterThan(0);
    expect(report.rpo.seconds).toBeLessThan((Date.now() - before) / 1000 + 120);
    expect(Date.parse(report.rpo.lastCommitAt!)).toBeGreaterThanOrEqual(markerAt.getTime() - 1);
  }, 240_000);
});


describe('moving streamed files into the archive', () => {
  it('identical content already archived is fine; different content is refused, reported and left in stream/', async () => {
    const repo = join(sandboxRunDir(), `stream-settle-${process.pid}`);
    try {
      const [a, b] = await sharedSegments(2, join(repo, 'src'));
      mkdirSync(join(repo, 'stream'), { recursive: true });
      // b: archive_command got there first with the same bytes.
      await walPush(repo, b!);
      copyFileSync(b!, join(repo, 'stream', b!.slice(-24)));
      // a: what is archived differs from what the stream received (a byte flipped mid-segment).
      const other = join(repo, 'other');
      mkdirSync(other);
      copyFileSync(a!, join(other, a!.slice(-24)));
      flipMiddle(join(other, a!.slice(-24)));
      await walPush(repo, join(other, a!.slice(-24)));
      copyFileSync(a!, join(repo, 'stream', a!.slice(-24)));
      const r = await settleStreamed(repo);
      expect(r.moved).toEqual([b!.slice(-24)]);
      expect(r.refused).toHaveLength(1);
      expect(r.refused[0]!.name).toBe(a!.slice(-24));
      expect(r.refused[0]!.reason).toMatch(/is already archived with different contents \(archived sha256 [0-9a-f]{64}, new sha256 [0-9a-f]{64}\); it was not overwritten/);
      expect(existsSync(join(repo, 'stream', a!.slice(-24)))).toBe(true);
      expect(existsSync(join(repo, 'stream', b!.slice(-24)))).toBe(false);
      // stream/ replaced by a symlink: wal-fetch of the segment after the archive's end stops
      // recovery naming it (exit 255), never reads through the link nor reports "end of archive".
      const next = `${b!.slice(-24, -8)}${(parseInt(b!.slice(-8), 16) + 1).toString(16).toUpperCase().padStart(8, '0')}`;
      const elsewhere = join(repo, 'elsewhere');
      mkdirSync(elsewhere);
      copyFileSync(b!, join(elsewhere, `${next}.partial`));
      rmSync(join(repo, 'stream'), { recursive: true });
      symlinkSync(elsewhere, join(repo, 'stream'));
      const f = await runCli(['wal-fetch', '--repo', repo, next, join(repo, 'fetched')]);
      expect(f.code).toBe(255);
      expect(f.stderr).toContain(`${next} cannot be restored: ${repo}/stream is a symbolic link`);
      expect(existsSync(join(repo, 'fetched'))).toBe(false);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('dbdrill stream --install-systemd', () => {
  it('prints a unit that runs the stream in the foreground, and writes it with --apply --dir', async () => {
    env.UNIT_PW = 'x';
    const add = await cli(['target', 'add', 'unitt', '--engine', 'postgres', '--port', '1', '--user', 'u', '--dbname', 'd', '--repo', join(sandboxRunDir(), `unit-repo-${process.pid}`), '--password-env', 'UNIT_PW']);
    expect(add.code, add.stderr).toBe(0);
    const r = await cli(['stream', 'unitt', '--install-systemd', '--synchronous']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('# /etc/systemd/system/dbdrill-stream-unitt.service');
    expect(r.stdout).toMatch(/\nExecStart=\S+node \S+main\.js stream unitt --synchronous\n/);
    expect(r.stdout).toContain('Restart=always');
    expect(r.stdout).toContain('KillMode=mixed');
    expect(r.stderr).toContain('reads its password from $UNIT_PW, which systemd does not set');
    expect(r.stderr).toContain('commits on the server wait for this service');
    const dir = join(sandboxRunDir(), `unit-dir-${process.pid}`);
    mkdirSync(dir);
    try {
      const w = await cli(['stream', 'unitt', '--install-systemd', '--apply', '--dir', dir]);
      expect(w.code, w.stderr).toBe(0);
      const unit = readFileSync(join(dir, 'dbdrill-stream-unitt.service'), 'utf8');
      expect(unit).toMatch(/\nExecStart=\S+ \S+ stream unitt\n/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const bad = await cli(['stream', 'unitt', '--apply']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^dbdrill: --apply and --dir go with --install-systemd; usage: dbdrill stream NAME \[--synchronous\]/);
  }, 60_000);
});
