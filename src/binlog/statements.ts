import { EVENT } from './events.js';

/**
 * What the first bytes of a statement event tell about its transaction: the schema it is applied
 * in, and the statement text. mariadb-binlog --database filters by the same schema: a row event by
 * its table map's schema, a statement by the session's default schema (the Query event's).
 *
 *   Query:         thread_id u32 · exec_time u32 · db_len u8 · error_code u16 · status_len u16 ·
 *                  status variables · db · NUL · statement
 *   Annotate_rows: the statement that produced the row events that follow
 *   Table_map:     table_id u48 · flags u16 · db_len u8 · db · NUL · table_len u8 · table · NUL · …
 */
export interface StatementFacts {
  schema?: string;
  sql?: string;
}

export function statementFacts(type: number, body: Buffer): StatementFacts {
  if (type === EVENT.QUERY && body.length >= 13) {
    const dbLen = body[8]!;
    const dbAt = 13 + body.readUInt16LE(11);
    const db = body.subarray(dbAt, dbAt + dbLen).toString('utf8');
    return { ...(db ? { schema: db } : {}), sql: body.subarray(dbAt + dbLen + 1).toString('utf8') };
  }
  if (type === EVENT.ANNOTATE_ROWS) return { sql: body.toString('utf8') };
  if (type === EVENT.TABLE_MAP && body.length >= 9) {
    const dbLen = body[8]!;
    return { schema: body.subarray(9, 9 + dbLen).toString('utf8') };
  }
  return {};
}

/** The transaction markers MariaDB logs as statements of their own: no statement to show. */
export function isTransactionMarker(sql: string): boolean {
  return /^\s*(BEGIN|COMMIT|ROLLBACK|XA (START|END|PREPARE|COMMIT)\b.*)\s*;?\s*$/i.test(sql);
}

const SHORT = 60;

/**
 * A statement for a one-line list: whitespace collapsed, at most 60 characters, and the literals of
 * a statement that sets a password (CREATE USER … IDENTIFIED BY '…', SET PASSWORD, CHANGE MASTER …
 * MASTER_PASSWORD) replaced by '***': the binlog keeps them as written, a screen must not.
 */
export function shortStatement(sql: string): string {
  let s = sql.replace(/\s+/g, ' ').trim().replace(/;$/, '');
  if (/\b(IDENTIFIED|PASSWORD)\b/i.test(s)) s = s.replace(/'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?/g, "'***'");
  return s.length > SHORT ? `${s.slice(0, SHORT - 1)}…` : s;
}
