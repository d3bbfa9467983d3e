import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { startMalSandbox, type MalSandbox } from '../../local/mal-sandbox';
import {
  MalAuthError,
  MalBadRequestError,
  MalClient,
  MalNotFoundError,
  MalReloginRequiredError,
  MalThrottledError,
  MalUnavailableError,
  TokenBucketRateLimiter,
  type MalClientLogger,
  type MalTokens,
} from '../../functions/mal';
import { REDIRECT_URI, RecordingStore, signInWithClient } from './helpers';

let sandbox: MalSandbox;
const logLines: string[] = [];
const logger: MalClientLogger = {
  warn: (message, details) => logLines.push(`${message} ${JSON.stringify(details)}`),
};

function newClient(overrides: Partial<ConstructorParameters<typeof MalClient>[0]> = {}) {
  return new MalClient({
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    authBaseUrl: sandbox.authBaseUrl,
    apiBaseUrl: sandbox.apiBaseUrl,
    // Fast but still limited: these tests are about behaviour, not pacing.
    rateLimiter: new TokenBucketRateLimiter({ ratePerSecond: 50, burst: 5 }),
    retry: { retries: 3, baseDelayMs: 20, maxDelayMs: 200 },
    timeoutMs: 2000,
    logger,
    ...overrides,
  });
}

function expectNoSecrets(text: string, tokens: MalTokens[]) {
  for (const t of tokens) {
    expect(text).not.toContain(t.accessToken);
    expect(text).not.toContain(t.refreshToken);
  }
  expect(text).not.toContain(sandbox.clientSecret);
}

beforeAll(async () => {
  sandbox = await startMalSandbox({ rateLimit: false });
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  sandbox.setFaults({ rateLimitPerSecond: null, failNextRequests: 0, failRate: 0, latencyMs: 0, accessTokenLifetimeSeconds: null });
});

describe('MalClient against the sandbox', () => {
  it('signs in, reads the user, searches, reads details, writes and pages the list', async () => {
    const client = newClient();
    const tokens = await signInWithClient(client, 'ivan');
    expect(tokens.expiresAt).toBeGreaterThan(Date.now() + 3500_000);
    const session = client.forUser(new RecordingStore(tokens));
    expect((await session.getMe()).name).toBe('ivan');

    const results = await client.searchAnime({ q: 'attack on titan', limit: 3 });
    expect(results[0]).toMatchObject({ id: 16498, mediaType: 'tv', numEpisodes: 25, startSeason: { year: 2013, season: 'spring' } });
    expect(results[0].alternativeTitles?.en).toBe('Attack on Titan');

    const details = await client.getAnimeDetails(25777);
    expect(details.relatedAnime?.find((r) => r.relationType === 'sequel')?.id).toBe(35760);

    const written = await session.updateListStatus(16498, { status: 'watching', numEpisodesWatched: 5, startDate: '2024-03-01' });
    expect(written).toMatchObject({ status: 'watching', numEpisodesWatched: 5, startDate: '2024-03-01', numTimesRewatched: 0 });

    const seeded = [1, 5, 6, 1535, 5114];
    sandbox.seedList('ivan', seeded.map((animeId) => ({ animeId, status: 'completed' as const, num_episodes_watched: 1 })));
    const before = sandbox.requestLog.length;
    const list = await session.getAnimeList({ pageSize: 2 });
    expect(list.map((e) => e.anime.id).sort((a, b) => a - b)).toEqual([...seeded, 16498].sort((a, b) => a - b));
    expect(list.find((e) => e.anime.id === 16498)?.listStatus.numEpisodesWatched).toBe(5);
    expect(sandbox.requestLog.length - before).toBe(3); // 6 entries, 2 a page

    await session.deleteListStatus(16498);
    await expect(session.deleteListStatus(16498)).rejects.toBeInstanceOf(MalNotFoundError);
  });

  it('maps MAL errors to named errors that say where and never carry a token', async () => {
    const client = newClient();
    const tokens = await signInWithClient(client, 'judy');
    const session = client.forUser(new RecordingStore(tokens));
    const notFound = await session.getAnimeDetails(99999999).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(MalNotFoundError);
    expect((notFound as Error).message).toContain('GET /v2/anime/99999999');
    expect((notFound as Error).cause).toBeInstanceOf(Error);

    await expect(client.searchAnime({ q: 'ab' })).rejects.toBeInstanceOf(MalBadRequestError);
    await expect(session.updateListStatus(1, { score: 11 })).rejects.toBeInstanceOf(MalBadRequestError);

    const badClient = newClient({ clientSecret: 'wrong-secret' });
    const refused = await badClient.refreshTokens(tokens.refreshToken).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MalAuthError);
    expect(refused).not.toBeInstanceOf(MalReloginRequiredError);
    expect((refused as MalAuthError).malError).toBe('invalid_client');

    sandbox.setFaults({ failNextRequests: 100, failStatus: 502 });
    const down = await session.getMe().catch((e: unknown) => e);
    sandbox.setFaults({ failNextRequests: 0 });
    expect(down).toBeInstanceOf(MalUnavailableError);
    expect((down as MalUnavailableError).status).toBe(502);

    for (const error of [notFound, refused, down]) expectNoSecrets(inspect(error, { depth: 20 }) + String(error), [tokens]);
  });

  it('recovers from a 5xx burst by retrying with backoff', async () => {
    const client = newClient();
    sandbox.setFaults({ failNextRequests: 3, failStatus: 503 });
    const seqBefore = sandbox.requestLog.at(-1)?.seq ?? 0;
    const results = await client.searchAnime({ q: 'frieren', limit: 2 });
    expect(results[0].id).toBe(52991);
    const attempts = sandbox.requestLog.filter((e) => e.seq > seqBefore);
    expect(attempts.map((e) => e.status)).toEqual([503, 503, 503, 200]);
    expect(new Set(attempts.map((e) => e.requestId)).size).toBe(1); // one logical call
  });

  it('gives up on a 5xx storm after the bounded number of attempts', async () => {
    const client = newClient({ retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 50 } });
    sandbox.setFaults({ failRate: 1, failStatus: 500 });
    const seqBefore = sandbox.requestLog.at(-1)?.seq ?? 0;
    const error = await client.getAnimeDetails(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalUnavailableError);
    expect((error as MalUnavailableError).attempts).toBe(3);
    expect(sandbox.requestLog.filter((e) => e.seq > seqBefore)).toHaveLength(3);
  });

  it('honours Retry-After on throttled answers and surfaces MalThrottledError when it never ends', async () => {
    const client = newClient({ retry: { retries: 1, baseDelayMs: 10, maxDelayMs: 50 } });
    sandbox.setFaults({ rateLimitPerSecond: 1, throttleStatus: 403, throttleRetryAfterSeconds: 1 });
    try {
      // Two quick calls: the second is throttled (403) and waits the 1 s Retry-After, then passes.
      const started = Date.now();
      await Promise.all([client.getAnimeDetails(1), client.getAnimeDetails(5)]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(sandbox.requestLog.filter((e) => e.fault === 'throttled').length).toBeGreaterThan(0);

      // Right after an accepted request, with no Retry-After, one retry at ≤ 50 ms cannot get through.
      sandbox.setFaults({ throttleRetryAfterSeconds: null });
      const throttled = await client.getAnimeDetails(6).catch((e: unknown) => e);
      expect(throttled).toBeInstanceOf(MalThrottledError);
    } finally {
      sandbox.setFaults({ rateLimitPerSecond: null, throttleStatus: 429, throttleRetryAfterSeconds: null });
    }
  });

  it('refreshes an early-expired access token once, hands the new tokens to the store, and continues', async () => {
    const client = newClient();
    const tokens = await signInWithClient(client, 'kim');
    const store = new RecordingStore(tokens);
    const session = client.forUser(store);
    expect((await session.getMe()).name).toBe('kim');

    sandbox.setFaults({ accessTokenLifetimeSeconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // Several calls at once see the expired token: still exactly one refresh.
    const names = await Promise.all([session.getMe(), session.getMe(), session.getMe()]);
    expect(names.map((n) => n.name)).toEqual(['kim', 'kim', 'kim']);
    expect(store.saved).toHaveLength(1);
    expect(store.saved[0].accessToken).not.toBe(tokens.accessToken);
    expect(store.saved[0].refreshToken).not.toBe(tokens.refreshToken);
    expect(sandbox.requestLog.filter((e) => e.path === '/v1/oauth2/token' && e.userName === 'kim' && e.status === 200)).toHaveLength(2); // sign-in + one refresh
    expectNoSecrets(logLines.join('\n'), [tokens, store.saved[0]]);
  });

  it('refreshes ahead of time when the stored token is about to expire (no 401 round trip)', async () => {
    const client = newClient();
    const tokens = await signInWithClient(client, 'nora');
    const store = new RecordingStore({ ...tokens, expiresAt: Date.now() + 10_000 }); // inside the 60 s margin
    const seqBefore = sandbox.requestLog.at(-1)?.seq ?? 0;
    expect((await client.forUser(store).getMe()).name).toBe('nora');
    expect(store.saved).toHaveLength(1);
    const calls = sandbox.requestLog.filter((e) => e.seq > seqBefore).map((e) => `${e.method} ${e.path} ${e.status}`);
    expect(calls).toEqual(['POST /v1/oauth2/token 200', 'GET /v2/users/@me 200']);
  });

  it('turns a revoked refresh token into MalReloginRequiredError', async () => {
    const client = newClient();
    const tokens = await signInWithClient(client, 'leo');
    const store = new RecordingStore(tokens);
    const session = client.forUser(store);
    sandbox.setFaults({ revokeAccessTokens: 'leo', revokeRefreshTokens: 'leo' });
    const error = await session.getAnimeList().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalReloginRequiredError);
    expect((error as Error).message).toContain('POST /v1/oauth2/token');
    expect(store.saved).toHaveLength(0);
    expectNoSecrets(inspect(error, { depth: 20 }), [tokens]);
  });

  it('gives MalReloginRequiredError when MAL refuses even the refreshed token', async () => {
    const client = newClient();
    const tokens = await signInWithClient(client, 'mia');
    const store = new RecordingStore(tokens);
    const session = client.forUser(store);
    sandbox.setFaults({ accessTokenLifetimeSeconds: 0 }); // every access token is dead on arrival
    try {
      const error = await session.getMe().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MalReloginRequiredError);
      expect(store.saved).toHaveLength(1); // refreshed once, not in a loop
    } finally {
      sandbox.setFaults({ accessTokenLifetimeSeconds: null });
    }
  });

  it('refuses to follow paging.next to another origin (it would carry the token there)', async () => {
    const foreignPage = {
      data: [{ node: { id: 1, title: 'Cowboy Bebop' }, list_status: { status: 'completed', score: 0, num_episodes_watched: 26, is_rewatching: false, updated_at: '2024-01-01T00:00:00+00:00' } }],
      paging: { next: 'https://evil.example/v2/users/@me/animelist?offset=1' },
    };
    const client = newClient({
      fetch: async () => new Response(JSON.stringify(foreignPage), { headers: { 'Content-Type': 'application/json' } }),
    });
    await expect(client.getAnimeList('token')).rejects.toThrow(/outside/);
  });
});
