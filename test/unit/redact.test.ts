// Redaction of text bound for logs (src/domain/redact.ts): URLs lose userinfo, query and fragment
// wherever they appear; API keys, Bearer/Basic credentials, JWTs and declared secrets are masked;
// ordinary text is left alone.
import { expect } from 'chai';
import { createRedactor, redactText, redactUrl, redactUrlsIn } from '../../src/domain/redact.js';

const KEY = `sdlc_AbCdEf012345${'x'.repeat(32)}Zz9876`;

describe('log redaction (unit)', () => {
  it('a URL with userinfo, query and fragment: each part replaced by ***, scheme, host, port and path kept', () => {
    expect(redactUrl('https://bob:pw@hooks.example.com:8443/in/bound?token=abc&x=1#frag')).to.equal(
      'https://***@hooks.example.com:8443/in/bound?***#***',
    );
  });

  it('userinfo with a user only, or a password only, is removed too', () => {
    expect(redactUrl('redis://default@cache:6379')).to.equal('redis://***@cache:6379');
    expect(redactUrl('redis://:s3cret@cache:6379/0')).to.equal('redis://***@cache:6379/0');
  });

  it('redis, rediss, postgres(ql), http(s) and unknown schemes are all redacted', () => {
    const cases: Record<string, string> = {
      'redis://u:p@r:6379/2': 'redis://***@r:6379/2',
      'rediss://default:p@r.example.com:6380': 'rediss://***@r.example.com:6380',
      'postgresql://agentic:pw@db:5432/agentic_sdlc?schema=t_1&sslmode=require': 'postgresql://***@db:5432/agentic_sdlc?***',
      'postgres://agentic:pw@db/x': 'postgres://***@db/x',
      'http://a:b@127.0.0.1:9/h?t=1': 'http://***@127.0.0.1:9/h?***',
      'amqp://guest:guest@mq:5672/vhost': 'amqp://***@mq:5672/vhost',
    };
    for (const [url, expected] of Object.entries(cases)) expect(redactUrl(url), url).to.equal(expected);
  });

  it('a URL without secrets, an empty query or fragment, and text that is no URL come back unchanged', () => {
    for (const text of [
      'http://127.0.0.1:3000',
      'https://example.com/a/b',
      'https://example.com/a?',
      'https://example.com/#',
      'not a url',
      'file:///work/main/src/x.ts:12:3',
      'node:internal/deps/undici:1',
    ]) {
      expect(redactUrl(text), text).to.equal(text);
    }
  });

  it('several URLs in one line, in prose, in JSON and in escaped JSON: each redacted, the text around kept', () => {
    expect(redactUrlsIn('from redis://:a@r1:6379 to redis://:b@r2:6379, then https://x.example/h?k=v.')).to.equal(
      'from redis://***@r1:6379 to redis://***@r2:6379, then https://x.example/h?***',
    );
    expect(redactUrlsIn('{"url":"https://u:p@h.example/p?token=t","other":"postgres://a:b@db/x"}')).to.equal(
      '{"url":"https://***@h.example/p?***","other":"postgres://***@db/x"}',
    );
    expect(redactUrlsIn('"{\\"url\\":\\"https://h.example/p?token=t\\"}"')).to.equal('"{\\"url\\":\\"https://h.example/p?***\\"}"');
    expect(redactUrlsIn("fetch failed: 'http://u:p@h/x?t=1' <https://h2/y#frag>")).to.equal(
      "fetch failed: 'http://***@h/x?***' <https://h2/y#***>",
    );
  });

  it("undici's refusal of a URL with credentials, and a stack holding it, lose the secrets", () => {
    const message =
      'Request cannot be constructed from a URL that includes credentials: http://hookuser:hookpw@127.0.0.1:5000/hook?token=tok';
    const stack = `TypeError: ${message}\n    at new Request (node:internal/deps/undici/undici:9474:19)`;
    for (const text of [message, stack]) {
      const redacted = redactUrlsIn(text);
      for (const secret of ['hookuser', 'hookpw', 'tok']) expect(redacted).not.to.contain(secret);
      expect(redacted).to.contain('http://***@127.0.0.1:5000/hook?***');
    }
  });

  it('API keys keep their public id only; Bearer and Basic credentials and JWTs are masked; prose about them is not', () => {
    expect(redactText(`key ${KEY} refused`)).to.equal('key sdlc_AbCdEf012345*** refused');
    expect(redactText('Authorization: Bearer abcdefghijklmnop1234')).to.equal('Authorization: Bearer ***');
    expect(redactText('Basic b3BlcmF0b3I6c2RsY194eXo=')).to.equal('Basic ***');
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLXBhcnQ';
    expect(redactText(`token ${jwt} expired`)).to.equal('token *** expired');
    for (const prose of [
      'Bearer tokens (JWT) are not accepted here',
      'Basic realm="agentic-sdlc"',
      'sdlc_stage_duration_seconds',
      'the key sdlc_AbCdEf012345 was revoked',
    ]) {
      expect(redactText(prose), prose).to.equal(prose);
    }
  });

  it('declared secrets are masked by value (raw and percent-encoded) wherever they occur; short ones are ignored', () => {
    const redact = createRedactor(['metrics-token-0123456789abcdef', 'we/bh+ook secret!', 'short']);
    expect(redact('got metrics-token-0123456789abcdef twice: metrics-token-0123456789abcdef')).to.equal('got *** twice: ***');
    expect(redact(`sent ${encodeURIComponent('we/bh+ook secret!')} and we/bh+ook secret!`)).to.equal('sent *** and ***');
    expect(redact('a short word stays')).to.equal('a short word stays');
    // Regular-expression characters in a secret are taken literally.
    expect(createRedactor(['a.b*c+d?e(f)'])('xa.b*c+d?e(f)y axbbbcdef')).to.equal('x***y axbbbcdef');
  });
});
