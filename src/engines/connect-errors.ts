import { DbdrillError } from '../errors.js';
import type { Target } from '../config/target.js';

/**
 * Turns a driver's connection error into one sentence an operator can act on. Both drivers report
 * network failures with Node's errno codes; authentication failures differ per engine and are
 * recognised by the caller.
 */
export function connectError(target: Target, e: unknown, timeoutMs: number, authFailed: boolean): DbdrillError {
  const where = `${target.host}:${target.port}`;
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  if (authFailed) {
    const how = target.passwordEnv
      ? `check the password in $${target.passwordEnv}`
      : target.passwordFile
        ? `check the password in ${target.passwordFile}`
        : 'give one with --password-env VAR';
    return new DbdrillError('auth-failed', `${target.host}:${target.port} refused user "${target.user}" (wrong password or no access); ${how}.`, {
      target: target.name,
    });
  }
  if (code === 'ECONNREFUSED') {
    return new DbdrillError('unreachable', `Nothing accepts connections at ${where} (connection refused); check that the server runs there or fix the target's --host/--port.`, { target: target.name });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new DbdrillError('unreachable', `The host name "${target.host}" does not resolve; fix the target's --host.`, { target: target.name });
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new DbdrillError('unreachable', `${where} cannot be reached from this machine (${code}); check the network path or the target's --host.`, { target: target.name });
  }
  if (code === 'ETIMEDOUT' || /timeout|timed out/i.test(err.message ?? '')) {
    return new DbdrillError('unreachable', `${where} did not answer within ${Math.round(timeoutMs / 1000)} s; check the host, port and firewall, or that it is really a ${target.engine === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB'} server.`, { target: target.name });
  }
  return new DbdrillError('unreachable', `Could not connect to ${where}: ${err.message ?? String(e)}.`, { target: target.name });
}
