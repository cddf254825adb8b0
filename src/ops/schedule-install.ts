import { chmodSync, existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { TargetStore } from '../config/store.js';
import { invalid } from '../errors.js';
import { writeFileAtomic } from '../repo/atomic.js';
import { runTool } from '../runner/run.js';
import { searchPath } from '../runner/path-lookup.js';
import { cliEntry } from '../wal/command.js';

/**
 * What makes `dbdrill tick` run every minute: a cron.d file, or a systemd service + timer. Printed
 * by default; with apply, written (as root, or into a directory given) and, for systemd on a host
 * running it, enabled.
 */
export type Scheduler = 'cron' | 'systemd';

export interface ScheduleUnits {
  scheduler: Scheduler;
  dir: string;
  files: { name: string; content: string }[];
  /** Sentences the operator should act on (passwords from environment variables cron does not set). */
  warnings: string[];
  applied?: { written: string[]; enabled?: boolean; note?: string };
}

const DEFAULT_DIR: Record<Scheduler, string> = { cron: '/etc/cron.d', systemd: '/etc/systemd/system' };
export const ENV_FILE = '/etc/dbdrill/tick.env';
const LOG = '/var/log/dbdrill-tick.log';

function sh(s: string): string {
  return /^[A-Za-z0-9_./=:@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** systemd quotes with double quotes, and expands % specifiers (doubled to stay literal). */
export function unitArg(s: string): string {
  const q = /^[A-Za-z0-9_./=:@-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`;
  return q.replace(/%/g, '%%');
}

export function scheduleUnits(configDir: string, scheduler: Scheduler, dir = DEFAULT_DIR[scheduler]): ScheduleUnits {
  const node = process.execPath;
  const entry = cliEntry();
  const user = userInfo().username;
  const warnings = new TargetStore(configDir)
    .list()
    .filter((t) => t.passwordEnv)
    .map((t) =>
      scheduler === 'cron'
        ? `Target "${t.name}" reads its password from $${t.passwordEnv}, which cron does not set; give the target a --password-file instead.`
        : `Target "${t.name}" reads its password from $${t.passwordEnv}, which systemd does not set; put ${t.passwordEnv}=… in ${ENV_FILE} (mode 0600) or give the target a --password-file.`,
    );
  if (scheduler === 'cron') {
    const content = [
      '# dbdrill: every minute, run what each target\'s policy has due (dbdrill tick); it returns at once',
      '# and each target\'s jobs run in a child of their own, logged in <repo>/runs/.',
      'SHELL=/bin/sh',
      `DBDRILL_CONFIG_DIR=${configDir}`,
      `* * * * * ${user} ${sh(node)} ${sh(entry)} tick --json >>${LOG} 2>&1`,
      '',
    ].join('\n');
    return { scheduler, dir, files: [{ name: 'dbdrill', content }], warnings };
  }
  const service = [
    '[Unit]',
    "Description=dbdrill tick: run what each target's policy has due",
    '',
    '[Service]',
    'Type=oneshot',
    `User=${user}`,
    `Environment=DBDRILL_CONFIG_DIR=${unitArg(configDir)}`,
    `EnvironmentFile=-${ENV_FILE}`,
    `ExecStart=${unitArg(node)} ${unitArg(entry)} tick --json`,
    '',
  ].join('\n');
  const timer = [
    '[Unit]',
    'Description=Run dbdrill tick every minute',
    '',
    '[Timer]',
    'OnCalendar=*-*-* *:*:00',
    'AccuracySec=1s',
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return { scheduler, dir, files: [{ name: 'dbdrill-tick.service', content: service }, { name: 'dbdrill-tick.timer', content: timer }], warnings };
}

export async function installSchedule(configDir: string, scheduler: Scheduler, dir?: string): Promise<ScheduleUnits> {
  const units = scheduleUnits(configDir, scheduler, dir);
  if (dir === undefined && process.getuid?.() !== 0) {
    throw invalid(`Installing into ${units.dir} needs root; run it as root, or leave out --apply and install the printed ${scheduler === 'cron' ? 'line' : 'units'} yourself.`);
  }
  if (!existsSync(units.dir)) throw invalid(`${units.dir} does not exist; is ${scheduler} installed? Give another directory with --dir.`);
  const written: string[] = [];
  for (const f of units.files) {
    const path = join(units.dir, f.name);
    // cron.d files and units must be readable by cron/systemd, not private like dbdrill's own files.
    writeFileAtomic(path, f.content, 0o644);
    chmodSync(path, 0o644);
    written.push(path);
  }
  units.applied = { written };
  if (scheduler === 'systemd') {
    const systemctl = searchPath('systemctl');
    if (dir === undefined && systemctl && existsSync('/run/systemd/system')) {
      await runTool({ tool: systemctl, args: ['daemon-reload'] });
      await runTool({ tool: systemctl, args: ['enable', '--now', 'dbdrill-tick.timer'] });
      units.applied.enabled = true;
    } else {
      units.applied.note = 'systemd is not running here (or the units went to another directory); enable them with: systemctl daemon-reload && systemctl enable --now dbdrill-tick.timer';
    }
  }
  return units;
}
