// Prisma CLI configuration: migrations run on the WASM schema engine through the pg driver
// adapter (7.x under an npm alias: 6.19's adapter fails on Postgres' `name` type), so no
// native engine is downloaded.
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg-7';

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/agentic_sdlc';
// schema.prisma's env("DATABASE_URL") must resolve, or the CLI falls back to downloading a query engine.
process.env.DATABASE_URL ??= DEFAULT_DATABASE_URL;

export default defineConfig({
  engine: 'js',
  experimental: { adapter: true },
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  async adapter() {
    const url = new URL(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
    const schema = url.searchParams.get('schema');
    url.searchParams.delete('schema');
    // `?schema=` is Prisma's convention; pg needs it as the session's search_path too.
    if (schema) url.searchParams.set('options', `-c search_path="${schema}"`);
    return new PrismaPg({ connectionString: url.toString(), idleTimeoutMillis: 50 }, schema ? { schema } : undefined);
  },
});
