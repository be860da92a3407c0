/** The shell: navigation, connection settings, theme, and the routed page. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { connection, saveConnection } from './api.js';
import { RequestPage } from './pages/request.js';
import { RequestsPage } from './pages/requests.js';
import { RunnersPage } from './pages/runners.js';
import { StartPage } from './pages/start.js';
import { parseRoute, useLocation } from './router.js';
import { Link } from './ui.js';

type Theme = 'light' | 'dark';
const THEME_KEY = 'spincycle.theme';

function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App() {
  const loc = useLocation();
  const route = parseRoute(loc.pathname);
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [settingsOpen, setSettingsOpen] = useState(false);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  useEffect(() => {
    const ask = () => setSettingsOpen(true);
    window.addEventListener('spincycle:ask-token', ask);
    return () => window.removeEventListener('spincycle:ask-token', ask);
  }, []);
  const toggleTheme = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem(THEME_KEY, next);
    setTheme(next);
  };
  const current = (page: string) => (route.page === page ? 'page' : undefined);

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Spin Cycle</span>
        <nav aria-label="main">
          <ul>
            <li aria-current={current('requests')}>
              <Link href="/">Requests</Link>
            </li>
            <li aria-current={current('start')}>
              <Link href="/start">Start</Link>
            </li>
            <li aria-current={current('runners')}>
              <Link href="/runners">Job Runners</Link>
            </li>
          </ul>
        </nav>
        <div class="top-actions">
          <button type="button" onClick={() => setSettingsOpen(!settingsOpen)} aria-expanded={settingsOpen}>
            Connection
          </button>
          <button type="button" onClick={toggleTheme} aria-pressed={theme === 'dark'} id="theme-toggle">
            {theme === 'dark' ? 'Light theme' : 'Dark theme'}
          </button>
        </div>
      </header>
      {settingsOpen && <Settings onDone={() => setSettingsOpen(false)} />}
      <main id="main" tabIndex={-1}>
        {route.page === 'requests' && <RequestsPage search={loc.search} />}
        {route.page === 'request' && <RequestPage key={route.id} id={route.id} />}
        {route.page === 'start' && <StartPage type={route.type} />}
        {route.page === 'runners' && <RunnersPage />}
        {route.page === 'not-found' && (
          <div class="empty">
            <h1>No such page</h1>
            <Link href="/">Back to the requests</Link>
          </div>
        )}
      </main>
    </>
  );
}

function Settings({ onDone }: { onDone: () => void }) {
  const c = connection();
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    saveConnection({
      base: String(f.get('base') ?? '').trim() || location.origin,
      token: String(f.get('token') ?? '').trim(),
    });
    onDone();
  };
  return (
    <form class="settings" onSubmit={submit} aria-label="connection">
      <label>
        API base
        <input ref={first} name="base" defaultValue={c.base} type="url" autocomplete="off" />
      </label>
      <label>
        Bearer token <span class="hint">(only when the RM requires one; kept for this tab only)</span>
        <input name="token" type="password" defaultValue={c.token} autocomplete="off" />
      </label>
      <div class="filter-actions">
        <button type="submit" class="primary">
          Save
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
