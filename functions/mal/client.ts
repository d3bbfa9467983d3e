/**
 * The MAL client: one ky instance for MAL's OAuth endpoints and one for API v2, both behind one shared rate
 * limiter; retries with exponential backoff and full jitter (429, 403-as-throttle, 5xx, timeouts, network),
 * Retry-After honoured; MAL errors mapped to named errors; user calls refresh an expired access token once
 * through an injected token store.
 *
 * Create one client per process (module level) and one `MalUserSession` per user and job; the client holds
 * no state but what it was given.
 */
import ky, { HTTPError, isHTTPError, isNetworkError, isTimeoutError, type KyInstance, type Options as KyOptions } from 'ky';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  MalAuthError,
  MalBadRequestError,
  MalError,
  MalNotFoundError,
  MalReloginRequiredError,
  MalResponseError,
  MalBlockedError,
  MalThrottledError,
  MalUnavailableError,
  type MalErrorDetails,
} from './errors';
import { TokenBucketRateLimiter, type RateLimiter } from './rate-limiter';
import {
  MalShapeError,
  parseAnime,
  parseAnimeListPage,
  parseAnimeSearchPage,
  parseListStatus,
  parseTokenResponse,
  parseUser,
  readMalErrorBody,
  type MalAnime,
  type MalListEntry,
  type MalListStatus,
  type MalListStatusName,
  type MalListStatusUpdate,
  type MalPage,
  type MalTokens,
  type MalUser,
} from './types';
import { componentLogger } from '../shared/logger';

export const MAL_DEFAULT_AUTH_BASE_URL = 'https://myanimelist.net/v1/oauth2';
export const MAL_DEFAULT_API_BASE_URL = 'https://api.myanimelist.net/v2';

/** The fields the matcher and sync need; MAL returns only id/title/main_picture unless asked. */
export const DEFAULT_ANIME_FIELDS = 'alternative_titles,num_episodes,start_season,start_date,end_date,media_type,status';
export const DEFAULT_DETAIL_FIELDS = `${DEFAULT_ANIME_FIELDS},related_anime`;
const LIST_FIELDS = 'list_status{num_times_rewatched}';

export interface MalRetryOptions {
  /** Retries after the first attempt (so at most retries + 1 attempts). */
  retries: number;
  /** Backoff before retry n is up to baseDelayMs × 2^(n-1) (full jitter), capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retry-After beyond this is capped (MAL should never need us to sleep longer). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: MalRetryOptions = { retries: 4, baseDelayMs: 1000, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 };

export interface MalClientLogger {
  warn(message: string, details: Record<string, unknown>): void;
  debug?(message: string, details: Record<string, unknown>): void;
}

export const silentLogger: MalClientLogger = { warn() {} };

/** The functions' structured logger (Powertools), as the client's logger. Details never include tokens. */
const malClientLog = componentLogger('mal-client');
export const structuredLogger: MalClientLogger = {
  warn(message, details) {
    malClientLog.warn(message, details);
  },
};

export interface MalClientConfig {
  clientId: string;
  /** Web-app clients have one; MAL's "other" app type has none. */
  clientSecret?: string;
  authBaseUrl?: string;
  apiBaseUrl?: string;
  /** Shared by every call of this client; an in-process token bucket at ~1 request/s by default. */
  rateLimiter?: RateLimiter;
  /** Key under which this client's calls are limited; `mal:<clientId>` by default. */
  rateLimitKey?: string;
  retry?: Partial<MalRetryOptions>;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  logger?: MalClientLogger;
  /** Refresh proactively when the access token expires within this margin. */
  refreshMarginMs?: number;
  /** For tests of odd transports only; the real one is global fetch. */
  fetch?: typeof fetch;
}

/** Where a user's tokens live (encrypted in DynamoDB in AWS): the caller persists rotated tokens. */
export interface MalTokenStore {
  load(): Promise<MalTokens>;
  /** Called after every refresh with the new tokens (MAL rotates the refresh token: persist both). */
  save(tokens: MalTokens, previous: MalTokens): Promise<void>;
  /**
   * Optional: replaces the tokens whose access token is `staleAccessToken`, calling `refresh` at most once
   * per user however many callers (in any process) ask at the same time, and persisting the result; the
   * others get the tokens it stored. MAL's refresh tokens are single-use, so without this, concurrent
   * refreshes of one user spend the same token and all but one fail. Without it the session refreshes
   * with load/refresh/save (safe within one session only).
   */
  refresh?(staleAccessToken: string, refresh: (refreshToken: string) => Promise<MalTokens>, marginMs: number): Promise<MalTokens>;
}

export interface AuthorizeUrlRequest {
  redirectUri: string;
  state: string;
  /** PKCE verifier; MAL supports only `plain`, so it is also the challenge. 43–128 chars. */
  codeVerifier: string;
}

export interface CodeExchangeRequest {
  code: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface SearchAnimeRequest {
  q: string;
  limit?: number;
  offset?: number;
  fields?: string;
}

export interface AnimeListRequest {
  status?: MalListStatusName;
  /** Entries per page, ≤ 1000. */
  pageSize?: number;
}

const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** A fresh PKCE verifier (64 chars of base64url). With `plain`, the challenge is the verifier itself. */
export function createPkceVerifier(): string {
  return randomBytes(48).toString('base64url');
}

// ---- blocking detection: kept apart from the retry logic above ----

/** 403 answers in a row (no other answer between them; a whole default retry budget) after which a failing call is MAL blocking us. */
export const MAL_403_STORM_THRESHOLD = 5;

/** An HTML page where the API answers JSON: what MAL's (or its CDN's) block pages are. */
function isHtmlAnswer(response: Response): boolean {
  return /text\/html/i.test(response.headers.get('content-type') ?? '');
}

const BLOCK_PAGE_WORDS = /blocked|access denied|forbidden|captcha|attention required|unusual traffic/i;

/** Retryable HTTP statuses; 403 is retried unless its body says invalid_token (MAL uses 403 to throttle). */
const RETRY_STATUSES = [403, 408, 429, 500, 502, 503, 504];

function isInvalidTokenAnswer(error: HTTPError): boolean {
  return readMalErrorBody(error.data).error === 'invalid_token';
}

/**
 * MAL refuses a spent, revoked or expired refresh token with `invalid_request` "The refresh token is
 * invalid." (league/oauth2-server's wording; status 400, or 401 in newer versions), not `invalid_grant`.
 */
function isRefusedRefreshToken(body: { error?: string; message?: string }): boolean {
  return body.error === 'invalid_request' && /refresh token is invalid/i.test(body.message ?? '');
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** A cause that names what happened without carrying the Request (whose headers hold the token). */
function sanitizedCause(error: unknown): Error {
  if (isHTTPError(error)) {
    const cause = new Error(`HTTP ${error.response.status} ${error.response.statusText}`.trim());
    cause.name = 'MalHttpResponse';
    return cause;
  }
  if (isTimeoutError(error)) {
    const cause = new Error(error.message);
    cause.name = 'TimeoutError';
    return cause;
  }
  if (isNetworkError(error)) {
    const inner = error.cause instanceof Error ? error.cause : undefined;
    const cause = new Error(`network error${inner ? `: ${inner.message}` : ''}`, inner?.cause ? { cause: inner.cause } : undefined);
    cause.name = 'NetworkError';
    return cause;
  }
  if (error instanceof Error) {
    const cause = new Error(error.message);
    cause.name = error.name;
    return cause;
  }
  return new Error(String(error));
}

interface SendOptions {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to the instance's base URL, or an absolute URL (paging.next). */
  input: string;
  searchParams?: Record<string, string | number>;
  form?: URLSearchParams;
  accessToken?: string;
  requestId: string;
}

export class MalClient {
  readonly clientId: string;
  readonly authBaseUrl: string;
  readonly apiBaseUrl: string;
  private readonly clientSecret?: string;
  private readonly rateLimiter: RateLimiter;
  private readonly rateLimitKey: string;
  private readonly retry: MalRetryOptions;
  private readonly logger: MalClientLogger;
  private readonly refreshMarginMs: number;
  private readonly auth: KyInstance;
  private readonly api: KyInstance;
  /** 403 answers since the last answer that was not one (the 403-storm detector). */
  private consecutive403 = 0;

  constructor(config: MalClientConfig) {
    if (!config.clientId) throw new TypeError('MalClient needs a clientId');
    this.clientId = config.clientId;
    this.clientSecret = config.clientSecret;
    this.authBaseUrl = (config.authBaseUrl ?? MAL_DEFAULT_AUTH_BASE_URL).replace(/\/+$/, '');
    this.apiBaseUrl = (config.apiBaseUrl ?? MAL_DEFAULT_API_BASE_URL).replace(/\/+$/, '');
    this.rateLimiter = config.rateLimiter ?? new TokenBucketRateLimiter();
    this.rateLimitKey = config.rateLimitKey ?? `mal:${config.clientId}`;
    this.retry = { ...DEFAULT_RETRY, ...config.retry };
    this.logger = config.logger ?? silentLogger;
    this.refreshMarginMs = config.refreshMarginMs ?? 60_000;
    const timeout = config.timeoutMs ?? 10_000;
    // The token endpoint is retried only on answers (429/403/5xx): after a timeout MAL may have rotated
    // the refresh token already, and a blind retry would then fail with invalid_grant.
    this.auth = this.createInstance(`${this.authBaseUrl}/`, timeout, ['post'], false, config.fetch);
    this.api = this.createInstance(`${this.apiBaseUrl}/`, timeout, ['get', 'patch', 'delete'], true, config.fetch);
  }

  private createInstance(baseUrl: string, timeout: number, methods: string[], retryWithoutAnswer: boolean, customFetch?: typeof fetch) {
    const { retries, baseDelayMs, maxDelayMs, maxRetryAfterMs } = this.retry;
    const acquire = () => this.rateLimiter.acquire(this.rateLimitKey);
    const options: KyOptions = {
      baseUrl,
      timeout,
      retry: {
        limit: retries,
        methods,
        statusCodes: RETRY_STATUSES,
        afterStatusCodes: [403, 429, 503],
        maxRetryAfter: maxRetryAfterMs,
        backoffLimit: maxDelayMs,
        delay: (attempt) => baseDelayMs * 2 ** (attempt - 1),
        jitter: true,
        retryOnTimeout: retryWithoutAnswer,
        shouldRetry: ({ error }) => {
          if (isHTTPError(error) && isInvalidTokenAnswer(error)) return false;
          // A block page does not go away with backoff; retrying only hammers MAL.
          if (isHTTPError(error) && error.response.status === 403 && isHtmlAnswer(error.response)) return false;
          if (!retryWithoutAnswer && (isTimeoutError(error) || isNetworkError(error))) return false;
          return undefined;
        },
      },
      hooks: {
        // Every attempt, first or retry, takes a token from the shared limiter.
        beforeRequest: [async () => void (await acquire())],
        afterResponse: [
          ({ response }) => {
            this.consecutive403 = response.status === 403 ? this.consecutive403 + 1 : 0;
          },
        ],
        beforeRetry: [
          async ({ request, error, retryCount }) => {
            this.logger.warn('MAL call retried', {
              method: request.method,
              path: pathOf(request.url),
              retry: retryCount,
              reason: isHTTPError(error) ? error.response.status : error.name,
              requestId: request.headers.get('x-request-id'),
            });
            await acquire();
          },
        ],
      },
      ...(customFetch ? { fetch: customFetch } : {}),
    };
    return ky.create(options);
  }

  // ---------- transport ----------

  private async send(instance: KyInstance, options: SendOptions): Promise<unknown> {
    const headers: Record<string, string> = { 'X-Request-Id': options.requestId, Accept: 'application/json' };
    if (options.accessToken) headers.Authorization = `Bearer ${options.accessToken}`;
    else if (instance === this.api) headers['X-MAL-CLIENT-ID'] = this.clientId;
    const path = pathOf(new URL(options.input, `${instance === this.api ? this.apiBaseUrl : this.authBaseUrl}/`).toString());
    let response: Response;
    try {
      response = await instance(options.input, {
        method: options.method,
        headers,
        ...(options.searchParams ? { searchParams: options.searchParams } : {}),
        ...(options.form ? { body: options.form } : {}),
      });
    } catch (error) {
      throw this.mapFailure(error, options.method, path, instance === this.auth);
    }
    const text = await response.text().catch((error: unknown) => {
      throw new MalUnavailableError('the answer could not be read', { method: options.method, path, status: response.status, cause: sanitizedCause(error) });
    });
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      if (isHtmlAnswer(response) && BLOCK_PAGE_WORDS.test(text)) {
        throw new MalBlockedError('MAL answered with a block page instead of the API', { method: options.method, path, status: response.status }, 'block-page');
      }
      throw new MalResponseError('the answer is not JSON', { method: options.method, path, status: response.status, cause: sanitizedCause(error) });
    }
  }

  private mapFailure(error: unknown, method: string, path: string, isTokenEndpoint: boolean): MalError {
    const cause = sanitizedCause(error);
    if (isHTTPError(error)) {
      const status = error.response.status;
      const body = readMalErrorBody(error.data);
      const details: MalErrorDetails = { method, path, status, malError: body.error, malMessage: body.message, cause };
      if (body.error === 'invalid_token' || (status === 401 && !isTokenEndpoint && body.error !== 'invalid_client')) {
        return new MalAuthError('the access token was refused', { ...details, malError: body.error ?? 'invalid_token' });
      }
      if (isTokenEndpoint && (body.error === 'invalid_grant' || isRefusedRefreshToken(body))) {
        return new MalReloginRequiredError('the authorization grant or refresh token is no longer valid: sign in to MAL again', details);
      }
      if (status === 401) return new MalAuthError('client authentication failed (check MAL_CLIENT_ID / MAL_CLIENT_SECRET)', details);
      if (status === 403 && isHtmlAnswer(error.response)) {
        return new MalBlockedError('MAL answered with a block page instead of the API', { method, path, status, cause }, 'block-page');
      }
      if (status === 403 && this.consecutive403 >= MAL_403_STORM_THRESHOLD) {
        return new MalBlockedError(`MAL answered 403 ${this.consecutive403} times in a row`, { ...details, attempts: this.retry.retries + 1 }, '403-storm');
      }
      if (status === 429 || status === 403) {
        return new MalThrottledError('MAL kept throttling past the retry budget', { ...details, attempts: this.retry.retries + 1 });
      }
      if (status >= 500) return new MalUnavailableError('MAL is failing (5xx) past the retry budget', { ...details, attempts: this.retry.retries + 1 });
      if (status === 404) return new MalNotFoundError('not found', details);
      if (status === 400) return new MalBadRequestError('MAL refused the request', details);
      return new MalResponseError('unexpected HTTP status', details);
    }
    if (isTimeoutError(error)) return new MalUnavailableError('MAL did not answer in time', { method, path, cause });
    if (isNetworkError(error)) return new MalUnavailableError('MAL could not be reached', { method, path, cause });
    return new MalResponseError('the call failed unexpectedly', { method, path, cause });
  }

  private validate<T>(value: unknown, parse: (v: unknown) => T, method: string, path: string): T {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof MalShapeError) throw new MalResponseError(`unexpected answer: ${error.message}`, { method, path, cause: error });
      throw error;
    }
  }

  // ---------- OAuth ----------

  /** The URL to send the user's browser to (MAL's consent page). */
  buildAuthorizeUrl(request: AuthorizeUrlRequest): string {
    if (!PKCE_VERIFIER.test(request.codeVerifier)) {
      throw new MalBadRequestError('the PKCE verifier must be 43–128 characters of [A-Za-z0-9-._~]', { method: 'GET', path: pathOf(`${this.authBaseUrl}/authorize`) });
    }
    const url = new URL(`${this.authBaseUrl}/authorize`);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.clientId);
    url.searchParams.set('redirect_uri', request.redirectUri);
    url.searchParams.set('state', request.state);
    url.searchParams.set('code_challenge', request.codeVerifier);
    url.searchParams.set('code_challenge_method', 'plain');
    return url.toString();
  }

  private tokenForm(fields: Record<string, string>): URLSearchParams {
    const form = new URLSearchParams({ client_id: this.clientId, ...fields });
    if (this.clientSecret) form.set('client_secret', this.clientSecret);
    return form;
  }

  private async tokenCall(form: URLSearchParams): Promise<MalTokens> {
    const body = await this.send(this.auth, { method: 'POST', input: 'token', form, requestId: randomUUID() });
    return this.validate(body, (v) => parseTokenResponse(v), 'POST', pathOf(`${this.authBaseUrl}/token`));
  }

  /** Exchanges the authorization code from the redirect; `invalid_grant` → MalReloginRequiredError. */
  exchangeCode(request: CodeExchangeRequest): Promise<MalTokens> {
    return this.tokenCall(
      this.tokenForm({ grant_type: 'authorization_code', code: request.code, code_verifier: request.codeVerifier, redirect_uri: request.redirectUri }),
    );
  }

  /** New access AND refresh token (the old refresh token stops working: persist both). */
  refreshTokens(refreshToken: string): Promise<MalTokens> {
    return this.tokenCall(this.tokenForm({ grant_type: 'refresh_token', refresh_token: refreshToken }));
  }

  // ---------- public reads (X-MAL-CLIENT-ID, or a user token when given) ----------

  /** MAL search: q is 3–64 chars (longer queries are cut at a word boundary, as MAL would refuse them). */
  async searchAnime(request: SearchAnimeRequest, accessToken?: string): Promise<MalAnime[]> {
    const q = normalizeSearchQuery(request.q);
    const limit = request.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new MalBadRequestError(`limit must be 1–100, got ${limit}`, { method: 'GET', path: pathOf(`${this.apiBaseUrl}/anime`) });
    }
    const body = await this.send(this.api, {
      method: 'GET',
      input: 'anime',
      // nsfw=true: without it MAL leaves out every entry it rates NSFW (some wrongly), so they never match.
      searchParams: { q, limit, offset: request.offset ?? 0, fields: request.fields ?? DEFAULT_ANIME_FIELDS, nsfw: 'true' },
      accessToken,
      requestId: randomUUID(),
    });
    return this.validate(body, parseAnimeSearchPage, 'GET', pathOf(`${this.apiBaseUrl}/anime`)).items;
  }

  async getAnimeDetails(animeId: number, fields: string = DEFAULT_DETAIL_FIELDS, accessToken?: string): Promise<MalAnime> {
    const input = `anime/${checkAnimeId(animeId, this.apiBaseUrl)}`;
    const body = await this.send(this.api, { method: 'GET', input, searchParams: { fields }, accessToken, requestId: randomUUID() });
    return this.validate(body, (v) => parseAnime(v), 'GET', pathOf(`${this.apiBaseUrl}/${input}`));
  }

  // ---------- user calls (access token) ----------

  async getMe(accessToken: string): Promise<MalUser> {
    const body = await this.send(this.api, { method: 'GET', input: 'users/@me', accessToken, requestId: randomUUID() });
    return this.validate(body, parseUser, 'GET', pathOf(`${this.apiBaseUrl}/users/@me`));
  }

  /** The whole list, following `paging.next` (only ever to MAL's own API origin: it carries the token). */
  async getAnimeList(accessToken: string, request: AnimeListRequest = {}): Promise<MalListEntry[]> {
    const pageSize = request.pageSize ?? 1000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new MalBadRequestError(`pageSize must be 1–1000, got ${pageSize}`, { method: 'GET', path: pathOf(`${this.apiBaseUrl}/users/@me/animelist`) });
    }
    const entries: MalListEntry[] = [];
    // nsfw=true: without it MAL silently leaves NSFW entries out of the list, and a sync would re-add them.
    const searchParams: Record<string, string | number> = { fields: LIST_FIELDS, limit: pageSize, offset: 0, nsfw: 'true' };
    if (request.status) searchParams.status = request.status;
    let next: string | undefined = 'users/@me/animelist';
    let firstPage = true;
    const apiOrigin = new URL(this.apiBaseUrl).origin;
    for (let pages = 0; next !== undefined; pages += 1) {
      if (pages > 1000) throw new MalResponseError('paging.next never ends', { method: 'GET', path: pathOf(`${this.apiBaseUrl}/users/@me/animelist`) });
      const body = await this.send(this.api, {
        method: 'GET',
        input: next,
        ...(firstPage ? { searchParams } : {}),
        accessToken,
        requestId: randomUUID(),
      });
      const page: MalPage<MalListEntry> = this.validate(body, parseAnimeListPage, 'GET', pathOf(new URL(next, `${this.apiBaseUrl}/`).toString()));
      entries.push(...page.items);
      firstPage = false;
      next = page.next;
      if (next !== undefined && new URL(next).origin !== apiOrigin) {
        throw new MalResponseError(`paging.next points outside ${apiOrigin}`, { method: 'GET', path: pathOf(`${this.apiBaseUrl}/users/@me/animelist`) });
      }
    }
    return entries;
  }

  /** PATCH (form-encoded) the user's entry; creates it when absent. Returns MAL's resulting status. */
  async updateListStatus(accessToken: string, animeId: number, update: MalListStatusUpdate): Promise<MalListStatus> {
    const input = `anime/${checkAnimeId(animeId, this.apiBaseUrl)}/my_list_status`;
    const form = listStatusForm(update, `${pathOf(`${this.apiBaseUrl}/${input}`)}`);
    const body = await this.send(this.api, { method: 'PATCH', input, form, accessToken, requestId: randomUUID() });
    return this.validate(body, (v) => parseListStatus(v), 'PATCH', pathOf(`${this.apiBaseUrl}/${input}`));
  }

  /** Removes the entry; MalNotFoundError when it is not on the list. */
  async deleteListStatus(accessToken: string, animeId: number): Promise<void> {
    const input = `anime/${checkAnimeId(animeId, this.apiBaseUrl)}/my_list_status`;
    await this.send(this.api, { method: 'DELETE', input, accessToken, requestId: randomUUID() });
  }

  /** A per-user view that refreshes the access token (once per call) through `store`. */
  forUser(store: MalTokenStore): MalUserSession {
    return new MalUserSession(this, store, this.refreshMarginMs);
  }
}

function checkAnimeId(animeId: number, apiBaseUrl: string): number {
  if (!Number.isInteger(animeId) || animeId <= 0) {
    throw new MalBadRequestError(`anime id must be a positive integer, got ${animeId}`, { method: 'GET', path: pathOf(`${apiBaseUrl}/anime`) });
  }
  return animeId;
}

export function normalizeSearchQuery(raw: string): string {
  let q = raw.replace(/\s+/g, ' ').trim();
  if (q.length > 64) {
    const cut = q.slice(0, 64);
    const lastSpace = cut.lastIndexOf(' ');
    q = (lastSpace >= 3 ? cut.slice(0, lastSpace) : cut).trim();
  }
  if (q.length < 3) {
    throw new MalBadRequestError(`search text must be at least 3 characters, got ${JSON.stringify(q)}`, { method: 'GET', path: '/v2/anime' });
  }
  return q;
}

const DATE = /^\d{4}(-\d{2}(-\d{2})?)?$/;

function listStatusForm(update: MalListStatusUpdate, path: string): URLSearchParams {
  const form = new URLSearchParams();
  const refuse = (what: string) => new MalBadRequestError(what, { method: 'PATCH', path });
  if (update.status !== undefined) form.set('status', update.status);
  if (update.isRewatching !== undefined) form.set('is_rewatching', String(update.isRewatching));
  if (update.score !== undefined) {
    if (!Number.isInteger(update.score) || update.score < 0 || update.score > 10) throw refuse(`score must be 0–10, got ${update.score}`);
    form.set('score', String(update.score));
  }
  if (update.numEpisodesWatched !== undefined) {
    if (!Number.isInteger(update.numEpisodesWatched) || update.numEpisodesWatched < 0) throw refuse(`episodes watched must be ≥ 0, got ${update.numEpisodesWatched}`);
    // MAL's write name differs from its read name (num_episodes_watched).
    form.set('num_watched_episodes', String(update.numEpisodesWatched));
  }
  if (update.numTimesRewatched !== undefined) {
    if (!Number.isInteger(update.numTimesRewatched) || update.numTimesRewatched < 0) throw refuse(`times rewatched must be ≥ 0, got ${update.numTimesRewatched}`);
    form.set('num_times_rewatched', String(update.numTimesRewatched));
  }
  for (const [key, name] of [
    ['startDate', 'start_date'],
    ['finishDate', 'finish_date'],
  ] as const) {
    const value = update[key];
    if (value === undefined) continue;
    if (value !== null && !DATE.test(value)) throw refuse(`${name} must be YYYY-MM-DD, got ${JSON.stringify(value)}`);
    form.set(name, value ?? '');
  }
  if ([...form.keys()].length === 0) throw refuse('a list update needs at least one field');
  return form;
}

/**
 * One user's calls. An `invalid_token` answer triggers one refresh (shared by concurrent calls of this
 * session; tokens another process already rotated are picked up from the store) and one repeat; a second
 * refusal, or a refused refresh, is MalReloginRequiredError.
 */
export class MalUserSession {
  private current?: MalTokens;
  private refreshing?: Promise<MalTokens>;

  constructor(
    private readonly client: MalClient,
    private readonly store: MalTokenStore,
    private readonly refreshMarginMs: number,
  ) {}

  getMe(): Promise<MalUser> {
    return this.withToken((token) => this.client.getMe(token));
  }

  searchAnime(request: SearchAnimeRequest): Promise<MalAnime[]> {
    return this.withToken((token) => this.client.searchAnime(request, token));
  }

  getAnimeDetails(animeId: number, fields?: string): Promise<MalAnime> {
    return this.withToken((token) => this.client.getAnimeDetails(animeId, fields, token));
  }

  getAnimeList(request?: AnimeListRequest): Promise<MalListEntry[]> {
    return this.withToken((token) => this.client.getAnimeList(token, request));
  }

  updateListStatus(animeId: number, update: MalListStatusUpdate): Promise<MalListStatus> {
    return this.withToken((token) => this.client.updateListStatus(token, animeId, update));
  }

  deleteListStatus(animeId: number): Promise<void> {
    return this.withToken((token) => this.client.deleteListStatus(token, animeId));
  }

  private async tokens(): Promise<MalTokens> {
    this.current ??= await this.store.load();
    if (this.current.expiresAt - this.refreshMarginMs <= Date.now()) return this.refreshReplacing(this.current.accessToken);
    return this.current;
  }

  private async withToken<T>(call: (accessToken: string) => Promise<T>): Promise<T> {
    const tokens = await this.tokens();
    try {
      return await call(tokens.accessToken);
    } catch (error) {
      if (!(error instanceof MalAuthError) || error.malError !== 'invalid_token') throw error;
      const fresh = await this.refreshReplacing(tokens.accessToken);
      try {
        return await call(fresh.accessToken);
      } catch (retryError) {
        if (retryError instanceof MalAuthError && retryError.malError === 'invalid_token') {
          throw new MalReloginRequiredError('MAL refused the freshly refreshed token: sign in to MAL again', {
            method: retryError.method,
            path: retryError.path,
            status: retryError.status,
            malError: retryError.malError,
            cause: retryError,
          });
        }
        throw retryError;
      }
    }
  }

  /** Replaces `staleAccessToken` once, however many calls saw it fail. */
  private refreshReplacing(staleAccessToken: string): Promise<MalTokens> {
    if (this.current && this.current.accessToken !== staleAccessToken) return Promise.resolve(this.current);
    this.refreshing ??= (async () => {
      try {
        if (this.store.refresh) {
          const fresh = await this.store.refresh(staleAccessToken, (refreshToken) => this.client.refreshTokens(refreshToken), this.refreshMarginMs);
          this.current = fresh;
          return fresh;
        }
        // Another Lambda may have refreshed already (the old refresh token would then be dead).
        const stored = await this.store.load();
        if (stored.accessToken !== staleAccessToken && stored.expiresAt - this.refreshMarginMs > Date.now()) {
          this.current = stored;
          return stored;
        }
        const fresh = await this.client.refreshTokens(stored.refreshToken);
        await this.store.save(fresh, stored);
        this.current = fresh;
        return fresh;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
