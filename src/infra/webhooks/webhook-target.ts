// Where one webhook delivery is sent. fetch refuses a URL that carries credentials (and its
// error repeats the whole URL), so a receiver configured as `https://user:pass@host/…` gets them
// as an HTTP Basic Authorization header instead, as curl would send them.

export interface WebhookTarget {
  /** The configured URL without its userinfo. */
  url: string;
  /** `Basic …` when the configured URL had userinfo. */
  authorization?: string;
}

/** Splits a configured receiver URL into the URL fetch is given and its Basic credentials. */
export function webhookTarget(configured: string): WebhookTarget {
  const url = new URL(configured);
  if (url.username === '' && url.password === '') return { url: configured };
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  return { url: url.toString(), authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` };
}
