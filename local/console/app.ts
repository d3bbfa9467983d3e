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
import { createLoginSecret } from '../../client/index';
import { CONSOLE_STORAGE } from './storage';

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

// One operation, so the first click runs it. After "Sign in with MAL (sandbox)" it runs as that user.
const DEFAULT_QUERY = `# AnimeLog local console. "Sign in with MAL (sandbox)" above puts a session token in place;
# then run this. Queries and mutations go to ${config.graphqlPath}; subscriptions, such as
#   subscription { onSyncProgress { jobId seq status phase processed total currentSeries at } }
# go over the real-time endpoint.

query Me {
  me { userId malUserName lastSyncAt }
}
`;

const START_LOGIN = 'mutation($r: AWSURL!, $h: String!) { startLogin(redirectUri: $r, loginSecretHash: $h) { authorizeUrl state } }';

/**
 * Starts Sign in with MAL for the console: the client-held secret and the state wait in session storage
 * while MAL (the sandbox locally) asks for consent; /auth/callback completes the sign-in with them.
 */
async function signInWithMal(apiKey: string): Promise<string | undefined> {
  const { secret, hash } = await createLoginSecret();
  const redirectUri = new URL('/auth/callback', location.href).toString();
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ query: START_LOGIN, variables: { r: redirectUri, h: hash } }),
  });
  const body = (await response.json().catch(() => ({}))) as { data?: { startLogin?: { authorizeUrl: string; state: string } }; errors?: { message: string }[] };
  const started = body.data?.startLogin;
  if (!started) return body.errors?.[0]?.message ?? `sign-in could not start (HTTP ${response.status})`;
  sessionStorage.setItem(CONSOLE_STORAGE.pendingLogin, JSON.stringify({ state: started.state, secret }));
  location.assign(started.authorizeUrl);
  return undefined;
}

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
  const signedIn = sessionStorage.getItem(CONSOLE_STORAGE.sessionToken) ?? '';
  const [mode, setMode] = useState<AuthMode>(signedIn ? 'token' : 'apiKey');
  const [apiKey, setApiKey] = useState(config.apiKey);
  const [token, setToken] = useState(signedIn);
  const [signInError, setSignInError] = useState('');

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
          onChange: (e: { target: { value: string } }) => {
            setToken(e.target.value);
            sessionStorage.setItem(CONSOLE_STORAGE.sessionToken, e.target.value);
          },
          'aria-label': 'Session token',
        }),
    h(
      'button',
      { id: 'sign-in-mal', type: 'button', onClick: () => void signInWithMal(apiKey).then((error) => setSignInError(error ?? '')) },
      'Sign in with MAL (sandbox)',
    ),
    signInError ? h('span', { id: 'sign-in-error', className: 'animelog-error' }, signInError) : null,
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
