// The dashboard's one way to the REST API: every call sends the signed-in key as a Bearer
// credential, parses the answer with its schema, and turns an error body into an ApiError
// carrying the API's own message. A 401 (the key refused: revoked, expired, unknown) is also told
// to `onRefused`, so that the page signs out instead of sending the dead key again and again.
import type { z } from 'zod';
import { errorBodySchema } from './schemas.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What a call says when no answer came at all (the API stopped or restarting, the network down). */
export const NETWORK_ERROR_MESSAGE = 'The API could not be reached (no answer: it may be restarting, or the network is down). Try again.';

/** The API refused the credential itself (401): the key is revoked, expired or unknown. */
export const isRefusal = (error: unknown): error is ApiError => error instanceof ApiError && error.status === 401;

export interface Api {
  key: string;
  /** Called with each 401 an answer of this key gets (the page signs out); the error is thrown too. */
  onRefused(error: ApiError): void;
  get<T extends z.ZodType>(path: string, schema: T): Promise<z.infer<T>>;
  post<T extends z.ZodType>(path: string, body: unknown, schema?: T): Promise<z.infer<T> | undefined>;
  text(path: string): Promise<string>;
  /** DELETE; nothing is read from the answer (a 204). */
  del(path: string): Promise<void>;
}

/** The ApiError of an answer that is not ok, with the API's own code and message when it sent them. */
export async function failure(res: Response): Promise<ApiError> {
  const body: unknown = await res.json().catch(() => undefined);
  const parsed = errorBodySchema.safeParse(body);
  if (!parsed.success) return new ApiError(res.status, 'HTTP_ERROR', `The API answered ${res.status} ${res.statusText}.`);
  const { code, message, details } = parsed.data.error;
  const fields = (details ?? []).map((d) => (d.field ? `${d.field}: ${d.message}` : d.message));
  return new ApiError(res.status, code, fields.length > 0 ? `${message} (${fields.join('; ')})` : message);
}

export function createApi(key: string, onRefused: (error: ApiError) => void = () => {}): Api {
  const send = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      // The browser's own words ("Failed to fetch", "NetworkError when…") say nothing to a reader.
      throw new ApiError(0, 'NETWORK_ERROR', NETWORK_ERROR_MESSAGE);
    }
    if (!res.ok) {
      const error = await failure(res);
      if (isRefusal(error)) onRefused(error);
      throw error;
    }
    return res;
  };
  return {
    key,
    onRefused,
    async get(path, schema) {
      const res = await send('GET', path);
      return schema.parse(await res.json());
    },
    async post(path, body, schema) {
      const res = await send('POST', path, body);
      if (!schema || res.status === 204) return undefined;
      return schema.parse(await res.json());
    },
    async text(path) {
      const res = await send('GET', path);
      return res.text();
    },
    async del(path) {
      await send('DELETE', path);
    },
  };
}

/** A query string of the set values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
