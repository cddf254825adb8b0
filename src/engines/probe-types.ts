import type { Engine } from '../config/target.js';

/** What `dbdrill target test` learns about a server. */
export interface ProbeResult {
  target: string;
  engine: Engine;
  serverVersion: string;
  /** Major version used to pick matching client tools (PostgreSQL 15 -> 15, MariaDB 10.11 -> 10). */
  serverMajor: number;
  flavor: 'postgresql' | 'mariadb' | 'mysql';
  /** PostgreSQL system identifier or MySQL server_uuid/server_id: ties a repository to its server. */
  systemId: string;
  archiving: { enabled: boolean; detail: string };
  privileges: PrivilegeCheck[];
  connectMs: number;
}

export interface PrivilegeCheck {
  /** What the privilege is needed for, e.g. "logical backup". */
  purpose: string;
  ok: boolean;
  detail: string;
}
