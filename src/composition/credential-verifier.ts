// One verifier for every credential the API accepts: our API keys (recognised by their prefix)
// and, when an identity provider is configured, its JWTs. Anything else is refused as it is.
import type { Config } from '../config.js';
import { looksLikeApiKey } from '../domain/api-key-format.js';
import { AuthenticationError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import { createJwtVerifier, looksLikeJwt } from '../infra/auth/jwt-verifier.js';
import type { ApiKeyService } from '../services/api-key.service.js';

export function createCredentialVerifier({
  config,
  keys,
}: {
  config: Config;
  keys: Pick<ApiKeyService, 'authenticate'>;
}): (credential: string) => Promise<Identity> {
  const jwtConfigured = config.JWT_SECRET !== '' || config.JWT_JWKS_URL !== '';
  const algorithms = config.JWT_ALGORITHMS;
  const jwt = jwtConfigured
    ? createJwtVerifier({
        secret: config.JWT_SECRET || undefined,
        jwksUrl: config.JWT_JWKS_URL || undefined,
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        algorithms: algorithms.length > 0 ? algorithms : undefined,
        rolesClaim: config.JWT_ROLES_CLAIM,
        clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_S,
      })
    : undefined;
  return async function verifyCredential(credential) {
    if (looksLikeApiKey(credential)) return keys.authenticate(credential);
    if (looksLikeJwt(credential)) {
      if (!jwt)
        throw new AuthenticationError(
          'TOKEN_INVALID',
          'Bearer tokens (JWT) are not accepted here: no identity provider is configured (JWT_SECRET or JWT_JWKS_URL). Use an API key.',
        );
      return jwt.verify(credential);
    }
    throw new AuthenticationError('API_KEY_MALFORMED', 'The credential is neither an agentic-sdlc API key (sdlc_…) nor a JWT.');
  };
}
