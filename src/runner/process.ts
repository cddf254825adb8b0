import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * Looking at and signalling processes that dbdrill started earlier, possibly from another
 * process (`dbdrill sandbox stop` after `dbdrill sandbox start` has exited). Linux /proc is used
 * where it adds safety (zombies, process groups, command lines); elsewhere the answers degrade to
 * what kill(pid, 0) can tell.
 */

export type Signal = 'SIGTERM' | 'SIGKILL' | 'SIGINT' | 'SIGQUIT' | 'SIGHUP';

/** State letter ("R", "S", "Z", ...), parent pid and process group from /proc/<pid>/stat; undefined without /proc. */
function procStat(pid: number): { state: string; ppid: number; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', ppid: Number(rest[1]), pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

/**
 * True while the process exists and is not a zombie. A daemon whose parent has exited is
 * re-parented to PID 1, which in a container often never reaps it: kill(pid, 0) would call that
 * zombie alive forever.
 */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const st = procStat(pid);
  return st === undefined ? true : st.state !== 'Z' && st.state !== 'X';
}

/**
 * Who a pid is, beyond its number: the boot it lives in and the clock tick it started at
 * (/proc/<pid>/stat field 22). A pid written down before a reboot or a wrap-around can belong to
 * an unrelated process later; its token then differs. Undefined without /proc or once it is gone.
 */
export function processStartToken(pid: number): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return ticks ? `${boot}/${ticks}` : undefined;
  } catch {
    return undefined;
  }
}

/** The process's argv joined by spaces, or undefined when it is gone or unreadable. */
export function commandLine(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

/**
 * Guards against pid reuse: a pid written down hours ago may now belong to an unrelated process.
 * Only where /proc is missing is a live pid taken on trust.
 */
export function pidMatches(pid: number, needle: string): boolean {
  if (!isPidAlive(pid)) return false;
  const cmd = commandLine(pid);
  if (cmd === undefined) return procStat(pid) === undefined;
  if (cmd.includes(needle)) return true;
  // PostgreSQL rewrites its children's titles; their working directory still gives them away.
  return workingDir(pid)?.startsWith(needle) ?? false;
}

export function workingDir(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/**
 * Sends a signal; with `tree`, to every descendant as well. PostgreSQL's children each call
 * setsid(), so signalling the postmaster's process group would miss them; their parent pid does
 * not lie. Returns false when the process was already gone.
 */
export function signalProcess(pid: number, signal: Signal, opts: { tree?: boolean } = {}): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // Collected first: once the parent dies its children are re-parented and untraceable.
  const others = opts.tree ? descendants(pid) : [];
  let found = send(pid, signal);
  for (const child of others) found = send(child, signal) || found;
  return found;
}

function send(pid: number, signal: Signal): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/**
 * Signals a whole process group: a tool started by src/runner leads its own group, and the
 * helpers it forks stay in it even after the tool itself has exited. False when no member is left.
 */
export function signalGroup(pgid: number, signal: Signal): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    // ESRCH: the group is gone already, nothing is left to signal.
    return false;
  }
}

/** Live (not zombie) members of a process group (Linux /proc; empty elsewhere). */
export function groupMembers(pgid: number): number[] {
  return allPids().filter((p) => {
    const st = procStat(p);
    return st !== undefined && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X';
  });
}

/** Children, grandchildren, ... of a process (Linux /proc; empty elsewhere). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of allPids()) {
    const st = procStat(p);
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(p);
    else children.set(st.ppid, [p]);
  }
  const out: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length > 0) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

function allPids(): number[] {
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return [];
  }
}

/** Polls until the pid is gone; true when it went within the time. */
export async function waitForPidExit(pid: number, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isPidAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return true;
}

export interface ProcessEntry {
  pid: number;
  /** Short name from /proc/<pid>/comm (postgres, mariadbd). */
  name: string;
  commandLine: string;
  cwd: string | undefined;
}

/** Every live process on this host (Linux only; empty elsewhere). */
export function listProcesses(): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const pid of allPids()) {
    if (!isPidAlive(pid)) continue;
    let name: string;
    try {
      name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    out.push({ pid, name, commandLine: commandLine(pid) ?? '', cwd: workingDir(pid) });
  }
  return out;
}
