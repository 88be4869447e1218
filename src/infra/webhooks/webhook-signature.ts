// Webhook signatures: `X-Agentic-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
// Signing the timestamp with the body lets a receiver refuse replays of an old delivery. During a
// secret rotation the header carries one `v1` per secret (the current one first), so a receiver
// still on the previous secret and one already on the new secret both accept the delivery.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Agentic-Signature';
export const EVENT_HEADER = 'X-Agentic-Event';
export const DELIVERY_HEADER = 'X-Agentic-Delivery';

/** Default window (seconds) in which a signed timestamp is accepted. */
export const DEFAULT_TOLERANCE_SEC = 300;

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * The signature header value for `body` sent at `timestamp` (unix seconds): one `v1` entry made
 * with `secret`, then one per non-empty `previous` secret (WEBHOOK_SECRET_PREVIOUS, while rotating).
 */
export function signWebhook(secret: string, timestamp: number, body: string, ...previous: readonly string[]): string {
  const secrets = [secret, ...previous.filter((p) => p !== '' && p !== secret)];
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${hmacHex(s, timestamp, body)}`)].join(',');
}

/**
 * True when `header` signs exactly `body` with `secret` and its timestamp is within
 * `toleranceSec` (default 300) of `now` (unix seconds, default the current time). Any `v1`
 * entry may match, so a sender can sign with an old and a new secret while rotating.
 */
export function verifyWebhook(
  secret: string,
  header: string | null | undefined,
  body: string,
  toleranceSec = DEFAULT_TOLERANCE_SEC,
  now: number = Math.floor(Date.now() / 1000),
): boolean {
  if (!header) return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (Math.abs(now - timestamp) > toleranceSec) return false;
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  // Evaluate every entry (no early exit), each compare in constant time.
  let valid = false;
  for (const signature of signatures) {
    if (timingSafeEqual(expected, Buffer.from(signature, 'hex'))) valid = true;
  }
  return valid;
}
