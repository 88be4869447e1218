// Unit tests for src/infra/db/connection-url.ts: what pg is given from a Prisma-style DATABASE_URL.
import { expect } from 'chai';
import { describeDatabaseUrl, maintenanceUrl, toPgConnection, withSessionSetting } from '../../src/infra/db/connection-url.js';

describe('database connection URLs (unit)', () => {
  it("toPgConnection moves Prisma's ?schema= into the session's search_path", () => {
    const pg = toPgConnection('postgresql://app:pw@db:5433/sdlc?schema=run_1&sslmode=require');
    expect(pg.database).to.equal('sdlc');
    expect(pg.schema).to.equal('run_1');
    const params = new URL(pg.connectionString).searchParams;
    expect([params.get('schema'), params.get('options'), params.get('sslmode')]).to.deep.equal([null, '-c search_path="run_1"', 'require']);
  });

  it('session settings are added after the options the URL already carries, never in their place', () => {
    const pg = toPgConnection('postgresql://app@db/sdlc?schema=run_1&options=-c%20work_mem%3D64MB');
    const options = () => new URL(withSessionSetting(pg.connectionString, 'jit=off')).searchParams.get('options');
    expect(new URL(pg.connectionString).searchParams.get('options')).to.equal('-c work_mem=64MB -c search_path="run_1"');
    expect(options()).to.equal('-c work_mem=64MB -c search_path="run_1" -c jit=off');
    expect(new URL(withSessionSetting('postgresql://app@db/sdlc', 'jit=off')).searchParams.get('options')).to.equal('-c jit=off');
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

  it('describeDatabaseUrl names the schema of ?schema=, which db:migrate and the boot checks act on', () => {
    expect(describeDatabaseUrl('postgresql://postgres@127.0.0.1:5432/agentic_sdlc?schema=mine')).to.equal(
      '127.0.0.1:5432/agentic_sdlc (schema mine)',
    );
    expect(describeDatabaseUrl('postgresql://postgres@127.0.0.1:5432/agentic_sdlc?schema=')).to.equal('127.0.0.1:5432/agentic_sdlc');
  });

  it('describeDatabaseUrl names host, port and database without credentials', () => {
    expect(describeDatabaseUrl('postgresql://app:secret@db/sdlc?sslmode=require')).to.equal('db:5432/sdlc');
  });
});
