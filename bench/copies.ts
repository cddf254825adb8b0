/**
 * Copy throughput (issue 17): `dbdrill copy` of a synthetic repository (one backup of 2 x 96 MB
 * random files plus 8 x 16 MB WAL-sized files) to a local directory and through rclone to SFTP on
 * a throw-away sshd, against `cp -a` + sync and `rclone copy` of the same files; and the cost of
 * age encryption (dbdrill copy to an encrypted copy against `age -e` of each file by hand).
 */
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Repository } from '../src/repo/repository.js';
import { sha256File } from '../src/repo/checksum.js';
import { freePort } from '../src/sandbox/ports.js';
import { dbdrill, mb, mustRun, printTable, ratio, rmTemp, secs, tempDir, timeIt, note } from './util.js';

const BACKUP_FILES = 2;
const BACKUP_MB = 96;
const WAL_FILES = 8;

async function makeRepo(root: string): Promise<number> {
  const repo = new Repository(root);
  repo.ensure({ name: 'bc', engine: 'postgres' });
  const id = '20261201T000000Z-F';
  const dir = repo.backupDir(id);
  mkdirSync(join(dir, 'base'), { recursive: true });
  const files = [];
  let total = 0;
  for (let i = 0; i < BACKUP_FILES; i++) {
    const rel = `base/part${i}.tar`;
    writeFileSync(join(dir, rel), randomBytes(BACKUP_MB * 1048576));
    const s = await sha256File(join(dir, rel));
    files.push({ path: rel, bytes: s.bytes, sha256: s.sha256 });
    total += s.bytes;
  }
  const now = new Date().toISOString();
  repo.writeManifest({ formatVersion: 1, id, target: 'bc', engine: 'postgres', kind: 'physical', type: 'full', status: 'complete', tool: { name: 'bench', version: '1', argv: [] }, serverVersion: '15.0', startedAt: now, finishedAt: now, sizeBytes: total, files } as never);
  mkdirSync(join(root, 'wal', '00000001'), { recursive: true });
  for (let i = 0; i < WAL_FILES; i++) {
    writeFileSync(join(root, 'wal', '00000001', `0000000100000000000000${(i + 1).toString(16).toUpperCase().padStart(2, '0')}.dbw`), randomBytes(16 * 1048576));
    total += 16 * 1048576;
  }
  return total;
}

async function startSshd(dir: string): Promise<{ conf: string; stop: () => void } | undefined> {
  if (!existsSync('/usr/sbin/sshd')) return undefined;
  const port = await freePort();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client')]);
  writeFileSync(join(dir, 'ak'), readFileSync(join(dir, 'client.pub')));
  writeFileSync(join(dir, 'sshd_config'), `Port ${port}\nListenAddress 127.0.0.1\nHostKey ${join(dir, 'host')}\nPidFile ${join(dir, 'pid')}\nAuthorizedKeysFile ${join(dir, 'ak')}\nPasswordAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nSubsystem sftp internal-sftp\nLogLevel ERROR\n`);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const conf = join(dir, 'rclone.conf');
  writeFileSync(conf, `[bsftp]\ntype = sftp\nhost = 127.0.0.1\nport = ${port}\nuser = ${process.env.USER ?? 'root'}\nkey_file = ${join(dir, 'client')}\nshell_type = unix\n`);
  return { conf, stop: () => child.kill('SIGTERM') };
}

export async function run(): Promise<void> {
  const work = tempDir('copies');
  let sshd: { conf: string; stop: () => void } | undefined;
  try {
    const repo = join(work, 'repo');
    const total = await makeRepo(repo);
    const cfg = join(work, 'config');
    const env = { DBDRILL_CONFIG_DIR: cfg };
    await mustRun(process.execPath, [join(import.meta.dirname, '../src/cli/main.js'), 'target', 'add', 'bc', '--engine', 'postgres', '--repo', repo], { env: { ...process.env, ...env } });
    const rows: string[][] = [];

    const cpDest = join(work, 'cp');
    const cp = await timeIt(() => mustRun('sh', ['-c', `cp -a ${repo} ${cpDest} && sync`]));
    const local = join(work, 'local');
    mkdirSync(local);
    await dbdrill(['target', 'copy-add', 'bc', 'disk', '--dest', local], env);
    const d = await timeIt(() => dbdrill(['copy', 'bc', '--to', 'disk', '--json'], env));
    if (d.value.code !== 0) throw new Error(d.value.stderr);
    rows.push(['local dir', mb(total), `cp -a + sync ${secs(cp.ms)}`, secs(d.ms), ratio(d.ms, cp.ms), 'read back + sha256']);

    const again = await timeIt(() => dbdrill(['copy', 'bc', '--to', 'disk', '--json'], env));
    rows.push(['again (nothing missing)', '0 MB', '—', secs(again.ms), '—', 'record only']);

    sshd = await startSshd(join(work, 'sshd'));
    if (sshd) {
      const raw = join(work, 'sftp-raw');
      const rc = await timeIt(() => mustRun('rclone', ['--config', sshd!.conf, 'copy', repo, `bsftp:${raw}`]));
      await dbdrill(['target', 'copy-add', 'bc', 'sftp', '--dest', `bsftp:${join(work, 'sftp')}`, '--rclone-config', sshd.conf], env);
      const s = await timeIt(() => dbdrill(['copy', 'bc', '--to', 'sftp', '--json'], env));
      if (s.value.code !== 0) throw new Error(s.value.stderr);
      const by = (JSON.parse(s.value.stdout) as { copies: { verifiedBy: string }[] }).copies[0]!.verifiedBy;
      rows.push(['SFTP (rclone)', mb(total), `rclone copy ${secs(rc.ms)}`, secs(s.ms), ratio(s.ms, rc.ms), `sha256 by ${by}`]);
    } else note('no /usr/sbin/sshd: the SFTP row is skipped (scripts/ensure-deps.sh installs openssh-server)');

    const key = join(work, 'id.txt');
    execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', key]).toString().trim();
    const byHand = join(work, 'age-by-hand');
    const ah = await timeIt(() => mustRun('sh', ['-c', `cd ${repo} && find . -type f | while read f; do mkdir -p ${byHand}/$(dirname "$f"); age -e -r ${recipient} -o ${byHand}/"$f".age "$f"; done; sync`]));
    const sealed = join(work, 'sealed');
    mkdirSync(sealed);
    await dbdrill(['target', 'edit', 'bc', '--encrypt-to', recipient], env);
    await dbdrill(['target', 'copy-add', 'bc', 'sealed', '--dest', sealed], env);
    const e = await timeIt(() => dbdrill(['copy', 'bc', '--to', 'sealed', '--json'], env));
    if (e.value.code !== 0) throw new Error(e.value.stderr);
    rows.push(['local dir, age', mb(total), `age -e per file ${secs(ah.ms)}`, secs(e.ms), ratio(e.ms, ah.ms), 'sha256 plain + ciphertext, read back']);

    printTable('copy throughput (dbdrill copy against the raw tool)', ['copy', 'size', 'raw', 'dbdrill', 'ratio', 'checks'], rows);
  } finally {
    sshd?.stop();
    rmTemp(work);
  }
}
