import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/sandbox/ports.js';

/**
 * A real OpenSSH server of a test's own on 127.0.0.1: its own host key, a free port, key auth
 * only (an authorized key made for the test), internal-sftp. Nothing of the machine's own sshd
 * (config, keys, port 22) is used. stop() ends it and removes its directory.
 */
export class TestSshd {
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly user: string,
    readonly clientKey: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<TestSshd> {
    const dir = mkdtempSync(join(tmpdir(), 'dbdrill-sshd-'));
    const port = await freePort();
    const hostKey = join(dir, 'host_ed25519');
    const clientKey = join(dir, 'client_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`), { mode: 0o600 });
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        // The key files live under /tmp, which is world-writable: strict modes would refuse them.
        'StrictModes no',
        'UsePAM no',
        'Subsystem sftp internal-sftp',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    // sshd refuses to start without its privilege separation directory (Debian makes it at boot).
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`test sshd did not start on port ${port}: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return new TestSshd(dir, port, userInfo().username, clientKey, child);
  }

  /** An rclone config file with one sftp remote `name` reaching this server. */
  rcloneConfig(name: string): string {
    const file = join(this.dir, `rclone-${name}.conf`);
    writeFileSync(file, [`[${name}]`, 'type = sftp', 'host = 127.0.0.1', `port = ${this.port}`, `user = ${this.user}`, `key_file = ${this.clientKey}`, 'shell_type = unix', ''].join('\n'), { mode: 0o600 });
    return file;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      done(true);
    });
    s.on('error', () => done(false));
  });
}
