/** The dashboard's few routes, all under /ui/ (the RM answers index.html for each). */
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/ui';

export type Route =
  | { page: 'requests' }
  | { page: 'request'; id: string }
  | { page: 'start'; type: string | undefined }
  | { page: 'runners' }
  | { page: 'not-found' };

export function parseRoute(pathname: string): Route {
  const p = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = p.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: 'requests' };
  if (parts[0] === 'requests' && parts.length === 2) return { page: 'request', id: parts[1] as string };
  if (parts[0] === 'start' && parts.length <= 2) return { page: 'start', type: parts[1] };
  if (parts[0] === 'runners' && parts.length === 1) return { page: 'runners' };
  return { page: 'not-found' };
}

export function navigate(path: string, replace = false): void {
  const to = `${BASE}${path}`;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** The current location, re-rendering on navigation. */
export function useLocation(): { pathname: string; search: string } {
  const read = () => ({ pathname: location.pathname, search: location.search });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const on = () => setLoc(read());
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  return loc;
}
