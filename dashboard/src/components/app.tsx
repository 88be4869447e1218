// The page: a skip link, the header with who is signed in and sign-out, the navigation, and the
// view of the current route. Without a kept key, the sign-in form.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Api } from '../api.js';
import { hrefOf, onLinkClick, useRoute, type Route } from '../router.js';
import type { Whoami } from '../schemas.js';
import { createSession, SessionContext, type Session } from '../session-context.js';
import { forgetKey, storedKey, storeKey } from '../session.js';
import { AgentsPage } from './agents-page.js';
import { Inbox } from './inbox.js';
import { PipelinePage } from './pipeline-page.js';
import { PipelinesList } from './pipelines-list.js';
import { SchedulesPage } from './schedules-page.js';
import { SignIn, signIn } from './sign-in.js';
import { TimelinePage } from './timeline.js';

function View({ route }: { route: Route }) {
  switch (route.page) {
    case 'pipelines':
      return <PipelinesList />;
    case 'pipeline':
      return <PipelinePage key={route.id} id={route.id} />;
    case 'timeline':
      return <TimelinePage key={route.id} id={route.id} />;
    case 'inbox':
      return <Inbox />;
    case 'schedules':
      return <SchedulesPage />;
    case 'agents':
      return <AgentsPage />;
  }
}

function NavLink({ to, current, children }: { to: Route; current: Route; children: string }) {
  const active = to.page === current.page;
  return (
    <a href={hrefOf(to)} onClick={onLinkClick} aria-current={active ? 'page' : undefined}>
      {children}
    </a>
  );
}

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | undefined>();
  const [restoring, setRestoring] = useState(() => storedKey() !== undefined);
  const [notice, setNotice] = useState<string | undefined>();

  // A key kept from earlier in this tab is checked again: it may have been revoked meanwhile.
  useEffect(() => {
    const key = storedKey();
    if (!key) return;
    signIn(key).then(
      ({ api, me }) => {
        setSession(createSession(api, me));
        setRestoring(false);
      },
      (error: unknown) => {
        forgetKey();
        setNotice(error instanceof ApiError ? `Signed out: ${error.message}` : undefined);
        setRestoring(false);
      },
    );
  }, []);

  const signedIn = (api: Api, me: Whoami) => {
    storeKey(api.key);
    setSession(createSession(api, me));
    setNotice(undefined);
  };
  const signOut = () => {
    forgetKey();
    setSession(undefined);
  };

  if (restoring) return <p class="boot">Signing in…</p>;
  if (!session) return <SignIn onSignedIn={signedIn} notice={notice} />;
  return (
    <SessionContext.Provider value={session}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">agentic-sdlc</span>
        <nav aria-label="Main">
          <NavLink to={{ page: 'pipelines' }} current={route}>
            Pipelines
          </NavLink>
          <NavLink to={{ page: 'inbox' }} current={route}>
            Inbox
          </NavLink>
          <NavLink to={{ page: 'schedules' }} current={route}>
            Schedules
          </NavLink>
          <NavLink to={{ page: 'agents' }} current={route}>
            Agents
          </NavLink>
        </nav>
        <span class="who" data-testid="who">
          Signed in as <strong>{session.me.name}</strong> · roles: <span class="roles">{session.me.roles.join(', ')}</span>
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <View route={route} />
      </main>
    </SessionContext.Provider>
  );
}
