// Hostile-input caps and quotas: how deep, long and large a request may be, how many stages and
// streams, and how many pipelines run or wait at once.
import { int } from '../field-types.js';
import { defineGroup } from '../variable.js';

const MB = 1024 * 1024;

export const quotaVariables = defineGroup('Hostile input and quotas', {
  JSON_MAX_DEPTH: {
    ...int(4, 512),
    default: 32,
    production: { max: 64, why: 'deep nesting costs stack and CPU in every parser and validator' },
    description:
      "Deepest nesting of arrays and objects in a JSON body (`{}` is 1, a pipeline with stage inputs uses 4 plus its inputs' own depth, the shipped templates 5). Checked on the raw bytes before parsing; deeper gets 400 `JSON_TOO_DEEP`.",
  },
  JSON_MAX_KEY_LENGTH: {
    ...int(64, 65_536),
    default: 256,
    production: { max: 4096, why: 'no field of the API needs a longer key' },
    description: 'Longest key in a JSON body, and longest query parameter name, in characters; longer gets 400 `KEY_TOO_LONG`.',
  },
  JSON_MAX_STRING_LENGTH: {
    ...int(4096, 104_857_600),
    default: 262_144,
    production: { max: 16 * MB, why: 'one string this long is held whole in memory, several times' },
    description:
      "Longest string in a JSON body or query string, in characters; longer gets 400 `STRING_TOO_LONG`. The default equals a stage input's own size cap (256 KiB): a string that long could not be part of a valid submission anyway.",
  },
  MAX_STAGES_PER_PIPELINE: {
    ...int(1, 500),
    default: 100,
    description:
      "Stages one pipeline may have (500 is the definition language's own ceiling). More is refused with 413 `TOO_MANY_STAGES` naming the variable, before any validation or write; templates count too. See [security.md](security.md#quotas-and-backpressure).",
  },
  MAX_SUBMISSION_INPUT_BYTES: {
    ...int(1024, 256 * MB),
    default: MB,
    production: { max: 32 * MB, why: 'inputs are stored in Postgres and copied into every job' },
    description:
      "Bytes of JSON in a submission's `input` plus every stage's `input` (each one input stays capped at 256 KiB). More is refused with 413 `INPUT_TOO_LARGE` naming the variable; a template's stage inputs count with the request's `input`.",
  },
  RESPONSE_PAGE_BYTES: {
    ...int(1024, 256 * MB),
    default: MB,
    production: { max: 32 * MB, why: 'an answer is built whole in memory' },
    description:
      'An answer that carries a pipeline (`GET`, `POST`, cancel) holds its stages while its JSON stays under this many bytes, at least one stage and 100 at most; `stagesNextCursor` then points `GET /pipelines/:id/stages` at the rest, whose pages obey the same size. See [api.md](api.md#get-apiv1pipelinesidstages).',
  },
  MAX_EVENT_STREAMS_PER_IDENTITY: {
    ...int(1, 10_000),
    default: 10,
    production: { max: 1000, why: 'one identity could otherwise take every connection' },
    description:
      'Event streams (`/events`, `/pipelines/:id/events`) one identity may hold open at once. One more gets 429 `STREAM_QUOTA_EXCEEDED` with `Retry-After`. Counted in each API process: with N replicas an identity may hold up to N times this.',
  },
  MAX_EVENT_STREAMS: {
    ...int(1, 1_000_000),
    default: 1000,
    production: { max: 100_000, why: 'each stream holds a connection and polls Postgres' },
    description:
      'Event streams one API process holds open at once, all identities together; one more gets 429 `STREAM_QUOTA_EXCEEDED`. Keep it below `HTTP_MAX_CONNECTIONS` so ordinary requests still get a connection.',
  },
  MAX_RUNNING_PIPELINES: {
    ...int(0),
    default: 0,
    description:
      'Pipelines `running` at once, all submitters together (0: no limit). A submission over the limit is recorded `queued`, with no stage dispatched, and starts when a running pipeline finishes, oldest first. Give the API and the workers the same value. See [admission-control.md](admission-control.md).',
  },
  MAX_RUNNING_PIPELINES_PER_SUBMITTER: {
    ...int(0),
    default: 0,
    description:
      'Pipelines `running` at once per submitter, the authenticated identity of `POST /pipelines` (0: no limit). A submitter at its limit waits without holding up the others.',
  },
  BACKLOG_HIGH_WATER: {
    ...int(0),
    default: 1000,
    description:
      'Queued pipelines at which `POST /pipelines` answers 429 `BACKLOG_FULL` with `Retry-After` and records nothing (0: never). Checked only while `MAX_RUNNING_PIPELINES` or `MAX_RUNNING_PIPELINES_PER_SUBMITTER` is set, since without a running limit nothing waits. Read before the insert, so concurrent submissions can pass it by a few. The default comes from a measurement ([performance.md](performance.md#the-backlog-mark-backlog_high_water)): at 1,000 queued the check costs 0.5–0.7 ms per submission. For real work, size it as `MAX_RUNNING_PIPELINES × acceptable wait ÷ mean pipeline duration`.',
  },
});
