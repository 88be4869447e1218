// Sign-in with an API key: checked against GET /api/v1/whoami before it is kept (for this tab's
// session only); a refused key shows the API's own message.
import { useState } from 'preact/hooks';
import { ApiError, createApi, messageOf } from '../api.js';
import { whoamiSchema, type Whoami } from '../schemas.js';
import type { Api } from '../api.js';

/** Checks `key` with whoami; the Api it returns tells `onRefused` of each later 401. */
export async function signIn(key: string, onRefused: (error: ApiError) => void): Promise<{ api: Api; me: Whoami }> {
  const api = createApi(key, onRefused);
  const me = await api.get('/api/v1/whoami', whoamiSchema);
  return { api, me };
}

export function SignIn({
  onSignedIn,
  onRefused,
  notice,
}: {
  onSignedIn(api: Api, me: Whoami): void;
  onRefused(key: string, error: ApiError): void;
  notice?: string;
}) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>(notice);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError('Enter an API key.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const { api, me } = await signIn(trimmed, (refusal) => onRefused(trimmed, refusal));
      onSignedIn(api, me);
    } catch (e) {
      // An ApiError of status 0 is no answer at all (the network): nothing refused the key.
      setError(e instanceof ApiError && e.status !== 0 ? `Sign-in refused: ${e.message}` : `Sign-in failed: ${messageOf(e)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in" tabIndex={-1}>
      <h1>agentic-sdlc pipelines</h1>
      <form onSubmit={submit} aria-describedby="sign-in-help">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'sign-in-error' : undefined}
        />
        <p id="sign-in-help" class="help">
          The key stays in this tab only (session storage) and is sent with every API call. An admin issues keys (docs/security.md).
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p id="sign-in-error" class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
