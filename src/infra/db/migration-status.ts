// Whether the database's migrations are current: the migration folders in prisma/migrations
// (read once) compared with `_prisma_migrations`. Used by the boot check and the readiness probe.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../../prisma/migrations', import.meta.url));
const APPLIED_SQL = 'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL';
/** Postgres `undefined_table`: no `_prisma_migrations` yet, so nothing is applied. */
const UNDEFINED_TABLE = '42P01';

/** Runs one SQL statement without parameters: a pg `Pool` or `Client` fits. */
export interface MigrationQuery {
  query(text: string): Promise<{ rows: { migration_name: string }[] }>;
}

let expected: readonly string[] | undefined;

/** The migration names the code expects (the folders of prisma/migrations, sorted); read on first use. */
export function expectedMigrations(): readonly string[] {
  expected ??= readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return expected;
}

/** The expected migrations the database has not applied (all of them when `_prisma_migrations` is missing). */
export async function readPendingMigrations(db: MigrationQuery): Promise<string[]> {
  const all = expectedMigrations();
  try {
    const { rows } = await db.query(APPLIED_SQL);
    const done = new Set(rows.map((row) => row.migration_name));
    return all.filter((name) => !done.has(name));
  } catch (error) {
    if ((error as { code?: string }).code === UNDEFINED_TABLE) return [...all];
    throw error;
  }
}

/**
 * A readiness check that fails while migrations are pending, naming them
 * ("2 migration(s) not applied: a, b"). Once it has seen them current it answers at once without
 * a query: applied migrations are not un-applied under a running process.
 */
export function createMigrationsCheck(db: MigrationQuery): () => Promise<void> {
  let current = false;
  return async function checkMigrations() {
    if (current) return;
    const pending = await readPendingMigrations(db);
    if (pending.length > 0) throw new Error(`${pending.length} migration(s) not applied: ${pending.join(', ')}`);
    current = true;
  };
}
