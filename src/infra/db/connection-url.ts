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
  const connectionString = schema ? withSessionSetting(url.toString(), `search_path="${schema}"`) : url.toString();
  return { connectionString, database: decodeURIComponent(url.pathname.slice(1)), schema };
}

/**
 * Adds `-c name=value` to the connection's `options` (settings the server applies to the session
 * at startup), after any the URL already carries.
 */
export function withSessionSetting(connectionString: string, setting: string): string {
  const url = new URL(connectionString);
  url.searchParams.set('options', [url.searchParams.get('options'), `-c ${setting}`].filter(Boolean).join(' '));
  return url.toString();
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

/** host:port/database, and the schema ?schema= names, without credentials, for messages. */
export function describeDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  // Prisma's ?schema= is where the tables are: a migration applied "to the database" went there.
  const schema = url.searchParams.get('schema');
  return `${url.hostname}:${url.port || '5432'}${url.pathname}${schema ? ` (schema ${schema})` : ''}`;
}
