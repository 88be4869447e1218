// Identity: the metrics scraper's token and JWTs from an identity provider (docs/security.md).
import { commaList, httpUrlOrEmpty, int, text } from '../field-types.js';
import { defineGroup } from '../variable.js';

export const identityVariables = defineGroup('Identity', {
  METRICS_TOKEN: {
    ...text(),
    secret: true,
    default: '',
    description:
      'A bearer token (32 characters at least) that may read `GET /metrics` and nothing else, for a Prometheus scraper. Empty: `/metrics` needs an operator key. See [security.md](security.md).',
  },
  JWT_SECRET: {
    ...text(),
    secret: true,
    default: '',
    description: 'HMAC secret (32 characters at least) of JWTs from an identity provider; set this or `JWT_JWKS_URL`, not both.',
  },
  JWT_JWKS_URL: {
    ...httpUrlOrEmpty(),
    url: true,
    default: '',
    description: "The identity provider's JWKS URL (keys cached, fetched again on an unknown `kid`).",
  },
  JWT_ISSUER: { ...text(), default: '', description: 'Required `iss` of JWTs; required when JWTs are on.' },
  JWT_AUDIENCE: { ...text(), default: '', description: 'Required `aud` of JWTs; required when JWTs are on.' },
  JWT_ALGORITHMS: {
    ...commaList(),
    default: '',
    description: 'Accepted `alg`s, comma-separated (default `HS256` with a secret, `RS256,ES256` with JWKS); `none` is refused at boot.',
  },
  JWT_ROLES_CLAIM: {
    ...text(1),
    default: 'roles',
    description: "The claim listing the caller's roles; a dotted path (`realm_access.roles`) works.",
  },
  JWT_CLOCK_TOLERANCE_S: {
    ...int(0, 300),
    default: 30,
    production: { max: 120, why: 'a wider leeway keeps expired tokens valid longer' },
    description: 'Leeway for `exp`/`nbf`/`iat` in seconds.',
  },
});
