// One JSON POST to a service outside the platform (the GitHub API, a deploy hook) with a timeout,
// mapped onto the error hierarchy: network failures and 5xx are retryable DownstreamErrors, 4xx
// are UnrecoverableStageErrors carrying the service's own message.
import { DownstreamError, UnrecoverableStageError } from '../../domain/errors.js';

export interface JsonPostOptions {
  url: string;
  body: unknown;
  headers?: Record<string, string>;
  /** Default 15 s. */
  timeoutMs?: number;
  /** The stage's signal: a cancel aborts the request and is rethrown as is. */
  signal?: AbortSignal;
  /** Error codes for a refusal (4xx) and for a failure (network, timeout, 5xx). */
  codes: { rejected: string; unavailable: string };
  /** Names the service in messages, e.g. "GitHub". */
  service: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_MESSAGE = 500;

/** The service's reason from a JSON error body (`message` plus GitHub's `errors[].message`), else the raw text. */
function reasonOf(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; errors?: unknown };
    const details = Array.isArray(body.errors)
      ? body.errors.flatMap((e: unknown) =>
          e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string'
            ? [(e as { message: string }).message]
            : [],
        )
      : [];
    if (typeof body.message === 'string') return [body.message, ...details].join(': ').slice(0, MAX_MESSAGE);
  } catch {
    // not JSON: the text itself is the best reason there is
  }
  return text.slice(0, MAX_MESSAGE);
}

/** POSTs `body` as JSON and resolves with the parsed JSON answer (`{}` for an empty 2xx body). */
export async function postJson({
  url,
  body,
  headers = {},
  timeoutMs = DEFAULT_TIMEOUT_MS,
  signal,
  codes,
  service,
}: JsonPostOptions): Promise<unknown> {
  const timeout = AbortSignal.timeout(timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    text = await response.text();
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : error instanceof Error ? error.message : String(error);
    throw new DownstreamError(codes.unavailable, `${service} request failed: ${reason}`, { cause: error });
  }
  if (response.status >= 500) {
    throw new DownstreamError(codes.unavailable, `${service} answered ${response.status}: ${reasonOf(text)}`);
  }
  if (response.status >= 400) {
    throw new UnrecoverableStageError(codes.rejected, `${service} refused the request (${response.status}): ${reasonOf(text)}`);
  }
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DownstreamError(codes.unavailable, `${service} answered ${response.status} with a body that is not JSON`);
  }
}
