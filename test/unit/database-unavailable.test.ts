// isDatabaseUnavailable: what pg and Prisma throw while Postgres is stopping, stopped or starting
// (the shapes seen in the chaos suite's Postgres outage) counts; a statement's own error does not.
import { expect } from 'chai';
import { isDatabaseUnavailable } from '../../src/infra/db/database.js';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable (unit)', () => {
  it('pg_ctl stop -m fast, shutdown and start-up: 57P01, 57P03, terminated connections, refused connects', () => {
    expect(isDatabaseUnavailable(pgError('57P01', 'terminating connection due to administrator command'))).to.equal(true);
    expect(isDatabaseUnavailable(pgError('57P03', 'the database system is shutting down'))).to.equal(true);
    expect(isDatabaseUnavailable(pgError('57P03', 'the database system is starting up'))).to.equal(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).to.equal(true);
    expect(isDatabaseUnavailable(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))).to.equal(true);
    expect(isDatabaseUnavailable(pgError('ECONNRESET', 'read ECONNRESET'))).to.equal(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).to.equal(true);
    expect(isDatabaseUnavailable(pgError('08006', 'connection failure'))).to.equal(true);
  });

  it('Prisma over the pg adapter: P1001/P1017 codes, adapter errors and wrapped causes', () => {
    expect(
      isDatabaseUnavailable(pgError('P1017', 'Invalid `db.pipeline.findUnique()` invocation: Server has closed the connection.')),
    ).to.equal(true);
    expect(isDatabaseUnavailable(pgError('P1001', "Can't reach database server at 127.0.0.1:5432"))).to.equal(true);
    const adapter = Object.assign(new Error('terminating connection due to administrator command'), { name: 'DriverAdapterError' });
    expect(isDatabaseUnavailable(adapter)).to.equal(true);
    expect(isDatabaseUnavailable(new Error('query failed', { cause: pgError('57P01', 'x') }))).to.equal(true);
  });

  it("a statement's own errors are not an outage", () => {
    expect(isDatabaseUnavailable(pgError('23505', 'duplicate key value violates unique constraint'))).to.equal(false);
    expect(isDatabaseUnavailable(pgError('40P01', 'deadlock detected'))).to.equal(false);
    expect(isDatabaseUnavailable(pgError('42P01', 'relation "stages" does not exist'))).to.equal(false);
    expect(isDatabaseUnavailable(new TypeError('x is undefined'))).to.equal(false);
    expect(isDatabaseUnavailable(undefined)).to.equal(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).to.equal(false);
  });
});
