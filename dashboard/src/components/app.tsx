// The page: a skip link, the header with who is signed in and sign-out, the navigation, and the
// view of the current route. Without a kept key, the sign-in form. A key the API refuses (401)
// signs the page out with the API's reason, on load or at any call or event stream later.
import { useEffect, useRef, useState } from 'preact/hooks';
import { isRefusal, messageOf, type Api, type ApiError } from '../api.js';
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
  // The key of the session shown: a late refusal of a key signed out since changes nothing.
  const current = useRef<string | undefined>();

  const refused = (key: string, error: ApiError) => {
    if (current.current !== key) return;
    current.current = undefined;
    forgetKey();
    setSession(undefined);
    setNotice(`Signed out: ${error.message}`);
  };

  // A key kept from earlier in this tab is checked again: it may have been revoked meanwhile.
  useEffect(() => {
    const key = storedKey();
    if (!key) return;
    signIn(key, (error) => refused(key, error)).then(
      ({ api, me }) => {
        current.current = key;
        setSession(createSession(api, me));
        setRestoring(false);
      },
      (error: unknown) => {
        // Only a refused key is forgotten: a 429, a 503 or a network error says nothing about it.
        if (isRefusal(error)) {
          forgetKey();
          setNotice(`Signed out: ${error.message}`);
        } else {
          setNotice(`The kept key could not be checked: ${messageOf(error)} Reload the page to try again.`);
        }
        setRestoring(false);
      },
    );
  }, []);

  const signedIn = (api: Api, me: Whoami) => {
    storeKey(api.key);
    current.current = api.key;
    setSession(createSession(api, me));
    setNotice(undefined);
  };
  const signOut = () => {
    current.current = undefined;
    forgetKey();
    setSession(undefined);
  };

  if (restoring) return <p class="boot">Signing in…</p>;
  if (!session) return <SignIn onSignedIn={signedIn} onRefused={refused} notice={notice} />;
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
          Signed in as{' '}
          <strong>
            <bdi>{session.me.name}</bdi>
          </strong>{' '}
          · roles: <span class="roles">{session.me.roles.join(', ')}</span>
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
