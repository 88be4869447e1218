// The HTTP server of the API: where it listens, how large and slow a request may be, CORS and
// which proxies in front of it to believe.
import { byteSize, commaUrls, int, text, trustProxy } from '../field-types.js';
import { defineGroup } from '../variable.js';

const MB = 1024 * 1024;

export const httpVariables = defineGroup('HTTP server', {
  PORT: {
    ...int(0, 65_535),
    default: 3000,
    description: 'TCP port the API listens on (0 picks a free port).',
  },
  HOST: {
    ...text(1),
    default: { development: '127.0.0.1', test: '127.0.0.1', production: '0.0.0.0' },
    description:
      'Interface the API binds to: loopback on a laptop and in tests; every interface in production, where the container network or a TLS proxy stands in front. ' +
      'The API speaks plain HTTP, so production refuses a public IP address here: put a TLS-terminating proxy or load balancer in front and bind to a private or wildcard address. ' +
      'The ready lines and the `Try it` command name `127.0.0.1` for a wildcard (`0.0.0.0`, `::`), else this host (`[::1]` for `::1`).',
  },
  HTTP_BODY_LIMIT: {
    ...byteSize(256 * MB),
    default: '2mb',
    production: { max: 32 * MB, why: 'a larger body lets one request hold that much memory per connection' },
    description:
      'Largest request body the API accepts: digits followed by `b`, `kb` or `mb` (`256kb`, `8mb`), 256mb at most. Larger bodies get 413 `PAYLOAD_TOO_LARGE` naming the limit in bytes. The default leaves room for `MAX_SUBMISSION_INPUT_BYTES` of inputs plus `MAX_STAGES_PER_PIPELINE` stage definitions; raise it with them.',
  },
  HTTP_HEADERS_TIMEOUT_MS: {
    ...int(1000, 300_000),
    default: 10_000,
    production: { max: 60_000, why: 'slow-header clients hold a connection this long' },
    description:
      'A client must send all its request headers within this time, or it gets `408 REQUEST_TIMEOUT` as JSON and its connection is closed (slow-header attacks). Checked every second. See [security.md](security.md#slow-clients).',
  },
  HTTP_REQUEST_TIMEOUT_MS: {
    ...int(1000, 600_000),
    default: 30_000,
    production: { max: 300_000, why: 'slow clients hold a connection this long' },
    description:
      'A client must send its whole request, headers and body, within this time (raised to `HTTP_HEADERS_TIMEOUT_MS` if lower). A body shorter than its `Content-Length` is cut off with 408. Only receiving the request is timed: event streams and slow responses are not.',
  },
  HTTP_KEEP_ALIVE_TIMEOUT_MS: {
    ...int(1000, 600_000),
    default: 65_000,
    description:
      "An idle keep-alive connection is closed after this time. Keep it above your load balancer's idle timeout (60 s on AWS ALB), or the balancer may reuse a connection the API is closing.",
  },
  HTTP_MAX_CONNECTIONS: {
    ...int(1, 1_000_000),
    default: 4096,
    production: { max: 100_000, why: 'each open connection costs memory and a file descriptor' },
    description:
      'Open connections the API accepts at once, event streams included. Connections beyond are closed as soon as they open; the ones open are unaffected.',
  },
  CORS_ORIGINS: {
    ...commaUrls(
      (url, item) => url.origin === item,
      'a comma-separated list of origins such as https://ops.example.com (scheme, host and port only, no path or trailing slash)',
    ),
    type: 'comma-separated origins',
    default: '',
    description:
      'Browser origins allowed to call the API from their pages, comma-separated, each scheme, host and port only (`https://ops.example.com`). Empty: none, and no answer carries a CORS header.',
  },
  TRUST_PROXY: {
    ...trustProxy(),
    default: 'false',
    description:
      "Express's `trust proxy`: which proxies in front of the API may name the client's address with `X-Forwarded-For` (used by the per-address limits and the audit trail's `ip`). `false`: the connection's address is the client's, and the header is ignored. A hop count (`1` behind one load balancer, `2` behind a CDN and a balancer), or the proxies' addresses and CIDRs (`10.0.0.0/8`, `loopback`, `linklocal`, `uniquelocal`), comma-separated. `true` is refused: it would let any client choose its address.",
  },
});
