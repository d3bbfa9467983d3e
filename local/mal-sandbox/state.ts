/**
 * The MAL sandbox's state — catalog, lists, tokens, codes, faults, request log — and the operations on it
 * that the OAuth, API and admin modules share.
 */
import type { IncomingMessage } from 'node:http';
import type { Catalog } from './catalog';
import type { ListStore, SandboxListStatus, SandboxSeedEntry, SandboxUser } from './lists';
import { HttpProblem, badRequest, invalidToken, randomToken } from './http';

export interface MalSandboxFaults {
  /** Requests per second per client above which the API throttles; `null` turns rate limiting off. */
  rateLimitPerSecond: number | null;
  /**
   * MAL documents 403 ("DoS detected", JSON `{"error":"forbidden"}`) as its throttle and also answers 429;
   * 403 by default.
   */
  throttleStatus: 429 | 403;
  /** `Retry-After` seconds on throttled answers; `null` sends none (MAL usually sends none). */
  throttleRetryAfterSeconds: number | null;
  /** The next N API/token requests fail with `failStatus`. */
  failNextRequests: number;
  /** Fraction (0–1) of API/token requests that fail with `failStatus`. */
  failRate: number;
  failStatus: number;
  /** Body of injected failures: an HTML page (what block pages and proxies send) or MAL's JSON error shape. */
  failBody: 'html' | 'json';
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
  /** Ignored for `appType: 'other'`, which has none. */
  clientSecret?: string;
  /**
   * MAL's app types: `web` (default) has a client secret that the token endpoint requires; `other`
   * (and the mobile types) have none, and the token endpoint takes the client id alone.
   */
  appType?: 'web' | 'other';
  /**
   * `documented` (default): `expires_in` 3600, as MAL's reference says; `observed`: 2678400 (31 days),
   * what MAL's token endpoint really answers. Either way clients must use `expires_in`.
   */
  tokenLifetimes?: 'documented' | 'observed';
  /** Registered redirect URIs (exact match, as MAL). Default: any http URL on 127.0.0.1/localhost. */
  redirectUris?: string[];
  /** Normal access-token lifetime (overrides `tokenLifetimes`); MAL documents one hour. */
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
  /** MAL's `error` code of an error answer (`invalid_token`, `invalid_request`…). */
  error?: string;
}

export interface MalSandboxStats {
  requests: number;
  byStatus: Record<string, number>;
  throttled: number;
  injectedFailures: number;
  tokensIssued: number;
}

export const DEFAULT_FAULTS: MalSandboxFaults = {
  rateLimitPerSecond: 3,
  throttleStatus: 403,
  throttleRetryAfterSeconds: null,
  failNextRequests: 0,
  failRate: 0,
  failStatus: 500,
  failBody: 'html',
  latencyMs: 0,
  accessTokenLifetimeSeconds: null,
};

/** What MAL's token endpoint answers as `expires_in` in practice (31 days), though its reference says one hour. */
export const OBSERVED_ACCESS_TOKEN_LIFETIME_SECONDS = 31 * 24 * 3600;

export interface TokenRecord {
  kind: 'access' | 'refresh';
  clientId: string;
  userName: string;
  issuedAtMs: number;
  lifetimeSeconds: number;
  revoked: boolean;
  /** The authorization grant the token descends from, to revoke a family when its code is replayed. */
  grantId: string;
}

export interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  userName: string;
  expiresAtMs: number;
  used: boolean;
  grantId: string;
}

/** One request being answered. */
export interface Context {
  request: IncomingMessage;
  url: URL;
  log: MalSandboxRequestLogEntry;
}

/** Everything the sandbox knows; one object, shared by its modules. */
export interface SandboxState {
  readonly options: MalSandboxOptions;
  readonly catalog: Catalog;
  readonly lists: ListStore;
  readonly clientId: string;
  /** Empty for apps without a secret (`appType: 'other'`). */
  readonly clientSecret: string;
  readonly appType: 'web' | 'other';
  readonly accessLifetime: number;
  readonly refreshLifetime: number;
  readonly codeLifetime: number;
  readonly requestLogLimit: number;
  readonly faults: MalSandboxFaults;
  readonly tokens: Map<string, TokenRecord>;
  readonly codes: Map<string, AuthorizationCode>;
  /** Accepted request times per client over the last second (sliding window). */
  readonly recentRequests: Map<string, number[]>;
  readonly requestLog: MalSandboxRequestLogEntry[];
  readonly stats: MalSandboxStats;
  seq: number;
  /** `http://127.0.0.1:PORT`, known once the server listens. */
  baseUrl: string;
}

export function createState(options: MalSandboxOptions, catalog: Catalog, lists: ListStore, clientId: string, clientSecret: string): SandboxState {
  const faults: MalSandboxFaults = { ...DEFAULT_FAULTS, ...options.faults };
  if (options.rateLimit === false) faults.rateLimitPerSecond = null;
  return {
    options,
    catalog,
    lists,
    clientId,
    clientSecret,
    appType: options.appType ?? 'web',
    accessLifetime: options.accessTokenLifetimeSeconds ?? (options.tokenLifetimes === 'observed' ? OBSERVED_ACCESS_TOKEN_LIFETIME_SECONDS : 3600),
    refreshLifetime: options.refreshTokenLifetimeSeconds ?? 30 * 24 * 3600,
    codeLifetime: options.authorizationCodeLifetimeSeconds ?? 300,
    requestLogLimit: options.requestLogLimit ?? 20_000,
    faults,
    tokens: new Map(),
    codes: new Map(),
    recentRequests: new Map(),
    requestLog: [],
    stats: { requests: 0, byStatus: {}, throttled: 0, injectedFailures: 0, tokensIssued: 0 },
    seq: 0,
    baseUrl: '',
  };
}

function effectiveAccessLifetime(state: SandboxState, record: TokenRecord): number {
  return state.faults.accessTokenLifetimeSeconds === null
    ? record.lifetimeSeconds
    : Math.min(record.lifetimeSeconds, state.faults.accessTokenLifetimeSeconds);
}

export function tokenIsLive(state: SandboxState, record: TokenRecord, now = Date.now()): boolean {
  if (record.revoked) return false;
  const lifetime = record.kind === 'access' ? effectiveAccessLifetime(state, record) : record.lifetimeSeconds;
  return now < record.issuedAtMs + lifetime * 1000;
}

export function issueTokens(state: SandboxState, userName: string, forClientId: string, grantId: string) {
  const accessToken = randomToken(48);
  const refreshToken = randomToken(48);
  const now = Date.now();
  state.tokens.set(accessToken, { kind: 'access', clientId: forClientId, userName, issuedAtMs: now, lifetimeSeconds: state.accessLifetime, revoked: false, grantId });
  state.tokens.set(refreshToken, { kind: 'refresh', clientId: forClientId, userName, issuedAtMs: now, lifetimeSeconds: state.refreshLifetime, revoked: false, grantId });
  state.stats.tokensIssued += 1;
  // Early expiry (a fault) is not announced: expires_in states the normal lifetime, as MAL would.
  return { token_type: 'Bearer', expires_in: state.accessLifetime, access_token: accessToken, refresh_token: refreshToken };
}

function revoke(state: SandboxState, kind: 'access' | 'refresh', who: boolean | string | undefined): void {
  if (!who) return;
  for (const record of state.tokens.values()) {
    if (record.kind !== kind) continue;
    if (who === true || record.userName.toLowerCase() === String(who).toLowerCase()) record.revoked = true;
  }
}

export function setFaults(state: SandboxState, update: MalSandboxFaultUpdate): MalSandboxFaults {
  const { revokeAccessTokens, revokeRefreshTokens, ...settings } = update;
  for (const [key, value] of Object.entries(settings)) {
    if (!(key in DEFAULT_FAULTS)) throw badRequest(`unknown fault ${key}`);
    if (value !== undefined) (state.faults as unknown as Record<string, unknown>)[key] = value;
  }
  revoke(state, 'access', revokeAccessTokens);
  revoke(state, 'refresh', revokeRefreshTokens);
  return { ...state.faults };
}

/** Sliding one-second window per client; only accepted requests count, as a throttle that lets a polite client back in. */
export function isThrottled(state: SandboxState, clientKey: string): boolean {
  const limit = state.faults.rateLimitPerSecond;
  if (limit === null || limit <= 0) return false;
  const now = Date.now();
  const times = (state.recentRequests.get(clientKey) ?? []).filter((t) => now - t < 1000);
  if (times.length >= limit) {
    state.recentRequests.set(clientKey, times);
    return true;
  }
  times.push(now);
  state.recentRequests.set(clientKey, times);
  return false;
}

export function shouldInjectFailure(state: SandboxState): boolean {
  const { faults } = state;
  if (faults.failNextRequests > 0) {
    faults.failNextRequests -= 1;
    return true;
  }
  return faults.failRate > 0 && Math.random() < faults.failRate;
}

export function pagingUrl(state: SandboxState, path: string, params: URLSearchParams, offset: number): string {
  const next = new URLSearchParams(params);
  next.set('offset', String(offset));
  return `${state.baseUrl}${path}?${next.toString()}`;
}

/** Who is calling the API: a live user token, or (public reads) a known X-MAL-CLIENT-ID. */
export function authenticate(state: SandboxState, ctx: Context, requireUser: boolean): { clientId: string; user?: SandboxUser } {
  const authorization = ctx.request.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    const record = match ? state.tokens.get(match[1]) : undefined;
    if (!record || record.kind !== 'access' || !tokenIsLive(state, record)) throw invalidToken();
    ctx.log.userName = record.userName;
    return { clientId: record.clientId, user: state.lists.getOrCreateUser(record.userName) };
  }
  const headerClientId = ctx.request.headers['x-mal-client-id'];
  if (!requireUser && typeof headerClientId === 'string') {
    if (headerClientId !== state.clientId) throw new HttpProblem(401, { error: 'invalid_client', message: 'invalid client id' });
    return { clientId: headerClientId };
  }
  throw invalidToken();
}

export function clientKeyFor(state: SandboxState, request: IncomingMessage): string {
  const authorization = request.headers.authorization;
  const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  const record = match ? state.tokens.get(match[1]) : undefined;
  if (record) return record.clientId;
  const headerClientId = request.headers['x-mal-client-id'];
  if (typeof headerClientId === 'string') return headerClientId;
  return `ip:${request.socket.remoteAddress ?? 'unknown'}`;
}

export function getList(state: SandboxState, userName: string): Array<{ animeId: number; listStatus: SandboxListStatus }> {
  const user = state.lists.findUser(userName);
  if (!user) return [];
  return [...user.list.entries()].map(([animeId, listStatus]) => ({ animeId, listStatus: { ...listStatus } }));
}

export function seedList(state: SandboxState, userName: string, entries: SandboxSeedEntry[]): void {
  state.lists.seed(userName, entries);
}

export function record(state: SandboxState, entry: MalSandboxRequestLogEntry): void {
  const { stats, requestLog } = state;
  stats.requests += 1;
  stats.byStatus[entry.status] = (stats.byStatus[entry.status] ?? 0) + 1;
  if (entry.fault === 'throttled') stats.throttled += 1;
  if (entry.fault === 'injected') stats.injectedFailures += 1;
  requestLog.push(entry);
  if (requestLog.length > state.requestLogLimit) requestLog.splice(0, requestLog.length - state.requestLogLimit);
}
