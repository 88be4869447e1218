// Turns a DATABASE_URL (Prisma's `?schema=` convention) into what pg needs.

export interface PgConnection {
  connectionString: string;
  database: string;
  schema: string | undefined;
}

/** Moves `?schema=` into the session's search_path so raw SQL sees the same tables. */
export function toPgConnection(databaseUrl: string): PgConnection {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  if (schema) url.searchParams.set('options', `-c search_path="${schema}"`);
  return { connectionString: url.toString(), database: decodeURIComponent(url.pathname.slice(1)), schema };
}

/**
 * The same server's maintenance database, for CREATE DATABASE. Connection parameters (sslmode,
 * certificates, timeouts) are kept: a server that requires TLS refuses the connection without them.
 */
export function maintenanceUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  url.searchParams.delete('schema');
  return url.toString();
}

/** host:port/database, without credentials, for messages. */
export function describeDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
}
