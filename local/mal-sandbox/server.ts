/**
 * The MAL sandbox: an HTTP server on 127.0.0.1 that follows MyAnimeList's OAuth 2 and API v2 contract
 * for what AnimeLog uses, with switchable misbehaviour (throttling, 5xx, latency, early token expiry).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Catalog, loadCatalog, parseFields, DEFAULT_CATALOG_PATH } from './catalog';
import {
  LIST_STATUSES,
  ListStore,
  defaultListStatus,
  malTimestamp,
  type SandboxListStatus,
  type SandboxListStatusName,
  type SandboxSeedEntry,
  type SandboxUser,
} from './lists';

export interface MalSandboxFaults {
  /** Requests per second per client above which the API throttles; `null` turns rate limiting off. */
  rateLimitPerSecond: number | null;
  /** MAL answers throttled requests with 429, and sometimes with 403. */
  throttleStatus: 429 | 403;
  /** `Retry-After` seconds on throttled answers; `null` sends none (MAL usually sends none). */
  throttleRetryAfterSeconds: number | null;
  /** The next N API/token requests fail with `failStatus`. */
  failNextRequests: number;
  /** Fraction (0–1) of API/token requests that fail with `failStatus`. */
  failRate: number;
  failStatus: number;
  /** Added before answering each API/token request. */
  latencyMs: number;
  /** Caps every access token's lifetime (issued ones too), to expire tokens early; `null` = normal. */
  accessTokenLifetimeSeconds: number | null;
}

/** What `setFaults` / `POST /__sandbox/faults` take: fault settings plus one-off actions. */
export interface MalSandboxFaultUpdate extends Partial<MalSandboxFaults> {
  /** Revoke now every access token (`true`) or those of one user name. */
  revokeAccessTokens?: boolean | string;
  /** Revoke now every refresh token (`true`) or those of one user name. */
  revokeRefreshTokens?: boolean | string;
}

export interface MalSandboxOptions {
  /** 0 (default) picks a free port. The server binds 127.0.0.1 only. */
  port?: number;
  /** A loaded catalog or a `.jsonl`/`.jsonl.gz` path; the repo's fixture by default. */
  catalog?: Catalog | string;
  /** Keep user lists in this JSON file (loaded at start, written on change). */
  listsFile?: string;
  clientId?: string;
  clientSecret?: string;
  /** Registered redirect URIs (exact match, as MAL). Default: any http URL on 127.0.0.1/localhost. */
  redirectUris?: string[];
  /** Normal access-token lifetime; MAL documents one hour. */
  accessTokenLifetimeSeconds?: number;
  /** MAL documents one month. */
  refreshTokenLifetimeSeconds?: number;
  authorizationCodeLifetimeSeconds?: number;
  /** `false` turns rate limiting off (benchmarks); same as `faults.rateLimitPerSecond: null`. */
  rateLimit?: boolean;
  faults?: Partial<MalSandboxFaults>;
  /** How many request-log entries to keep (oldest dropped first). */
  requestLogLimit?: number;
}

export interface MalSandboxRequestLogEntry {
  seq: number;
  at: string;
  method: string;
  path: string;
  query: string;
  status: number;
  durationMs: number;
  /** Client the request was attributed to (token's client, X-MAL-CLIENT-ID, or form client_id). */
  clientId?: string;
  userName?: string;
  /** The caller's `X-Request-Id`, when sent: lets tests group the attempts of one logical call. */
  requestId?: string;
  /** Why the sandbox answered with an error of its own making. */
  fault?: 'throttled' | 'injected';
}

export interface MalSandboxStats {
  requests: number;
  byStatus: Record<string, number>;
  throttled: number;
  injectedFailures: number;
  tokensIssued: number;
}

export interface MalSandbox {
  url: string;
  authBaseUrl: string;
  apiBaseUrl: string;
  clientId: string;
  clientSecret: string;
  port: number;
  catalog: Catalog;
  close(): Promise<void>;
  seedList(userName: string, entries: SandboxSeedEntry[]): void;
  getList(userName: string): Array<{ animeId: number; listStatus: SandboxListStatus }>;
  setFaults(update: MalSandboxFaultUpdate): MalSandboxFaults;
  getFaults(): MalSandboxFaults;
  /** Live, newest last; bounded by `requestLogLimit`. Never contains tokens. */
  readonly requestLog: MalSandboxRequestLogEntry[];
  readonly stats: MalSandboxStats;
}

const DEFAULT_FAULTS: MalSandboxFaults = {
  rateLimitPerSecond: 3,
  throttleStatus: 429,
  throttleRetryAfterSeconds: null,
  failNextRequests: 0,
  failRate: 0,
  failStatus: 500,
  latencyMs: 0,
  accessTokenLifetimeSeconds: null,
};

interface TokenRecord {
  kind: 'access' | 'refresh';
  clientId: string;
  userName: string;
  issuedAtMs: number;
  lifetimeSeconds: number;
  revoked: boolean;
  /** The authorization grant the token descends from, to revoke a family when its code is replayed. */
  grantId: string;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  userName: string;
  expiresAtMs: number;
  used: boolean;
  grantId: string;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message ?? body.error));
    this.name = 'HttpProblem';
  }
}

const MAX_BODY_BYTES = 1_000_000;
const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const DATE_FORMAT = /^\d{4}(-\d{2}(-\d{2})?)?$/;

function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpProblem(413, { error: 'payload_too_large', message: 'request body too large' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function invalidToken(message = 'token is invalid'): HttpProblem {
  return new HttpProblem(
    401,
    { error: 'invalid_token', message },
    { 'WWW-Authenticate': `Bearer realm="myanimelist", error="invalid_token", error_description="${message}"` },
  );
}

function badRequest(message: string): HttpProblem {
  return new HttpProblem(400, { error: 'bad_request', message });
}

function notFound(): HttpProblem {
  return new HttpProblem(404, { error: 'not_found', message: '' });
}

/** The league/oauth2-server messages MAL's token endpoint answers with. */
const OAUTH_MESSAGES = {
  invalid_request:
    'The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.',
  invalid_grant:
    'The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
  invalid_client: 'Client authentication failed',
  unsupported_grant_type: 'The authorization grant type is not supported by the authorization server.',
} as const;

function oauthError(error: keyof typeof OAUTH_MESSAGES, hint?: string): HttpProblem {
  const status = error === 'invalid_client' ? 401 : 400;
  return new HttpProblem(status, { error, message: OAUTH_MESSAGES[error], ...(hint ? { hint } : {}) });
}

function isLoopbackRedirect(uri: string): boolean {
  try {
    const url = new URL(uri);
    return (url.protocol === 'http:' || url.protocol === 'https:') && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

export async function startMalSandbox(options: MalSandboxOptions = {}): Promise<MalSandbox> {
  const catalog =
    options.catalog instanceof Catalog ? options.catalog : await loadCatalog(options.catalog ?? DEFAULT_CATALOG_PATH);
  const lists = new ListStore(options.listsFile);
  const clientId = options.clientId ?? randomBytes(16).toString('hex');
  const clientSecret = options.clientSecret ?? randomBytes(32).toString('hex');
  const accessLifetime = options.accessTokenLifetimeSeconds ?? 3600;
  const refreshLifetime = options.refreshTokenLifetimeSeconds ?? 30 * 24 * 3600;
  const codeLifetime = options.authorizationCodeLifetimeSeconds ?? 300;
  const requestLogLimit = options.requestLogLimit ?? 20_000;
  const faults: MalSandboxFaults = { ...DEFAULT_FAULTS, ...options.faults };
  if (options.rateLimit === false) faults.rateLimitPerSecond = null;

  const tokens = new Map<string, TokenRecord>();
  const codes = new Map<string, AuthorizationCode>();
  /** Accepted request times per client over the last second (sliding window). */
  const recentRequests = new Map<string, number[]>();
  const requestLog: MalSandboxRequestLogEntry[] = [];
  const stats: MalSandboxStats = { requests: 0, byStatus: {}, throttled: 0, injectedFailures: 0, tokensIssued: 0 };
  let seq = 0;
  let baseUrl = '';

  // ---------- helpers over state ----------

  function effectiveAccessLifetime(record: TokenRecord): number {
    return faults.accessTokenLifetimeSeconds === null
      ? record.lifetimeSeconds
      : Math.min(record.lifetimeSeconds, faults.accessTokenLifetimeSeconds);
  }

  function tokenIsLive(record: TokenRecord, now = Date.now()): boolean {
    if (record.revoked) return false;
    const lifetime = record.kind === 'access' ? effectiveAccessLifetime(record) : record.lifetimeSeconds;
    return now < record.issuedAtMs + lifetime * 1000;
  }

  function issueTokens(userName: string, forClientId: string, grantId: string) {
    const accessToken = randomToken(48);
    const refreshToken = randomToken(48);
    const now = Date.now();
    tokens.set(accessToken, { kind: 'access', clientId: forClientId, userName, issuedAtMs: now, lifetimeSeconds: accessLifetime, revoked: false, grantId });
    tokens.set(refreshToken, { kind: 'refresh', clientId: forClientId, userName, issuedAtMs: now, lifetimeSeconds: refreshLifetime, revoked: false, grantId });
    stats.tokensIssued += 1;
    // Early expiry (a fault) is not announced: expires_in states the normal lifetime, as MAL would.
    return { token_type: 'Bearer', expires_in: accessLifetime, access_token: accessToken, refresh_token: refreshToken };
  }

  function revoke(kind: 'access' | 'refresh', who: boolean | string | undefined): void {
    if (!who) return;
    for (const record of tokens.values()) {
      if (record.kind !== kind) continue;
      if (who === true || record.userName.toLowerCase() === String(who).toLowerCase()) record.revoked = true;
    }
  }

  function setFaults(update: MalSandboxFaultUpdate): MalSandboxFaults {
    const { revokeAccessTokens, revokeRefreshTokens, ...settings } = update;
    for (const [key, value] of Object.entries(settings)) {
      if (!(key in DEFAULT_FAULTS)) throw badRequest(`unknown fault ${key}`);
      if (value !== undefined) (faults as unknown as Record<string, unknown>)[key] = value;
    }
    revoke('access', revokeAccessTokens);
    revoke('refresh', revokeRefreshTokens);
    return { ...faults };
  }

  /** Sliding one-second window per client; only accepted requests count, as a throttle that lets a polite client back in. */
  function isThrottled(clientKey: string): boolean {
    const limit = faults.rateLimitPerSecond;
    if (limit === null || limit <= 0) return false;
    const now = Date.now();
    const times = (recentRequests.get(clientKey) ?? []).filter((t) => now - t < 1000);
    if (times.length >= limit) {
      recentRequests.set(clientKey, times);
      return true;
    }
    times.push(now);
    recentRequests.set(clientKey, times);
    return false;
  }

  function shouldInjectFailure(): boolean {
    if (faults.failNextRequests > 0) {
      faults.failNextRequests -= 1;
      return true;
    }
    return faults.failRate > 0 && Math.random() < faults.failRate;
  }

  function pagingUrl(path: string, params: URLSearchParams, offset: number): string {
    const next = new URLSearchParams(params);
    next.set('offset', String(offset));
    return `${baseUrl}${path}?${next.toString()}`;
  }

  // ---------- request context ----------

  interface Context {
    request: IncomingMessage;
    url: URL;
    log: MalSandboxRequestLogEntry;
  }

  /** Who is calling the API: a live user token, or (public reads) a known X-MAL-CLIENT-ID. */
  function authenticate(ctx: Context, requireUser: boolean): { clientId: string; user?: SandboxUser } {
    const authorization = ctx.request.headers.authorization;
    if (authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      const record = match ? tokens.get(match[1]) : undefined;
      if (!record || record.kind !== 'access' || !tokenIsLive(record)) throw invalidToken();
      ctx.log.userName = record.userName;
      return { clientId: record.clientId, user: lists.getOrCreateUser(record.userName) };
    }
    const headerClientId = ctx.request.headers['x-mal-client-id'];
    if (!requireUser && typeof headerClientId === 'string') {
      if (headerClientId !== clientId) throw new HttpProblem(401, { error: 'invalid_client', message: 'invalid client id' });
      return { clientId: headerClientId };
    }
    throw invalidToken();
  }

  function clientKeyFor(request: IncomingMessage): string {
    const authorization = request.headers.authorization;
    const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
    const record = match ? tokens.get(match[1]) : undefined;
    if (record) return record.clientId;
    const headerClientId = request.headers['x-mal-client-id'];
    if (typeof headerClientId === 'string') return headerClientId;
    return `ip:${request.socket.remoteAddress ?? 'unknown'}`;
  }

  // ---------- OAuth ----------

  interface AuthorizeRequest {
    clientId: string;
    redirectUri: string;
    state: string | null;
    codeChallenge: string;
  }

  /** Validates the authorize query; problems are answered with a page, never redirected to an unchecked URI. */
  function parseAuthorize(params: URLSearchParams): AuthorizeRequest {
    const page = (message: string) => new HttpProblem(400, { error: 'invalid_request', message });
    if (params.get('response_type') !== 'code') throw page('response_type must be "code"');
    const requestedClientId = params.get('client_id');
    if (!requestedClientId || requestedClientId !== clientId) throw page('unknown client_id');
    let redirectUri = params.get('redirect_uri');
    if (!redirectUri) {
      if (options.redirectUris?.length === 1) redirectUri = options.redirectUris[0];
      else throw page('redirect_uri is required');
    }
    const registered = options.redirectUris ? options.redirectUris.includes(redirectUri) : isLoopbackRedirect(redirectUri);
    if (!registered) throw page('redirect_uri does not match a registered redirect URI');
    const method = params.get('code_challenge_method') ?? 'plain';
    if (method !== 'plain') throw page('code_challenge_method must be "plain" (the only method MAL supports)');
    const codeChallenge = params.get('code_challenge');
    if (!codeChallenge || !PKCE_VERIFIER.test(codeChallenge)) {
      throw page('code_challenge is required: 43 to 128 characters of [A-Za-z0-9-._~]');
    }
    return { clientId: requestedClientId, redirectUri, state: params.get('state'), codeChallenge };
  }

  function approve(authorize: AuthorizeRequest, userName: string): string {
    const user = lists.getOrCreateUser(userName);
    const code = randomToken(32);
    codes.set(code, {
      clientId: authorize.clientId,
      redirectUri: authorize.redirectUri,
      codeChallenge: authorize.codeChallenge,
      userName: user.name,
      expiresAtMs: Date.now() + codeLifetime * 1000,
      used: false,
      grantId: randomToken(9),
    });
    const target = new URL(authorize.redirectUri);
    target.searchParams.set('code', code);
    if (authorize.state !== null) target.searchParams.set('state', authorize.state);
    return target.toString();
  }

  function consentPage(authorize: AuthorizeRequest, action: string, error?: string): string {
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MAL sandbox — authorize</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto}label,input,button{display:block;margin:.5rem 0}</style></head>
<body><h1>MyAnimeList sandbox</h1>
<p>An application (client <code>${escapeHtml(authorize.clientId)}</code>) asks to access your anime list.</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">
<label for="user_name">MAL user name</label>
<input id="user_name" name="user_name" required pattern="[A-Za-z0-9_\\-]{2,16}" autocomplete="username">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form></body></html>`;
  }

  function validUserName(name: string | null): name is string {
    return typeof name === 'string' && /^[A-Za-z0-9_-]{2,16}$/.test(name);
  }

  async function handleAuthorize(ctx: Context, response: ServerResponse): Promise<void> {
    const authorize = parseAuthorize(ctx.url.searchParams);
    const action = `${ctx.url.pathname}${ctx.url.search}`;
    if (ctx.request.method === 'GET') {
      const scriptedUser = ctx.url.searchParams.get('sandbox_user');
      if (scriptedUser !== null) {
        if (!validUserName(scriptedUser)) throw new HttpProblem(400, { error: 'invalid_request', message: 'invalid sandbox_user' });
        ctx.log.userName = scriptedUser;
        redirect(response, approve(authorize, scriptedUser));
        return;
      }
      sendHtml(response, 200, consentPage(authorize, action));
      return;
    }
    if (ctx.request.method !== 'POST') throw new HttpProblem(405, { error: 'method_not_allowed', message: '' });
    const form = new URLSearchParams(await readBody(ctx.request));
    if (form.get('decision') === 'deny') {
      const target = new URL(authorize.redirectUri);
      target.searchParams.set('error', 'access_denied');
      if (authorize.state !== null) target.searchParams.set('state', authorize.state);
      redirect(response, target.toString());
      return;
    }
    const userName = form.get('user_name');
    if (!validUserName(userName)) {
      sendHtml(response, 400, consentPage(authorize, action, 'User names are 2–16 letters, digits, _ or -.'));
      return;
    }
    ctx.log.userName = userName;
    redirect(response, approve(authorize, userName));
  }

  async function handleToken(ctx: Context): Promise<Record<string, unknown>> {
    if (ctx.request.method !== 'POST') throw new HttpProblem(405, { error: 'method_not_allowed', message: '' });
    const contentType = ctx.request.headers['content-type'] ?? '';
    const body = await readBody(ctx.request);
    if (!contentType.startsWith('application/x-www-form-urlencoded')) {
      throw oauthError('invalid_request', 'The token endpoint takes application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(body);
    let formClientId = form.get('client_id');
    let formClientSecret = form.get('client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(ctx.request.headers.authorization ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      formClientId ??= id;
      formClientSecret ??= secret;
    }
    ctx.log.clientId = formClientId ?? undefined;
    if (!formClientId || formClientId !== clientId || !formClientSecret || !safeEqual(formClientSecret, clientSecret)) {
      throw oauthError('invalid_client');
    }
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = form.get('code');
      if (!code) throw oauthError('invalid_request', 'Check the `code` parameter');
      const record = codes.get(code);
      if (!record || record.clientId !== formClientId) throw oauthError('invalid_grant', 'Cannot decrypt the authorization code');
      if (record.used) {
        // A replayed code means it leaked: revoke what it produced (RFC 6749 §4.1.2).
        for (const token of tokens.values()) if (token.grantId === record.grantId) token.revoked = true;
        throw oauthError('invalid_grant', 'Authorization code has been revoked');
      }
      record.used = true;
      if (Date.now() > record.expiresAtMs) throw oauthError('invalid_grant', 'Authorization code has expired');
      const redirectUri = form.get('redirect_uri');
      if (redirectUri !== null && redirectUri !== record.redirectUri) throw oauthError('invalid_grant', 'Invalid redirect URI');
      const verifier = form.get('code_verifier');
      if (!verifier) throw oauthError('invalid_request', 'Check the `code_verifier` parameter');
      if (!PKCE_VERIFIER.test(verifier) || !safeEqual(verifier, record.codeChallenge)) {
        throw oauthError('invalid_grant', 'Failed to verify `code_verifier`.');
      }
      ctx.log.userName = record.userName;
      return issueTokens(record.userName, formClientId, record.grantId);
    }
    if (grantType === 'refresh_token') {
      const refreshToken = form.get('refresh_token');
      if (!refreshToken) throw oauthError('invalid_request', 'Check the `refresh_token` parameter');
      const record = tokens.get(refreshToken);
      if (!record || record.kind !== 'refresh' || record.clientId !== formClientId) {
        throw oauthError('invalid_grant', 'Cannot decrypt the refresh token');
      }
      if (!tokenIsLive(record)) throw oauthError('invalid_grant', 'Token has been revoked');
      record.revoked = true; // rotation: a refresh token is good for one refresh
      ctx.log.userName = record.userName;
      return issueTokens(record.userName, formClientId, record.grantId);
    }
    throw oauthError('unsupported_grant_type', 'Check the `grant_type` parameter');
  }

  // ---------- API v2 ----------

  function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
    const raw = params.get(name);
    if (raw === null || raw === '') return fallback;
    if (!/^\d+$/.test(raw)) throw badRequest(`invalid ${name}`);
    const value = Number(raw);
    if (value < min || value > max) throw badRequest(`invalid ${name}`);
    return value;
  }

  function listStatusForRead(status: SandboxListStatus, subFields: Set<string> | undefined): Record<string, unknown> {
    const read: Record<string, unknown> = {
      status: status.status,
      score: status.score,
      num_episodes_watched: status.num_episodes_watched,
      is_rewatching: status.is_rewatching,
      updated_at: status.updated_at,
    };
    if (status.start_date) read.start_date = status.start_date;
    if (status.finish_date) read.finish_date = status.finish_date;
    // Like MAL, the rarer fields only when asked for: list_status{num_times_rewatched,...}.
    for (const extra of ['num_times_rewatched', 'priority', 'rewatch_value', 'tags', 'comments'] as const) {
      if (subFields?.has(extra)) read[extra] = status[extra];
    }
    return read;
  }

  /** The PATCH answer: MAL returns the full list status (reads' names: `num_episodes_watched`). */
  function listStatusForWrite(status: SandboxListStatus): Record<string, unknown> {
    return listStatusForRead(status, new Set(['num_times_rewatched', 'priority', 'rewatch_value', 'tags', 'comments']));
  }

  function animeNode(id: number, fields: Map<string, Set<string>>, user: SandboxUser | undefined, details: boolean) {
    const record = catalog.get(id);
    if (!record) return undefined;
    const node = catalog.toNode(record, fields, details);
    if (fields.has('my_list_status') && user) {
      const status = user.list.get(id);
      if (status) node.my_list_status = listStatusForRead(status, fields.get('my_list_status'));
    }
    return node;
  }

  function searchAnime(ctx: Context, user: SandboxUser | undefined) {
    const params = ctx.url.searchParams;
    const q = params.get('q') ?? '';
    if (q.length < 3 || q.length > 64) throw badRequest('invalid q');
    const limit = intParam(params, 'limit', 100, 1, 100);
    const offset = intParam(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const fields = parseFields(params.get('fields'));
    const results = catalog.search(q);
    const page = results.slice(offset, offset + limit);
    const paging: Record<string, string> = {};
    if (offset + limit < results.length) paging.next = pagingUrl('/v2/anime', params, offset + limit);
    if (offset > 0) paging.previous = pagingUrl('/v2/anime', params, Math.max(0, offset - limit));
    return { data: page.map((r) => ({ node: animeNode(r.mal_id, fields, user, false) })), paging };
  }

  function animeList(ctx: Context, user: SandboxUser, path: string) {
    const params = ctx.url.searchParams;
    const limit = intParam(params, 'limit', 100, 1, 1000);
    const offset = intParam(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const statusFilter = params.get('status');
    if (statusFilter && !LIST_STATUSES.includes(statusFilter as SandboxListStatusName)) throw badRequest('invalid status');
    const sort = params.get('sort') ?? 'anime_title';
    const fields = parseFields(params.get('fields'));
    const entries = [...user.list.entries()]
      .filter(([, status]) => !statusFilter || status.status === statusFilter)
      .map(([id, status]) => ({ id, status, title: catalog.get(id)?.title ?? '' }));
    const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
    switch (sort) {
      case 'anime_title':
        entries.sort((a, b) => a.title.localeCompare(b.title) || byId(a, b));
        break;
      case 'list_updated_at':
        entries.sort((a, b) => b.status.updated_at.localeCompare(a.status.updated_at) || byId(a, b));
        break;
      case 'list_score':
        entries.sort((a, b) => b.status.score - a.status.score || byId(a, b));
        break;
      case 'anime_id':
        entries.sort(byId);
        break;
      default:
        throw badRequest('invalid sort');
    }
    const page = entries.slice(offset, offset + limit);
    const paging: Record<string, string> = {};
    if (offset + limit < entries.length) paging.next = pagingUrl(path, params, offset + limit);
    if (offset > 0) paging.previous = pagingUrl(path, params, Math.max(0, offset - limit));
    return {
      data: page.map((entry) => ({
        node: animeNode(entry.id, fields, user, false) ?? { id: entry.id, title: entry.title },
        ...(fields.has('list_status') ? { list_status: listStatusForRead(entry.status, fields.get('list_status')) } : {}),
      })),
      paging,
    };
  }

  function parseBoolean(value: string, name: string): boolean {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw badRequest(`invalid ${name}`);
  }

  function parseBoundedInt(value: string, name: string, min: number, max: number): number {
    if (!/^\d+$/.test(value)) throw badRequest(`invalid ${name}`);
    const parsed = Number(value);
    if (parsed < min || parsed > max) throw badRequest(`invalid ${name}`);
    return parsed;
  }

  async function updateListStatus(ctx: Context, user: SandboxUser, animeId: number) {
    const record = catalog.get(animeId);
    if (!record) throw notFound();
    const contentType = ctx.request.headers['content-type'] ?? '';
    const body = await readBody(ctx.request);
    if (body && !contentType.startsWith('application/x-www-form-urlencoded')) throw badRequest('invalid content type');
    const form = new URLSearchParams(body);
    const status = { ...(user.list.get(animeId) ?? defaultListStatus()) };
    for (const [name, value] of form) {
      switch (name) {
        case 'status':
          if (!LIST_STATUSES.includes(value as SandboxListStatusName)) throw badRequest('invalid status');
          status.status = value as SandboxListStatusName;
          break;
        case 'is_rewatching':
          status.is_rewatching = parseBoolean(value, name);
          break;
        case 'score':
          status.score = parseBoundedInt(value, name, 0, 10);
          break;
        case 'num_watched_episodes': {
          const episodes = parseBoundedInt(value, name, 0, 100_000);
          // MAL caps progress at the known episode count.
          status.num_episodes_watched = record.episodes ? Math.min(episodes, record.episodes) : episodes;
          break;
        }
        case 'num_times_rewatched':
          status.num_times_rewatched = parseBoundedInt(value, name, 0, 1000);
          break;
        case 'priority':
          status.priority = parseBoundedInt(value, name, 0, 2);
          break;
        case 'rewatch_value':
          status.rewatch_value = parseBoundedInt(value, name, 0, 5);
          break;
        case 'start_date':
        case 'finish_date':
          if (value === '') delete status[name];
          else if (DATE_FORMAT.test(value)) status[name] = value;
          else throw badRequest(`invalid ${name}`);
          break;
        case 'tags':
          status.tags = value.split(',').map((t) => t.trim()).filter(Boolean);
          break;
        case 'comments':
          status.comments = value;
          break;
        default:
          // MAL ignores parameters it does not know.
          break;
      }
    }
    status.updated_at = malTimestamp();
    user.list.set(animeId, status);
    lists.changed();
    return listStatusForWrite(status);
  }

  async function handleApi(ctx: Context): Promise<unknown> {
    const method = ctx.request.method ?? 'GET';
    const path = ctx.url.pathname;
    if (method === 'GET' && path === '/v2/users/@me') {
      const { user } = authenticate(ctx, true);
      const me = user!;
      return { id: me.id, name: me.name, location: '', joined_at: me.joined_at };
    }
    const listMatch = /^\/v2\/users\/([^/]+)\/animelist$/.exec(path);
    if (method === 'GET' && listMatch) {
      const { user } = authenticate(ctx, listMatch[1] === '@me');
      const owner = listMatch[1] === '@me' ? user! : lists.findUser(decodeURIComponent(listMatch[1]));
      if (!owner) throw notFound();
      return animeList(ctx, owner, path);
    }
    if (method === 'GET' && path === '/v2/anime') {
      const { user } = authenticate(ctx, false);
      return searchAnime(ctx, user);
    }
    const detailMatch = /^\/v2\/anime\/([^/]+)$/.exec(path);
    if (method === 'GET' && detailMatch) {
      const { user } = authenticate(ctx, false);
      if (!/^\d+$/.test(detailMatch[1])) throw badRequest('invalid anime_id');
      const node = animeNode(Number(detailMatch[1]), parseFields(ctx.url.searchParams.get('fields')), user, true);
      if (!node) throw notFound();
      return node;
    }
    const statusMatch = /^\/v2\/anime\/([^/]+)\/my_list_status$/.exec(path);
    if (statusMatch && (method === 'PATCH' || method === 'PUT' || method === 'DELETE')) {
      const { user } = authenticate(ctx, true);
      if (!/^\d+$/.test(statusMatch[1])) throw badRequest('invalid anime_id');
      const animeId = Number(statusMatch[1]);
      if (method === 'DELETE') {
        if (!user!.list.delete(animeId)) throw notFound();
        lists.changed();
        return [];
      }
      return updateListStatus(ctx, user!, animeId);
    }
    throw notFound();
  }

  // ---------- admin (tests and developers) ----------

  async function handleAdmin(ctx: Context): Promise<unknown> {
    const method = ctx.request.method ?? 'GET';
    const path = ctx.url.pathname;
    if (path === '/__sandbox/faults') {
      if (method === 'GET') return { ...faults };
      if (method === 'POST') {
        let update: MalSandboxFaultUpdate;
        try {
          update = JSON.parse((await readBody(ctx.request)) || '{}') as MalSandboxFaultUpdate;
        } catch {
          throw badRequest('faults must be a JSON object');
        }
        return setFaults(update);
      }
    }
    if (path === '/__sandbox/stats' && method === 'GET') return stats;
    if (path === '/__sandbox/requests' && method === 'GET') {
      const since = Number(ctx.url.searchParams.get('since') ?? 0);
      return requestLog.filter((entry) => entry.seq > since);
    }
    const listMatch = /^\/__sandbox\/lists\/([^/]+)$/.exec(path);
    if (listMatch) {
      const userName = decodeURIComponent(listMatch[1]);
      if (method === 'GET') return getList(userName);
      if (method === 'POST') {
        const entries = JSON.parse((await readBody(ctx.request)) || '[]') as SandboxSeedEntry[];
        if (!Array.isArray(entries)) throw badRequest('a list seed is a JSON array');
        lists.seed(userName, entries);
        return getList(userName);
      }
    }
    if (path === '/__sandbox' && method === 'GET') {
      return { authBaseUrl: `${baseUrl}/v1/oauth2`, apiBaseUrl: `${baseUrl}/v2`, clientId, catalogSize: catalog.size };
    }
    throw notFound();
  }

  function getList(userName: string) {
    const user = lists.findUser(userName);
    if (!user) return [];
    return [...user.list.entries()].map(([animeId, listStatus]) => ({ animeId, listStatus: { ...listStatus } }));
  }

  // ---------- HTTP plumbing ----------

  function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    response.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', ...headers });
    response.end(JSON.stringify(body));
  }

  function sendHtml(response: ServerResponse, status: number, html: string) {
    response.writeHead(status, { 'Content-Type': 'text/html; charset=UTF-8' });
    response.end(html);
  }

  function redirect(response: ServerResponse, location: string) {
    response.writeHead(302, { Location: location });
    response.end();
  }

  function record(entry: MalSandboxRequestLogEntry) {
    stats.requests += 1;
    stats.byStatus[entry.status] = (stats.byStatus[entry.status] ?? 0) + 1;
    if (entry.fault === 'throttled') stats.throttled += 1;
    if (entry.fault === 'injected') stats.injectedFailures += 1;
    requestLog.push(entry);
    if (requestLog.length > requestLogLimit) requestLog.splice(0, requestLog.length - requestLogLimit);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(request.url ?? '/', baseUrl);
    const requestId = request.headers['x-request-id'];
    const log: MalSandboxRequestLogEntry = {
      seq: ++seq,
      at: new Date(started).toISOString(),
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      status: 0,
      durationMs: 0,
      ...(typeof requestId === 'string' ? { requestId } : {}),
    };
    const ctx: Context = { request, url, log };
    const isApi = url.pathname.startsWith('/v2/');
    const isToken = url.pathname === '/v1/oauth2/token';
    try {
      if (url.pathname.startsWith('/__sandbox')) {
        sendJson(response, 200, await handleAdmin(ctx));
      } else if (url.pathname === '/v1/oauth2/authorize') {
        await handleAuthorize(ctx, response);
      } else if (isApi || isToken) {
        if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
        if (isApi) {
          const clientKey = clientKeyFor(request);
          log.clientId = clientKey;
          if (isThrottled(clientKey)) {
            log.fault = 'throttled';
            const headers: Record<string, string> =
              faults.throttleRetryAfterSeconds === null ? {} : { 'Retry-After': String(faults.throttleRetryAfterSeconds) };
            // MAL's 429 carries a JSON error; its 403 throttle is a bare page.
            if (faults.throttleStatus === 429) sendJson(response, 429, { error: 'too_many_requests', message: '' }, headers);
            else {
              response.writeHead(403, { 'Content-Type': 'text/html; charset=UTF-8', ...headers });
              response.end('<html><body><h1>403 Forbidden</h1></body></html>');
            }
            return;
          }
        }
        if (shouldInjectFailure()) {
          log.fault = 'injected';
          response.writeHead(faults.failStatus, { 'Content-Type': 'text/html; charset=UTF-8' });
          response.end(`<html><body><h1>${faults.failStatus} sandbox failure</h1></body></html>`);
          return;
        }
        sendJson(response, 200, isApi ? await handleApi(ctx) : await handleToken(ctx));
      } else if (url.pathname === '/' && request.method === 'GET') {
        sendJson(response, 200, { name: 'MAL sandbox', authBaseUrl: `${baseUrl}/v1/oauth2`, apiBaseUrl: `${baseUrl}/v2` });
      } else {
        throw notFound();
      }
    } catch (error) {
      if (error instanceof HttpProblem) {
        if (url.pathname === '/v1/oauth2/authorize') {
          response.writeHead(error.status, { 'Content-Type': 'text/html; charset=UTF-8' });
          response.end(`<!doctype html><html><body><h1>Authorization error</h1><p>${escapeHtml(error.message)}</p></body></html>`);
        } else sendJson(response, error.status, error.body, error.headers);
      } else {
        sendJson(response, 500, { error: 'internal_error', message: error instanceof Error ? error.message : String(error) });
      }
    } finally {
      if (url.pathname !== '/__sandbox/requests') {
        log.status = response.statusCode;
        log.durationMs = Date.now() - started;
        record(log);
      }
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: 'internal_error', message: String(error) });
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: baseUrl,
    authBaseUrl: `${baseUrl}/v1/oauth2`,
    apiBaseUrl: `${baseUrl}/v2`,
    clientId,
    clientSecret,
    port,
    catalog,
    async close() {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      await lists.flush();
    },
    seedList: (userName, entries) => lists.seed(userName, entries),
    getList,
    setFaults,
    getFaults: () => ({ ...faults }),
    requestLog,
    get stats() {
      return { ...stats, byStatus: { ...stats.byStatus } };
    },
  };
}
