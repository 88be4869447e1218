// Who is signed in, and what their roles let them do (the platform's one table of grants).
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { permissionsOf, type Permission } from '../../src/domain/identity.js';
import type { Api } from './api.js';
import type { Whoami } from './schemas.js';

export interface Session {
  api: Api;
  me: Whoami;
  can(permission: Permission): boolean;
}

export function createSession(api: Api, me: Whoami): Session {
  const granted = permissionsOf(me.roles);
  return { api, me, can: (permission) => granted.has(permission) };
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}
