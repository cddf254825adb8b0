import type { Target } from '../config/target.js';
import type { SandboxInfo } from './index.js';

/** A target that points at a sandbox instance. The password stays in memory unless a file is given. */
export function sandboxTarget(info: SandboxInfo, name: string, repo: string, passwordFile?: string): Target {
  const t: Target = {
    name,
    engine: info.engine,
    host: info.host,
    port: info.port,
    user: info.user,
    dbname: info.dbname,
    repo,
    sandbox: true,
  };
  if (passwordFile) t.passwordFile = passwordFile;
  else t.password = info.password;
  return t;
}
