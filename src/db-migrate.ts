// `npm run db:migrate`: creates the database if missing and applies pending migrations.
import { loadConfig } from './config.js';
import { describeDatabaseUrl } from './infra/db/connection-url.js';
import { checkPostgres, migrateDatabase } from './infra/boot/boot-checks.js';
import { runMain } from './lifecycle/process.js';

runMain(async () => {
  const { DATABASE_URL } = loadConfig();
  await checkPostgres(DATABASE_URL);
  const applied = await migrateDatabase(DATABASE_URL);
  console.log(
    applied.length > 0
      ? `Applied ${applied.length} migration(s) to ${describeDatabaseUrl(DATABASE_URL)}: ${applied.join(', ')}`
      : `${describeDatabaseUrl(DATABASE_URL)} is up to date.`,
  );
});
