// The secret values a configuration holds, named: the variables marked secret and the passwords
// inside its URLs. The production checks judge them; the logger and the printers mask them.
import { REGISTRY, SECRET_VARIABLES, VARIABLES, type Config } from './registry.js';

export interface NamedSecret {
  /** The variable, or `VARIABLE (password)` for the password inside a URL. */
  field: string;
  variable: string;
  value: string;
  /** For a URL password: the rest of its URL (scheme, user, host, path), which is not secret. */
  urlWithoutPassword?: string;
}

/** The password in a URL's userinfo, decoded; undefined when it has none or is no URL. */
export function urlPassword(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password === '' ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}

/** The URLs a URL variable holds (WEBHOOK_URLS holds several). */
function urlsOf(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** Every non-empty secret variable and every URL password of `config`, in registry order. */
export function namedSecrets(config: Partial<Record<string, unknown>>): NamedSecret[] {
  const secrets: NamedSecret[] = [];
  for (const spec of VARIABLES) {
    const value = config[spec.name];
    if (spec.secret && typeof value === 'string' && value !== '') secrets.push({ field: spec.name, variable: spec.name, value });
    if (!spec.url) continue;
    for (const url of urlsOf(value)) {
      const password = urlPassword(url);
      if (password === undefined) continue;
      const { protocol, username, host, pathname } = new URL(url);
      secrets.push({
        field: `${spec.name} (password)`,
        variable: spec.name,
        value: password,
        urlWithoutPassword: `${protocol}//${username}@${host}${pathname}`,
      });
    }
  }
  return secrets;
}

/** The secrets production holds to its rules: the secret variables and the passwords of our own backends. */
export function ownSecrets(config: Config): NamedSecret[] {
  const own = new Set<string>([...SECRET_VARIABLES.map((v) => v.name), REGISTRY.DATABASE_URL.name, REGISTRY.REDIS_URL.name]);
  return namedSecrets(config).filter((secret) => own.has(secret.variable));
}
