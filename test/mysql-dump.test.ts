import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBinlogInfo, parseCheckpoints, PREPARED_TYPES } from '../src/engines/mysql/backup-info.js';
import { buildDumpArgs, dumpToolTooOld, parseClientVersion, type DumpArgsSpec } from '../src/engines/mysql/dump-args.js';
import { dumpCoordinates, parseDumpHead, parseDumpTail } from '../src/engines/mysql/dump-head.js';
import { DumpFilter, DumpScanner, LineSplitter, parseMarker, type DumpFilterOptions, type LineSink } from '../src/engines/mysql/dump-sections.js';
import { digestSql } from '../src/engines/mysql/table-stats.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

function run(sink: LineSink, input: Buffer, chunk = 1 << 20): void {
  const s = new LineSplitter(sink);
  for (let i = 0; i < input.length; i += chunk) s.push(input.subarray(i, i + chunk));
  s.end();
}

function filter(input: Buffer, opts: DumpFilterOptions, chunk?: number): { out: Buffer; f: DumpFilter } {
  const parts: Buffer[] = [];
  const f = new DumpFilter(opts, (b) => parts.push(Buffer.from(b)));
  run(f, input, chunk);
  return { out: Buffer.concat(parts), f };
}

const spec = (over: Partial<DumpArgsSpec>): DumpArgsSpec => ({
  serverFlavor: 'mariadb',
  serverVersion: '10.11.18',
  toolName: 'mariadb-dump',
  toolFlavor: 'mariadb',
  toolVersion: '10.11.18',
  binlog: true,
  conn: ['--host=db', '--port=3306', '--user=backup', '--protocol=TCP'],
  schema: 'shop',
  resultFile: '/repo/backups/X/dump.sql',
  ...over,
});

describe('client versions', () => {
  it('reads the release, not the protocol version, from --version', () => {
    const [dump, backup] = fixture('mariadb-dump/versions.txt').toString().split('\n');
    expect(parseClientVersion(dump!)).toEqual({ flavor: 'mariadb', version: '10.11.18' });
    expect(parseClientVersion(backup!)).toEqual({ flavor: 'mariadb', version: '10.11.18' });
    expect(parseClientVersion('mariadb-dump from 11.4.2-MariaDB, client 10.19 for debian-linux-gnu (x86_64)')).toEqual({ flavor: 'mariadb', version: '11.4.2' });
    expect(parseClientVersion('mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)')).toEqual({ flavor: 'mysql', version: '8.0.36' });
    expect(parseClientVersion('mysqldump  Ver 10.13 Distrib 5.7.44, for Linux (x86_64)')).toEqual({ flavor: 'mysql', version: '5.7.44' });
    expect(parseClientVersion('nothing here')).toBeUndefined();
  });

  it('refuses a client of the server\'s own flavor older than the server', () => {
    expect(dumpToolTooOld(spec({ toolVersion: '10.6.21' }))).toBe(true);
    expect(dumpToolTooOld(spec({ toolVersion: '10.11.5' }))).toBe(false);
    expect(dumpToolTooOld(spec({ toolVersion: '11.4.2' }))).toBe(false);
    expect(dumpToolTooOld(spec({ serverFlavor: 'mysql', serverVersion: '8.0.36', toolFlavor: 'mysql', toolVersion: '5.7.44' }))).toBe(true);
    expect(dumpToolTooOld(spec({ serverFlavor: 'mysql', serverVersion: '8.0.36' }))).toBe(false);
  });
});

describe('dump argv', () => {
  it('MariaDB with mariadb-dump: one schema, snapshot, coordinates and GTID, no MySQL-only flags', () => {
    expect(buildDumpArgs(spec({}))).toEqual([
      '--host=db', '--port=3306', '--user=backup', '--protocol=TCP',
      '--single-transaction', '--routines', '--events', '--triggers', '--hex-blob', '--default-character-set=utf8mb4', '--no-tablespaces',
      '--master-data=2', '--gtid',
      '--result-file=/repo/backups/X/dump.sql', 'shop',
    ]);
  });

  it('leaves out the coordinates when the server writes no binlog', () => {
    const args = buildDumpArgs(spec({ binlog: false }));
    expect(args).not.toContain('--master-data=2');
    expect(args).not.toContain('--gtid');
  });

  it('MySQL 8.0.26+ gets --source-data=2 and a commented GTID set; older mysqldump --master-data=2', () => {
    const mysql8 = spec({ serverFlavor: 'mysql', serverVersion: '8.0.36', toolName: 'mysqldump', toolFlavor: 'mysql', toolVersion: '8.0.36' });
    const a = buildDumpArgs(mysql8);
    expect(a).toEqual(expect.arrayContaining(['--source-data=2', '--set-gtid-purged=COMMENTED']));
    expect(a).not.toContain('--master-data=2');
    expect(a).not.toContain('--gtid');
    expect(a).not.toContain('--column-statistics=0');
    const b = buildDumpArgs({ ...mysql8, toolVersion: '8.0.25' });
    expect(b).toContain('--master-data=2');
    expect(b).not.toContain('--source-data=2');
    expect(buildDumpArgs({ ...mysql8, serverVersion: '5.7.44', toolVersion: '5.7.44' })).toContain('--set-gtid-purged=OFF');
  });

  it('never sends --column-statistics to MariaDB except to turn it off for mysqldump 8', () => {
    const m8 = buildDumpArgs(spec({ toolName: 'mysqldump', toolFlavor: 'mysql', toolVersion: '8.0.36' }));
    expect(m8).toContain('--column-statistics=0');
    expect(m8).toContain('--set-gtid-purged=OFF');
    expect(m8).not.toContain('--gtid');
    expect(buildDumpArgs(spec({ toolName: 'mysqldump', toolFlavor: 'mysql', toolVersion: '5.7.44' }))).not.toContain('--column-statistics=0');
    // A MariaDB client against MySQL: coordinates, but MariaDB's --gtid would be meaningless there.
    const cross = buildDumpArgs(spec({ serverFlavor: 'mysql', serverVersion: '8.0.36' }));
    expect(cross).toContain('--master-data=2');
    expect(cross).not.toContain('--gtid');
  });
});

describe('dump head and tail (captured mariadb-dump 10.11 output)', () => {
  const head = parseDumpHead(fixture('mariadb-dump/shop-head.sql').toString());
  const tail = parseDumpTail(fixture('mariadb-dump/shop-tail.sql').toString());

  it('reads the tool, schema, server and binlog coordinates from the head', () => {
    expect(head).toEqual({
      tool: 'MariaDB dump 10.19  Distrib 10.11.18-MariaDB, for debian-linux-gnu (x86_64)',
      database: 'shop',
      serverVersion: '10.11.18-MariaDB-0+deb12u1-log',
      binlogFile: 'mysql-bin.000001',
      binlogPosition: 502593,
    });
  });

  it('finds the deferred GTID and the completion line in the tail', () => {
    expect(tail).toEqual({ gtid: '0-1-33', completed: true, completedAt: '2026-11-25 18:10:15' });
    expect(dumpCoordinates(head, tail)).toEqual({ binlogFile: 'mysql-bin.000001', binlogPosition: 502593, gtid: '0-1-33' });
  });

  it('tells a dump that was cut short', () => {
    const cut = fixture('mariadb-dump/shop-tail.sql').toString().split('\n').slice(0, -3).join('\n');
    expect(parseDumpTail(cut).completed).toBe(false);
  });

  it('reads MySQL 8 coordinates and a commented multi-server GTID set', () => {
    const h = parseDumpHead(fixture('mariadb-dump/mysql80-head.sql').toString());
    expect(h).toMatchObject({
      database: 'shop',
      serverVersion: '8.0.36',
      binlogFile: 'binlog.000042',
      binlogPosition: 157,
      gtid: 'a3682473-d901-11ee-9446-567b0e29bc8b:1-447,da0279d4-cdac-11ee-a636-b64a489e42e6:1-475',
    });
    expect(parseDumpHead("CHANGE MASTER '' TO MASTER_LOG_FILE='m.000003', MASTER_LOG_POS=42;")).toMatchObject({ binlogFile: 'm.000003', binlogPosition: 42 });
  });
});

describe('dump sections', () => {
  const rt = fixture('mariadb-dump/rt-full.sql');

  it('recognises section markers, backquotes included', () => {
    expect(parseMarker('-- Table structure for table `customers`')).toEqual({ kind: 'table-structure', name: 'customers' });
    expect(parseMarker('-- Dumping data for table `we``ird`')).toEqual({ kind: 'table-data', name: 'we`ird' });
    expect(parseMarker('-- Final view structure for view `vv`')).toEqual({ kind: 'view-final', name: 'vv' });
    expect(parseMarker("-- Dumping routines for database 'rt'")).toEqual({ kind: 'routines', schema: 'rt' });
    expect(parseMarker("(1,'-- Table structure for table `x`'),")).toBeUndefined();
  });

  it('scans a whole dump: tables, views, lines naming the schema, enabled events, completion', () => {
    const s = new DumpScanner('rt');
    run(s, rt, 777);
    expect(s.result()).toEqual({
      tables: [{ name: 't', structure: true, data: true }],
      views: ['vv'],
      alterSchemaLines: 6,
      enabledEvents: 1,
      completed: true,
      bytes: rt.length,
    });
  });

  it('keeps only the head and one table (with its trigger), renaming the schema', () => {
    const { out, f } = filter(rt, { table: 't', renameSchema: { from: 'rt', to: 'rt_new' } });
    const text = out.toString();
    expect(text).toContain('CREATE TABLE `t`');
    expect(text).toContain('INSERT INTO `t` VALUES');
    expect(text).toContain('TRIGGER trg BEFORE INSERT ON t');
    expect(text).toContain('/*!40101 SET NAMES utf8mb4 */;');
    expect(text).not.toContain('VIEW `vv`');
    expect(text).not.toContain('PROCEDURE');
    expect(text).not.toContain('EVENT `e`');
    expect(text).not.toMatch(/ALTER DATABASE `rt`/);
    expect(text).toMatch(/^ALTER DATABASE `rt_new` CHARACTER SET latin1 COLLATE latin1_swedish_ci ;$/m);
    expect(f.renamed).toBe(2);
    expect([...f.tablesSeen]).toEqual(['t']);
  });

  it('passes a whole dump through byte for byte except the rewritten lines, at any chunk size', () => {
    const { out, f } = filter(rt, { renameSchema: { from: 'rt', to: 'x' }, disableEvents: true }, 13);
    expect(f.renamed).toBe(6);
    expect(f.eventsDisabled).toBe(1);
    const a = rt.toString().split('\n');
    const b = out.toString().split('\n');
    expect(b.length).toBe(a.length);
    const changed = a.map((l, i) => [l, b[i]!] as const).filter(([x, y]) => x !== y);
    expect(changed.length).toBe(7);
    for (const [x, y] of changed) {
      expect(y).toBe(x.replace('ALTER DATABASE `rt`', 'ALTER DATABASE `x`').replace(' PRESERVE ENABLE DO ', ' PRESERVE DISABLE DO '));
    }
    expect(filter(rt, {}).out.equals(rt)).toBe(true);
  });

  it('streams lines longer than its buffer without holding them, kept or dropped', () => {
    const big = `INSERT INTO \`a\` VALUES (1,'${'x'.repeat(100_000)}');\n`;
    const dump = Buffer.from(
      `-- head\n--\n-- Table structure for table \`a\`\n--\nCREATE TABLE a (v text);\n${big}--\n-- Table structure for table \`b\`\n--\n${big.replace('`a`', '`b`')}-- Dump completed on 2026-01-01\n`,
    );
    const onlyB = filter(dump, { table: 'b' }, 4096).out.toString();
    expect(onlyB).toContain(big.replace('`a`', '`b`'));
    expect(onlyB).not.toContain('INSERT INTO `a`');
    expect(filter(dump, {}, 999).out.equals(dump)).toBe(true);
    const s = new DumpScanner();
    run(s, dump, 1000);
    expect(s.result()).toMatchObject({ completed: true, bytes: dump.length, tables: [{ name: 'a', structure: true, data: false }, { name: 'b', structure: true, data: false }] });
  });
});

describe('table digest and mariadb-backup files', () => {
  it('digests every column unambiguously and quotes names', () => {
    expect(digestSql('s`x', { name: 't', columns: ['id', 'na`me'] })).toBe(
      "SELECT COUNT(*) AS n, COALESCE(SUM(CAST(CONV(LEFT(MD5(CONCAT_WS(',', QUOTE(CAST(`id` AS BINARY)), QUOTE(CAST(`na``me` AS BINARY)))), 16), 16, 10) AS UNSIGNED)), 0) AS d FROM `s``x`.`t`",
    );
  });

  it('reads the binlog position and the prepared state a mariadb-backup wrote', () => {
    expect(parseBinlogInfo(fixture('mariadb-backup/xtrabackup_binlog_info').toString())).toEqual({ binlogFile: 'mysql-bin.000001', binlogPosition: 1169460, gtid: '0-1-99' });
    expect(parseBinlogInfo('mysql-bin.000007\t4\n')).toEqual({ binlogFile: 'mysql-bin.000007', binlogPosition: 4 });
    const cp = parseCheckpoints(fixture('mariadb-backup/xtrabackup_checkpoints').toString());
    expect(cp.backup_type).toBe('log-applied');
    expect(PREPARED_TYPES.has(cp.backup_type!)).toBe(true);
    expect(PREPARED_TYPES.has('full-backuped')).toBe(false);
  });
});
