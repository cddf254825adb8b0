import { chmodSync, existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { TargetStore } from '../config/store.js';
import { invalid } from '../errors.js';
import { writeFileAtomic } from '../repo/atomic.js';
import { cliEntry } from '../wal/command.js';
import { ENV_FILE, unitArg } from './schedule-install.js';

export interface StreamUnit {
  dir: string;
  name: string;
  content: string;
  warnings: string[];
  written?: string;
}

const DEFAULT_DIR = '/etc/systemd/system';

/**
 * The systemd service that keeps `dbdrill stream NAME` running. KillMode=mixed: SIGTERM goes to
 * dbdrill alone, which stops pg_receivewal itself (SIGINT: it flushes what it has); whatever is
 * left after TimeoutStopSec is killed. Restart=always covers a server that is down at start.
 */
export function streamUnit(configDir: string, name: string, synchronous: boolean, dir = DEFAULT_DIR): StreamUnit {
  const target = new TargetStore(configDir).get(name);
  const warnings = target.passwordEnv
    ? [`Target "${name}" reads its password from $${target.passwordEnv}, which systemd does not set; put ${target.passwordEnv}=… in ${ENV_FILE} (mode 0600) or give the target a --password-file.`]
    : [];
  if (synchronous) warnings.push('With --synchronous, commits on the server wait for this service: while it is stopped, they hang (README "Streaming WAL").');
  const content = [
    '[Unit]',
    `Description=dbdrill stream ${name}: WAL streamed into its repository (pg_receivewal)`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${userInfo().username}`,
    `Environment=DBDRILL_CONFIG_DIR=${unitArg(configDir)}`,
    `EnvironmentFile=-${ENV_FILE}`,
    `ExecStart=${unitArg(process.execPath)} ${unitArg(cliEntry())} stream ${unitArg(name)}${synchronous ? ' --synchronous' : ''}`,
    'Restart=always',
    'RestartSec=5',
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
  return { dir, name: `dbdrill-stream-${name}.service`, content, warnings };
}

/** Writes the unit (as root into /etc/systemd/system, or into the directory given). */
export function installStreamUnit(configDir: string, name: string, synchronous: boolean, dir?: string): StreamUnit {
  const unit = streamUnit(configDir, name, synchronous, dir);
  if (dir === undefined && process.getuid?.() !== 0) {
    throw invalid(`Installing into ${unit.dir} needs root; run it as root, or leave out --apply and install the printed unit yourself.`);
  }
  if (!existsSync(unit.dir)) throw invalid(`${unit.dir} does not exist; is systemd installed? Give another directory with --dir.`);
  const path = join(unit.dir, unit.name);
  writeFileAtomic(path, unit.content, 0o644);
  chmodSync(path, 0o644);
  unit.written = path;
  return unit;
}
