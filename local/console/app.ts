/// <reference lib="dom" />
/**
 * The local console: GraphiQL (schema-aware completion, docs, history) against the local API. Queries
 * and mutations go over HTTP POST /graphql; subscriptions over the AppSync real-time WebSocket. Auth is
 * the local API key or a session token, chosen in the bar above the editor; headers typed into
 * GraphiQL's headers tab are added on top. Everything is bundled and served locally (no CDN).
 */
import { createElement as h, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { getOperationAST, parse } from 'graphql';
import 'graphiql/style.css';
import { subscribe } from './realtime-client';

declare global {
  interface Window {
    ANIMELOG_CONSOLE: { apiKey: string; graphqlPath: string; realtimePath: string };
  }
}

// Monaco's workers, bundled beside this file by local/console/build.ts (classic workers: no module support needed).
(globalThis as unknown as { MonacoEnvironment: unknown }).MonacoEnvironment = {
  getWorker(_id: string, label: string) {
    const file = label === 'json' ? 'json.worker.js' : label === 'graphql' ? 'graphql.worker.js' : 'editor.worker.js';
    return new Worker(`/console/${file}`);
  },
};

const config = window.ANIMELOG_CONSOLE;
const graphqlUrl = new URL(config.graphqlPath, location.href).toString();
const realtimeUrl = new URL(config.realtimePath, location.href.replace(/^http/, 'ws')).toString();

const DEFAULT_QUERY = `# AnimeLog local console. Pick the auth above (API key or a session token), then run.
# Queries and mutations go to ${config.graphqlPath}; subscriptions to the real-time endpoint.

query Me {
  me { userId malUserName lastSyncAt }
}

subscription Progress($jobId: ID) {
  onSyncProgress(jobId: $jobId) { jobId seq status phase processed total currentSeries at }
}
`;

type AuthMode = 'apiKey' | 'token';

function authHeaders(mode: AuthMode, apiKey: string, token: string): Record<string, string> {
  return mode === 'apiKey' ? { 'x-api-key': apiKey } : { Authorization: token };
}

function isSubscription(query: string, operationName?: string | null): boolean {
  try {
    return getOperationAST(parse(query), operationName ?? undefined)?.operation === 'subscription';
  } catch {
    return false;
  }
}

function App() {
  const params = new URLSearchParams(location.search);
  const [mode, setMode] = useState<AuthMode>('apiKey');
  const [apiKey, setApiKey] = useState(config.apiKey);
  const [token, setToken] = useState('');

  const fetcher = useMemo(
    () =>
      async (request: { query: string; variables?: unknown; operationName?: string | null }, options?: { headers?: Record<string, unknown> }) => {
        const extra: Record<string, string> = {};
        for (const [key, value] of Object.entries(options?.headers ?? {})) if (typeof value === 'string') extra[key] = value;
        const auth = { ...authHeaders(mode, apiKey, token), ...extra };
        if (isSubscription(request.query, request.operationName)) {
          return subscribe({
            realtimeUrl,
            graphqlHost: new URL(graphqlUrl).host,
            auth,
            query: request.query,
            variables: (request.variables as Record<string, unknown>) ?? {},
            operationName: request.operationName,
          });
        }
        const response = await fetch(graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
          body: JSON.stringify(request),
        });
        return response.json();
      },
    [mode, apiKey, token],
  );

  const bar = h(
    'div',
    { className: 'animelog-bar' },
    h('strong', null, 'AnimeLog local'),
    h(
      'label',
      null,
      'Auth ',
      h(
        'select',
        { id: 'auth-mode', value: mode, onChange: (e: { target: { value: string } }) => setMode(e.target.value as AuthMode) },
        h('option', { value: 'apiKey' }, 'API key'),
        h('option', { value: 'token' }, 'Session token (Lambda authorizer)'),
      ),
    ),
    mode === 'apiKey'
      ? h('input', { id: 'auth-api-key', size: 40, value: apiKey, onChange: (e: { target: { value: string } }) => setApiKey(e.target.value), 'aria-label': 'API key' })
      : h('input', {
          id: 'auth-token',
          size: 60,
          value: token,
          placeholder: 'als_… session token',
          onChange: (e: { target: { value: string } }) => setToken(e.target.value),
          'aria-label': 'Session token',
        }),
    h('span', { className: 'animelog-endpoints' }, `${graphqlUrl} · ${realtimeUrl}`),
  );

  return h(
    'div',
    { className: 'animelog-console' },
    bar,
    h(
      'div',
      { className: 'animelog-editor' },
      // A new fetcher means new auth; GraphiQL keeps its tabs and editors across it.
      h(GraphiQL, {
        fetcher: fetcher as never,
        defaultQuery: DEFAULT_QUERY,
        initialQuery: params.get('query') ?? undefined,
        initialVariables: params.get('variables') ?? undefined,
      }),
    ),
  );
}

createRoot(document.getElementById('root')!).render(h(App));
