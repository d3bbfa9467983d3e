/**
 * Serves the console page from the stack: `GET /` (the page, with the local endpoints and API key
 * written into it) and `GET /console/*` (the bundle from dist/console, built on demand if missing).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { LocalHttpServer } from '../http-server';
import { buildConsole, consoleBuilt, CONSOLE_DIST } from './build';

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
