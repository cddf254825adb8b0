import { validateRecipients } from '../../config/copies.js';
import { resolveConfigDir } from '../../config/paths.js';
import type { Target } from '../../config/target.js';
import type { ProbeResult } from '../../engines/probe-types.js';
import { usage } from '../../errors.js';
import type { MethodSetup } from '../../engines/contract.js';
import { addTarget, listTargets, methodFiles, removeTarget, showTarget, startAddTarget, startEditTarget, testTarget } from '../../ops/targets.js';
import { interruptSignal } from '../interrupt.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { Output } from '../output.js';
import { table } from '../text-table.js';
import { subcommandsOf, usageLine } from '../command-table.js';
import { closest } from '../suggest.js';
import { engineEntry } from '../../engines/registry.js';

const USAGE = {
  add: usageLine('target', 'add'),
  list: usageLine('target', 'list'),
  show: usageLine('target', 'show'),
  remove: usageLine('target', 'remove'),
  test: usageLine('target', 'test'),
};

export async function targetCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'add':
      return add(rest);
    case 'list':
    case 'ls':
      return list(rest);
    case 'show':
      return show(rest);
    case 'remove':
    case 'rm':
      return remove(rest);
    case 'test':
      return test(rest);
    case 'copy-add':
      return (await import('./copy.js')).copyAddCommand(rest);
    case 'copy-remove':
      return (await import('./copy.js')).copyRemoveCommand(rest);
    case 'edit':
      // --method and its settings are the method's; --encrypt-to is the repository's and its copies'.
      return rest.some((a) => /^--(method|process-max|checkpoint|cipher-pass-file|cipher-pass-env)(=|$)/.test(a)) ? editMethod(rest) : (await import('./copy.js')).targetEditCommand(rest);
    default: {
      const guess = sub === undefined ? undefined : closest(sub, subcommandsOf('target'));
      throw usage(
        sub
          ? `Unknown target command "${sub}"; ${guess ? `did you mean ${guess}?` : 'use add, list, show, remove, test, edit, copy-add or copy-remove.'}`
          : 'A target command is missing; use add, list, show, remove, test, edit, copy-add or copy-remove.',
      );
    }
  }
}

async function add(argv: string[]): Promise<number> {
  const p = parseCommand(
    argv,
    {
      engine: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      user: { type: 'string' },
      dbname: { type: 'string' },
      repo: { type: 'string' },
      'password-env': { type: 'string' },
      'password-file': { type: 'string' },
      rto: { type: 'string' },
      rpo: { type: 'string' },
      method: { type: 'string' },
      'process-max': { type: 'string' },
      checkpoint: { type: 'string' },
      'encrypt-to': { type: 'string', multiple: true },
      'cipher-pass-file': { type: 'string' },
      'cipher-pass-env': { type: 'string' },
    },
    USAGE.add,
  );
  const name = requirePositional(p, 0, 'The target NAME', USAGE.add);
  noExtraPositionals(p, 1, USAGE.add);
  const out = new Output(p.values.json === true);
  const configDir = resolveConfigDir(str(p, 'config'));
  const input = {
    name,
    engine: str(p, 'engine'),
    host: str(p, 'host'),
    port: str(p, 'port'),
    user: str(p, 'user'),
    dbname: str(p, 'dbname'),
    repo: str(p, 'repo'),
    passwordEnv: str(p, 'password-env'),
    passwordFile: str(p, 'password-file'),
    rto: str(p, 'rto'),
    rpo: str(p, 'rpo'),
    method: str(p, 'method'),
    processMax: str(p, 'process-max'),
    checkpoint: str(p, 'checkpoint'),
    // Public keys only, refused otherwise in one sentence naming --encrypt-to.
    ...(p.values['encrypt-to'] ? { encryptTo: validateRecipients(p.values['encrypt-to'] as unknown as string[], '--encrypt-to') } : {}),
    cipherPassFile: str(p, 'cipher-pass-file'),
    cipherPassEnv: str(p, 'cipher-pass-env'),
  };
  if (input.method === undefined) {
    const target = addTarget(configDir, input);
    out.result({ ok: true, target }, `Added target ${target.name} (${target.engine} ${target.host}:${target.port})${target.encryptTo ? `, its repository encrypted with age to ${target.encryptTo.length} recipient(s)` : ''}; check it with: dbdrill target test ${target.name}`);
    return 0;
  }
  // A method with a tool of its own is set up now (conf, stanza), so its first backup can run.
  const job = startAddTarget(configDir, input, interruptSignal());
  out.follow(job);
  const { target, setup } = await job.result;
  out.result({ ok: true, target, setup }, () =>
    [`Added target ${target.name} (${target.engine} ${target.host}:${target.port}, method ${target.method ?? 'native'}).`, ...setupLines(setup)].join('\n'),
  );
  return 0;
}

/** `target edit NAME --method M [--process-max N] [--checkpoint fast|spread]`. */
export async function editMethod(argv: string[]): Promise<number> {
  const u = usageLine('target', 'edit');
  const p = parseCommand(argv, { method: { type: 'string' }, 'process-max': { type: 'string' }, checkpoint: { type: 'string' }, 'cipher-pass-file': { type: 'string' }, 'cipher-pass-env': { type: 'string' } }, u);
  const name = requirePositional(p, 0, 'The target NAME', u);
  noExtraPositionals(p, 1, u);
  const out = new Output(p.values.json === true);
  const configDir = resolveConfigDir(str(p, 'config'));
  const method = str(p, 'method');
  const changes: Record<string, unknown> = {};
  if (method !== undefined) changes.method = method;
  // Settings of the old method go with it; given ones are checked against the new one.
  if (method !== undefined) Object.assign(changes, { processMax: undefined, checkpoint: undefined, cipherPassFile: undefined, cipherPassEnv: undefined });
  if (str(p, 'process-max') !== undefined) changes.processMax = str(p, 'process-max');
  if (str(p, 'checkpoint') !== undefined) changes.checkpoint = str(p, 'checkpoint');
  // The pass comes from one place: naming one source drops the other.
  if (str(p, 'cipher-pass-file') !== undefined) Object.assign(changes, { cipherPassFile: str(p, 'cipher-pass-file'), cipherPassEnv: undefined });
  if (str(p, 'cipher-pass-env') !== undefined) Object.assign(changes, { cipherPassEnv: str(p, 'cipher-pass-env'), cipherPassFile: undefined });
  const job = startEditTarget(configDir, name, changes, interruptSignal());
  out.follow(job);
  const { target, setup } = await job.result;
  out.result({ ok: true, target, setup }, () => [`Target ${target.name} now takes backups with method ${target.method ?? 'native'}.`, ...setupLines(setup)].join('\n'));
  return 0;
}

function setupLines(setup: MethodSetup | undefined): string[] {
  if (!setup) return [];
  return [...setup.notes.map((n) => `  ${n}`), ...setup.files.map((f) => `  wrote ${f.path}`)];
}

function list(argv: string[]): number {
  const p = parseCommand(argv, {}, USAGE.list);
  noExtraPositionals(p, 0, USAGE.list);
  const out = new Output(p.values.json === true);
  const targets = listTargets(resolveConfigDir(str(p, 'config')));
  out.result({ targets }, () =>
    targets.length === 0
      ? 'No targets yet. Add one with: dbdrill target add NAME --engine postgres --host H --port P --user U --dbname D --repo DIR\nor try the training sandbox: dbdrill sandbox start'
      : table(
          ['NAME', 'ENGINE', 'ADDRESS', 'USER', 'DATABASE', 'REPO'],
          targets.map((t) => [t.name, t.engine, `${t.host}:${t.port}`, t.user, t.dbname, t.repo]),
        ),
  );
  return 0;
}

async function show(argv: string[]): Promise<number> {
  const p = parseCommand(argv, {}, USAGE.show);
  const name = requirePositional(p, 0, 'The target NAME', USAGE.show);
  noExtraPositionals(p, 1, USAGE.show);
  const out = new Output(p.values.json === true);
  const target = showTarget(resolveConfigDir(str(p, 'config')), name);
  const { copiesView, copiesText } = await import('../../copies/view.js');
  const copies = copiesView(target);
  const files = await methodFiles(target);
  out.result({ target, copies, ...(files.length ? { files } : {}) }, () =>
    [describe(target), copiesText(copies), ...files.map((f) => `--- ${f.path}\n${f.text.replace(/\n$/, '')}`)].join('\n'),
  );
  return 0;
}

function remove(argv: string[]): number {
  const p = parseCommand(argv, {}, USAGE.remove);
  const name = requirePositional(p, 0, 'The target NAME', USAGE.remove);
  noExtraPositionals(p, 1, USAGE.remove);
  const out = new Output(p.values.json === true);
  const target = removeTarget(resolveConfigDir(str(p, 'config')), name);
  // Removing a target forgets how to reach it; its repository (the backups) stays on disk.
  out.result({ ok: true, removed: target }, `Removed target ${target.name}; its repository ${target.repo} was left untouched.`);
  return 0;
}

async function test(argv: string[]): Promise<number> {
  const p = parseCommand(argv, {}, USAGE.test);
  const name = requirePositional(p, 0, 'The target NAME', USAGE.test);
  noExtraPositionals(p, 1, USAGE.test);
  const out = new Output(p.values.json === true);
  const target = showTarget(resolveConfigDir(str(p, 'config')), name);
  const probe = await testTarget(target);
  out.result({ ok: true, probe }, () => describeProbe(probe));
  return 0;
}

function describe(t: Target): string {
  const rows: [string, string][] = [
    ['name', t.name],
    ['engine', t.engine],
    ['address', `${t.host}:${t.port}`],
    ['user', t.user],
    ['database', t.dbname],
    ['repository', t.repo],
    ['password', t.passwordEnv ? `from $${t.passwordEnv}` : t.passwordFile ? `from file ${t.passwordFile}` : 'none configured'],
    ['rto', t.rto ?? '—'],
    ['rpo', t.rpo ?? '—'],
    ['method', t.method ?? 'native'],
    ...(t.processMax !== undefined ? ([['processes', String(t.processMax)]] as [string, string][]) : []),
    ...(t.checkpoint !== undefined ? ([['checkpoint', t.checkpoint]] as [string, string][]) : []),
    // Where the pass is kept, never the pass.
    ...(t.cipherPassFile !== undefined ? ([['cipher', `aes-256-cbc, pass in file ${t.cipherPassFile}`]] as [string, string][]) : []),
    ...(t.cipherPassEnv !== undefined ? ([['cipher', `aes-256-cbc, pass in $${t.cipherPassEnv}`]] as [string, string][]) : []),
  ];
  return rows.map(([k, v]) => `${k.padEnd(11)}${v}`).join('\n');
}

function describeProbe(p: ProbeResult): string {
  const flavor = p.flavor === 'postgresql' ? 'PostgreSQL' : p.flavor === 'mariadb' ? 'MariaDB' : 'MySQL';
  const lines = [
    `OK   connected to ${p.target} in ${p.connectMs} ms: ${flavor} ${p.serverVersion}`,
    `${p.archiving.enabled ? 'OK  ' : 'WARN'} ${engineEntry(p.engine).archivingWord} ${p.archiving.enabled ? 'on' : 'off'} (${p.archiving.detail})`,
    `     system id ${p.systemId}`,
    ...p.privileges.map((c) => `${c.ok ? 'OK  ' : 'WARN'} ${c.purpose}: ${c.detail}`),
  ];
  return lines.join('\n');
}
