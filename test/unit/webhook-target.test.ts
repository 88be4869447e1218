// Where a webhook delivery goes: a receiver URL's userinfo becomes Basic credentials (fetch
// refuses a URL that carries them), the rest of the URL, query included, is kept.
import { expect } from 'chai';
import { webhookTarget } from '../../src/infra/webhooks/webhook-target.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('webhook target (unit)', () => {
  it('a URL without userinfo: sent as configured, no Authorization', () => {
    expect(webhookTarget('https://hooks.example.com/in?token=abc')).to.deep.equal({ url: 'https://hooks.example.com/in?token=abc' });
  });

  it('user and password: removed from the URL, sent as Basic credentials; the query stays', () => {
    expect(webhookTarget('https://bob:pw@hooks.example.com:8443/in?token=abc')).to.deep.equal({
      url: 'https://hooks.example.com:8443/in?token=abc',
      authorization: basic('bob', 'pw'),
    });
  });

  it('percent-encoded userinfo is decoded before encoding it as Basic; a user alone gets an empty password', () => {
    expect(webhookTarget('http://b%40b:p%3Aw%2F@127.0.0.1:9/h').authorization).to.equal(basic('b@b', 'p:w/'));
    expect(webhookTarget('http://bob@127.0.0.1:9/h')).to.deep.equal({ url: 'http://127.0.0.1:9/h', authorization: basic('bob', '') });
  });

  it('fetch accepts the URL it is given', () => {
    expect(() => new Request(webhookTarget('http://bob:pw@127.0.0.1:9/h?t=1').url)).not.to.throw();
  });
});
