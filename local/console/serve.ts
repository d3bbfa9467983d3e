/**
 * Serves the console page from the stack: `GET /` (the page, with the local endpoints and API key
 * written into it) and `GET /console/*` (the bundle from dist/console, built on demand if missing).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { LocalHttpServer } from '../http-server';
import { buildConsole, consoleBuilt, CONSOLE_DIST } from './build';
import { CONSOLE_STORAGE } from './storage';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
};

export interface ConsoleConfig {
  apiKey: string;
  graphqlPath: string;
  realtimePath: string;
}

function page(config: ConsoleConfig): string {
  // The JSON goes into a script element: escape `<` so no value can close it.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AnimeLog local console</title>
<link rel="stylesheet" href="/console/app.css">
<style>
  html, body, #root { height: 100%; margin: 0; }
  .animelog-console { display: flex; flex-direction: column; height: 100%; font-family: system-ui, sans-serif; }
  .animelog-bar { display: flex; gap: 12px; align-items: center; padding: 6px 12px; border-bottom: 1px solid #ddd; font-size: 14px; flex-wrap: wrap; }
  .animelog-error { color: #b00020; }
  .animelog-endpoints { color: #666; font-size: 12px; margin-left: auto; }
  .animelog-editor { flex: 1; min-height: 0; }
  .animelog-editor .graphiql-container { height: 100%; }
</style>
</head>
<body>
<div id="root"></div>
<script>window.ANIMELOG_CONSOLE = ${json};</script>
<script type="module" src="/console/app.js"></script>
</body>
</html>
`;
}


const COMPLETE_LOGIN = 'mutation($c: String!, $s: String!, $k: String!) { completeLogin(code: $c, state: $s, loginSecret: $k) { sessionToken } }';

function escapeHtml(value: string | null): string {
  return (value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * `GET /auth/callback`, the local redirect URI: where MAL sends the browser back with `code` and `state`.
 * When the console started this sign-in (its state and client-held secret are in session storage), the
 * page completes it, keeps the session token for the console and goes back to it; otherwise it shows
 * code and state for a manual `completeLogin`.
 */
export function mountSignInCallback(http: LocalHttpServer, config: { apiKey: string; graphqlPath: string }): void {
  const script = `(async () => {
  const q = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(${JSON.stringify(CONSOLE_STORAGE.pendingLogin)}) || 'null');
  if (!pending || pending.state !== q.get('state')) return;
  sessionStorage.removeItem(${JSON.stringify(CONSOLE_STORAGE.pendingLogin)});
  const status = document.getElementById('status');
  status.textContent = 'Completing the sign-in…';
  const response = await fetch(${JSON.stringify(config.graphqlPath)}, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': ${JSON.stringify(config.apiKey)} },
    body: JSON.stringify({ query: ${JSON.stringify(COMPLETE_LOGIN)}, variables: { c: q.get('code'), s: q.get('state'), k: pending.secret } }),
  });
  const body = await response.json().catch(() => ({}));
  const token = body.data && body.data.completeLogin && body.data.completeLogin.sessionToken;
  if (!token) { status.textContent = 'Sign-in failed: ' + ((body.errors && body.errors[0] && body.errors[0].message) || response.status); return; }
  sessionStorage.setItem(${JSON.stringify(CONSOLE_STORAGE.sessionToken)}, token);
  location.replace('/');
})();`.replace(/</g, '\\u003c');
  http.route('GET', '/auth/callback', (req, res) => {
    const query = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(
      `<!doctype html><title>AnimeLog sign-in</title><h1>MAL sent you back</h1><p id="status"></p>` +
        `<p>Complete the sign-in with <code>completeLogin(code, state, loginSecret)</code>:</p>` +
        `<p>code: <code id="code">${escapeHtml(query.get('code'))}</code></p><p>state: <code id="state">${escapeHtml(query.get('state'))}</code></p>` +
        `<script>${script}</script>`,
    );
  });
}

/** Registers the console's routes; builds the bundle first if dist/console has none. */
export async function mountConsole(http: LocalHttpServer, config: ConsoleConfig, dir = CONSOLE_DIST): Promise<void> {
  if (!consoleBuilt(dir)) await buildConsole(dir);
  const html = page(config);
  http.route('GET', '/', (_req, res) => {
    res.writeHead(200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(html) });
    res.end(html);
  });
  for (const file of readdirSync(dir)) {
    const type = TYPES[extname(file)];
    if (!type) continue;
    const path = join(dir, file);
    http.route('GET', `/console/${file}`, (_req, res) => {
      const body = readFileSync(path);
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', 'content-length': body.length });
      res.end(body);
    });
  }
}
