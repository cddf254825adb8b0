import pg from 'pg';

const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

/**
 * The first column of the first row of a target's own check query (NULL when there is none).
 * Timestamps come back as the server's text: node-pg would read a timestamp without time zone in
 * this process's local zone, while the text says what the server holds (timestamptz with its
 * offset), and the check's condition decides how to read it.
 */
export async function checkValue(client: pg.Client, sql: string): Promise<unknown> {
  const { rows } = await client.query({
    text: sql,
    rowMode: 'array',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === TIMESTAMP || oid === TIMESTAMPTZ ? (v: string) => v : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  return (rows[0] as unknown[] | undefined)?.[0] ?? null;
}
