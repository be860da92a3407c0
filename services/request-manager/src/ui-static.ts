/**
 * The web dashboard (packages/web, built by `pnpm build`) at /ui/: its static files,
 * and index.html for every other /ui/ path so deep links load (the dashboard routes
 * in the browser). No authentication here: the files hold no data, and the
 * dashboard's API calls carry the user's token. A strict Content-Security-Policy:
 * scripts and styles only from these files, nothing inline.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorBody, sendJson } from '@spincycle/service-kit';
import express, { type RequestHandler, Router } from 'express';

/** Where `pnpm build` leaves the dashboard, from this file's place in dist/. */
const UI_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../../packages/web/dist');

const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  // The API base is configurable in the dashboard (another RM behind the same proxy, say).
  "connect-src 'self' http: https:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', UI_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
};

/** Mounted with `app.use('/ui', uiStatic())`. */
export function uiStatic(dir = UI_DIST): Router {
  const router = Router({ strict: true });
  router.use(securityHeaders);
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    router.use((_req, res) =>
      sendJson(res, 404, errorBody('the dashboard is not built (run pnpm build)', 404)),
    );
    return router;
  }
  // `/ui` → `/ui/`, so the page's relative URLs resolve under /ui/.
  router.get('/', (req, res, next) =>
    req.originalUrl.split('?')[0] === '/ui' ? res.redirect(301, '/ui/') : next(),
  );
  // Hashed asset names: cached for good; index.html always revalidated.
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false }),
    (_req, res) => sendJson(res, 404, errorBody('Not Found', 404)),
  );
  router.use(express.static(dir, { index: false, maxAge: 0 }));
  router.get(/.*/, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
