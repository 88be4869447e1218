// Unit tests for src/infra/db/connection-url.ts: what pg is given from a Prisma-style DATABASE_URL.
import { expect } from 'chai';
import { describeDatabaseUrl, maintenanceUrl, toPgConnection } from '../../src/infra/db/connection-url.js';

describe('database connection URLs (unit)', () => {
  it("toPgConnection moves Prisma's ?schema= into the session's search_path", () => {
    const pg = toPgConnection('postgresql://app:pw@db:5433/sdlc?schema=run_1&sslmode=require');
    expect(pg.database).to.equal('sdlc');
    expect(pg.schema).to.equal('run_1');
    const params = new URL(pg.connectionString).searchParams;
    expect([params.get('schema'), params.get('options'), params.get('sslmode')]).to.deep.equal([null, '-c search_path="run_1"', 'require']);
  });

  it('maintenanceUrl points at the postgres database and keeps TLS and other connection parameters', () => {
    const url = new URL(maintenanceUrl('postgresql://app:pw@db:5433/sdlc?schema=run_1&sslmode=verify-full&sslrootcert=%2Fca.pem'));
    expect([url.pathname, url.username, url.password, url.port]).to.deep.equal(['/postgres', 'app', 'pw', '5433']);
    expect([url.searchParams.get('schema'), url.searchParams.get('sslmode'), url.searchParams.get('sslrootcert')]).to.deep.equal([
      null,
      'verify-full',
      '/ca.pem',
    ]);
  });

  it('describeDatabaseUrl names host, port and database without credentials', () => {
    expect(describeDatabaseUrl('postgresql://app:secret@db/sdlc?sslmode=require')).to.equal('db:5432/sdlc');
  });
});
