// The rate-limit variables of the environment schema (src/config.ts): their defaults, 0 as "off",
// and TRUST_PROXY in the forms Express accepts, less `true` (any client could pick its address).
import { expect } from 'chai';
import { ConfigError, parseConfig } from '../../src/config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return expect.fail('expected parseConfig to throw');
}

describe('rate-limit configuration', () => {
  it('defaults: a one-minute window, 1200 per address, 600 per identity, 30 submissions, 20 failed authentications, no proxy trusted', () => {
    const config = parseConfig({});
    expect([
      config.RATE_LIMIT_WINDOW_MS,
      config.RATE_LIMIT_PER_ADDRESS,
      config.RATE_LIMIT_PER_IDENTITY,
      config.RATE_LIMIT_SUBMIT,
      config.RATE_LIMIT_AUTH_FAILURES,
    ]).to.deep.equal([60_000, 1200, 600, 30, 20]);
    expect(config.TRUST_PROXY).to.equal(false);
  });

  it('0 is accepted for each budget (that limiter off); a negative budget or a window under 1 s is refused', () => {
    const config = parseConfig({
      RATE_LIMIT_PER_ADDRESS: '0',
      RATE_LIMIT_PER_IDENTITY: '0',
      RATE_LIMIT_SUBMIT: '0',
      RATE_LIMIT_AUTH_FAILURES: '0',
    });
    expect([
      config.RATE_LIMIT_PER_ADDRESS,
      config.RATE_LIMIT_PER_IDENTITY,
      config.RATE_LIMIT_SUBMIT,
      config.RATE_LIMIT_AUTH_FAILURES,
    ]).to.deep.equal([0, 0, 0, 0]);
    const names = problemsOf({ RATE_LIMIT_SUBMIT: '-1', RATE_LIMIT_WINDOW_MS: '500' }).map((p) => p.split(':')[0]);
    expect(names).to.have.members(['RATE_LIMIT_SUBMIT', 'RATE_LIMIT_WINDOW_MS']);
  });

  it('TRUST_PROXY: false, a hop count, or proxy addresses, CIDRs and names', () => {
    const trust = (value: string) => parseConfig({ TRUST_PROXY: value }).TRUST_PROXY;
    expect(trust('false')).to.equal(false);
    expect(trust('1')).to.equal(1);
    expect(trust('2')).to.equal(2);
    expect(trust('10.0.0.0/8, 192.168.1.4')).to.equal('10.0.0.0/8, 192.168.1.4');
    expect(trust('loopback,uniquelocal')).to.equal('loopback,uniquelocal');
    expect(trust('fd00::/8')).to.equal('fd00::/8');
  });

  it('TRUST_PROXY: `true` (every hop believed) and anything Express would not understand are refused, naming the variable', () => {
    for (const value of ['true', 'yes', '10.0.0.0/33', 'proxy.example.com', '1.2.3.4/8/1', '-1']) {
      expect(
        problemsOf({ TRUST_PROXY: value }).map((p) => p.split(':')[0]),
        value,
      ).to.deep.equal(['TRUST_PROXY']);
    }
  });
});
