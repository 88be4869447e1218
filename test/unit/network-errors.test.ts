// classifyNetworkError: the one list of "a dependency could not be reached", over the shapes
// Node, undici, ioredis, pg and Prisma give (the integration test provokes the real ones), through
// cause chains and AggregateError, and never for a statement's or a program's own error.
import { expect } from 'chai';
import { classifyNetworkError, isNetworkError, NETWORK_ERROR_CODES } from '../../src/domain/network-errors.js';
import { isDatabaseUnavailable } from '../../src/infra/db/unavailable.js';

const coded = (code: string, message = `failed: ${code}`) => Object.assign(new Error(message), { code });

describe('classifyNetworkError (unit)', () => {
  it('Node and undici socket codes, by kind', () => {
    expect(classifyNetworkError(coded('ECONNREFUSED'))).to.deep.equal({ kind: 'unreachable', code: 'ECONNREFUSED' });
    expect(classifyNetworkError(coded('ENOTFOUND'))).to.deep.equal({ kind: 'unreachable', code: 'ENOTFOUND' });
    expect(classifyNetworkError(coded('ECONNRESET'))).to.deep.equal({ kind: 'connection_lost', code: 'ECONNRESET' });
    expect(classifyNetworkError(coded('UND_ERR_SOCKET'))).to.deep.equal({ kind: 'connection_lost', code: 'UND_ERR_SOCKET' });
    expect(classifyNetworkError(coded('ETIMEDOUT'))).to.deep.equal({ kind: 'timeout', code: 'ETIMEDOUT' });
    expect(classifyNetworkError(coded('UND_ERR_HEADERS_TIMEOUT'))).to.deep.equal({ kind: 'timeout', code: 'UND_ERR_HEADERS_TIMEOUT' });
  });

  it('Postgres SQLSTATEs: shutdown, start-up, too many clients and class 08; Prisma P1001/P1002/P1017', () => {
    expect(classifyNetworkError(coded('57P01', 'terminating connection due to administrator command'))).to.deep.equal({
      kind: 'server_unavailable',
      code: '57P01',
    });
    expect(classifyNetworkError(coded('53300', 'sorry, too many clients already'))!.kind).to.equal('server_unavailable');
    expect(classifyNetworkError(coded('08006', 'connection failure'))).to.deep.equal({ kind: 'connection_lost', code: '08006' });
    expect(classifyNetworkError(coded('P1001', "Can't reach database server at 127.0.0.1:5432"))).to.deep.equal({
      kind: 'unreachable',
      code: 'P1001',
    });
    expect(classifyNetworkError(coded('P1017', 'Server has closed the connection.'))!.kind).to.equal('connection_lost');
  });

  it('messages of drivers that give no code: pg, Prisma, ioredis', () => {
    expect(classifyNetworkError(new Error('Connection terminated unexpectedly'))).to.deep.equal({ kind: 'connection_lost' });
    expect(classifyNetworkError(new Error('timeout exceeded when trying to connect'))).to.deep.equal({ kind: 'timeout' });
    expect(classifyNetworkError(new Error('the database system is starting up'))).to.deep.equal({ kind: 'server_unavailable' });
    expect(classifyNetworkError(new Error("Invalid `db.stage.update()` invocation: Can't reach database server"))!.kind).to.equal(
      'unreachable',
    );
    expect(classifyNetworkError(new Error('Connection is closed.'))).to.deep.equal({ kind: 'connection_lost', via: 'redis' });
    expect(classifyNetworkError(new Error("Stream isn't writeable and enableOfflineQueue options is false"))!.kind).to.equal(
      'connection_lost',
    );
    expect(classifyNetworkError(new Error('Command timed out'))).to.deep.equal({ kind: 'timeout', via: 'redis' });
    expect(classifyNetworkError(new Error('connect ECONNREFUSED 127.0.0.1:6379'))).to.deep.equal({ kind: 'unreachable' });
  });

  it('looks through cause chains, preferring a code found deeper to a message matched on top', () => {
    const fetchFailure = new TypeError('fetch failed', { cause: coded('UND_ERR_CONNECT_TIMEOUT') });
    expect(classifyNetworkError(fetchFailure)).to.deep.equal({ kind: 'timeout', code: 'UND_ERR_CONNECT_TIMEOUT' });
    const wrapped = new Error('Connection terminated', { cause: coded('ECONNRESET') });
    expect(classifyNetworkError(wrapped)).to.deep.equal({ kind: 'connection_lost', code: 'ECONNRESET' });
    const adapter = new Error('query failed', { cause: new Error('driver error', { cause: coded('57P03') }) });
    expect(classifyNetworkError(adapter)).to.deep.equal({ kind: 'server_unavailable', code: '57P03' });
  });

  it("looks into an AggregateError's errors (Node's happy-eyeballs connect to ::1 and 127.0.0.1)", () => {
    const both = new AggregateError([coded('ECONNREFUSED', 'connect ECONNREFUSED ::1:5432'), coded('ECONNREFUSED')], 'connect failed');
    expect(classifyNetworkError(both)).to.deep.equal({ kind: 'unreachable', code: 'ECONNREFUSED' });
  });

  it('isDatabaseUnavailable: every network failure but those only a Redis client reports', () => {
    expect(isDatabaseUnavailable(coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))).to.equal(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).to.equal(true);
    expect(isDatabaseUnavailable(new Error('Connection is closed.'))).to.equal(false);
    expect(isDatabaseUnavailable(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).to.equal(false);
    expect(isNetworkError(new Error('Connection is closed.')), 'still a network failure for the HTTP handler').to.equal(true);
  });

  it('recognises an error that crossed a process boundary as plain data', () => {
    expect(isNetworkError({ name: 'Error', message: 'read ECONNRESET', code: 'ECONNRESET' })).to.equal(true);
  });

  it("a statement's own error, a bug, a non-error and a deep chain of other errors are not network failures", () => {
    expect(classifyNetworkError(coded('23505', 'duplicate key value violates unique constraint'))).to.equal(null);
    expect(classifyNetworkError(coded('40P01', 'deadlock detected'))).to.equal(null);
    expect(classifyNetworkError(coded('P2002', 'Unique constraint failed'))).to.equal(null);
    expect(classifyNetworkError(new TypeError('x is undefined'))).to.equal(null);
    expect(classifyNetworkError(undefined)).to.equal(null);
    expect(classifyNetworkError('ECONNREFUSED')).to.equal(null);
    expect(classifyNetworkError(coded('toString'))).to.equal(null);
    let deep: Error = coded('ECONNREFUSED');
    for (let i = 0; i < 10; i++) deep = new Error(`layer ${i}`, { cause: deep });
    expect(classifyNetworkError(deep), 'causes are followed 5 levels deep, not forever').to.equal(null);
  });

  it('every listed code has a kind', () => {
    for (const [code, kind] of Object.entries(NETWORK_ERROR_CODES)) {
      expect(['unreachable', 'connection_lost', 'timeout', 'server_unavailable'], code).to.include(kind);
    }
  });
});
