import { createConnection, createServer } from 'node:net';
import { DbdrillError } from '../errors.js';

export const SANDBOX_HOST = '127.0.0.1';

/**
 * A port the kernel says is free right now. Another process can take it before the server binds
 * it (parallel test workers do), so the callers retry the start on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host: SANDBOX_HOST, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Whether 127.0.0.1:port can be bound now. */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ host: SANDBOX_HOST, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function isAccepting(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: SANDBOX_HOST, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export function validatePort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DbdrillError('invalid-input', `Port ${port} is not a valid TCP port; choose a whole number from 1 to 65535.`, { port });
  }
}

export function portBusy(engineLabel: string, port: number): DbdrillError {
  return new DbdrillError(
    'sandbox',
    `The ${engineLabel} sandbox cannot use port ${port} because another process is already listening on ${SANDBOX_HOST}:${port}; choose another port or leave it out to pick a free one.`,
    { port },
  );
}
