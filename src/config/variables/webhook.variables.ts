// Events read from Postgres for SSE streams, and the webhooks the workers send.
import { commaUrls, int, text } from '../field-types.js';
import { defineGroup } from '../variable.js';

export const webhookVariables = defineGroup('Events and webhooks', {
  EVENTS_POLL_MS: {
    ...int(10, 60_000),
    default: 200,
    description:
      "How often, in milliseconds, the API's event streams and the workers' webhook relay read new rows of `pipeline_events`, so roughly how long an event waits before it is sent. See [events-and-webhooks.md](events-and-webhooks.md).",
  },
  EVENT_STREAM_CREDENTIAL_CHECK_MS: {
    ...int(100, 300_000),
    default: 15_000,
    production: { max: 60_000, why: 'a revoked or expired credential keeps its open streams up to this long' },
    description:
      'How often, in milliseconds, the API verifies again the credential of each open event stream; a key revoked or expired, or a JWT expired, since the stream began ends it within this long. Streams of one credential share one check. See [security.md](security.md#event-streams-and-revocation).',
  },
  WEBHOOK_URLS: {
    ...commaUrls(() => true, 'a comma-separated list of http(s) URLs'),
    // A receiver's URL often is its credential (Slack's /services/T…/B…/<secret>).
    url: 'path',
    default: '',
    description:
      'Comma-separated `http://` or `https://` URLs that receive `decision.requested`, `clarification.requested` and `pipeline.finished` as signed POSTs, sent by the worker processes. Empty sends none.',
  },
  WEBHOOK_SECRET: {
    ...text(),
    secret: true,
    default: '',
    description:
      'The HMAC-SHA256 key that signs each webhook. Required when `WEBHOOK_URLS` is set: 16 characters at least, and in production 32 with enough entropy, used for nothing else.',
  },
  WEBHOOK_SECRET_PREVIOUS: {
    ...text(),
    secret: true,
    default: '',
    description:
      'The previous `WEBHOOK_SECRET`, during a rotation only: each webhook is then signed with both (two `v1` entries in `X-Agentic-Signature`), so receivers accept it before and after they switch. 16 characters at least when set; remove it once every receiver checks the new secret. See [events-and-webhooks.md](events-and-webhooks.md#rotating-the-secret).',
  },
  WEBHOOK_ATTEMPTS: {
    ...int(1, 100),
    default: 10,
    description: 'Delivery attempts per webhook and receiver, with backoff, before it is given up.',
  },
});
