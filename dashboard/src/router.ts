// Client routes under /dashboard with the History API (the server answers index.html for any of
// them): the list, a pipeline (with its timeline), the inbox, the schedules, and the agent types.
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/dashboard';

export type Route =
  | { page: 'pipelines' }
  | { page: 'pipeline'; id: string }
  | { page: 'timeline'; id: string }
  | { page: 'inbox' }
  | { page: 'schedules' }
  | { page: 'agents' };

export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'inbox') return { page: 'inbox' };
  if (parts[0] === 'schedules') return { page: 'schedules' };
  if (parts[0] === 'agents') return { page: 'agents' };
  if (parts[0] === 'pipelines' && parts[1])
    return parts[2] === 'timeline' ? { page: 'timeline', id: parts[1] } : { page: 'pipeline', id: parts[1] };
  return { page: 'pipelines' };
}

export function hrefOf(route: Route): string {
  switch (route.page) {
    case 'pipelines':
      return `${BASE}/pipelines`;
    case 'inbox':
      return `${BASE}/inbox`;
    case 'schedules':
      return `${BASE}/schedules`;
    case 'agents':
      return `${BASE}/agents`;
    case 'pipeline':
      return `${BASE}/pipelines/${encodeURIComponent(route.id)}`;
    case 'timeline':
      return `${BASE}/pipelines/${encodeURIComponent(route.id)}/timeline`;
  }
}

const listeners = new Set<() => void>();

export function navigate(href: string): void {
  history.pushState(null, '', href);
  for (const listener of listeners) listener();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** A link that changes the route without a reload (a modified click opens a tab as usual). */
export function onLinkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = event.currentTarget as HTMLAnchorElement;
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
