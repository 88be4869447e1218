// Holds a table locked (ACCESS EXCLUSIVE, in an open transaction on a connection of its own) so
// that every statement on it waits: with a short DATABASE_STATEMENT_TIMEOUT_MS, Postgres cancels
// them, which is a real statement timeout without a sleep in the code under test.
import pg from 'pg';
import { toPgConnection } from '../../src/infra/db/connection-url.js';

export interface TableLock {
  /** Rolls the transaction back (the lock goes with it) and closes the connection; a second call does nothing. */
  release(): Promise<void>;
}

export async function lockTable(databaseUrl: string, table: string): Promise<TableLock> {
  const client = new pg.Client({ connectionString: toPgConnection(databaseUrl).connectionString });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
  } catch (error) {
    await client.end();
    throw error;
  }
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= client
        .query('ROLLBACK')
        .then(() => undefined)
        .finally(() => client.end());
      return released;
    },
  };
}
