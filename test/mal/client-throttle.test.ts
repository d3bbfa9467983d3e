/**
 * 100 MAL calls from one client against a sandbox throttling at a real 20 requests/s: none lost, and no
 * call answered 429 more often than the retry policy allows (counted from the sandbox's own request log).
 * The client is paced at the sandbox's limit and its backoff scaled with it (MAL's ~1/s would make the
 * same property take minutes; the pacing and retry code are the same at any rate).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMalSandbox, type MalSandbox } from '../../local/mal-sandbox';
import { MalClient, TokenBucketRateLimiter, createPkceVerifier, type MalTokens } from '../../functions/mal';
import { REDIRECT_URI } from './helpers';

const SANDBOX_LIMIT_PER_SECOND = 20;
const RETRIES = 4;
let sandbox: MalSandbox;

beforeAll(async () => {
  sandbox = await startMalSandbox({ faults: { rateLimitPerSecond: SANDBOX_LIMIT_PER_SECOND, throttleStatus: 429 } });
});
afterAll(async () => {
  await sandbox.close();
});

it(`completes 100 calls under a ${SANDBOX_LIMIT_PER_SECOND} requests/s throttle within the retry policy`, { timeout: 60_000 }, async () => {
  const client = new MalClient({
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    authBaseUrl: sandbox.authBaseUrl,
    apiBaseUrl: sandbox.apiBaseUrl,
    // The client's own pace matches MAL's limit, so throttling only bites on timing jitter.
    rateLimiter: new TokenBucketRateLimiter({ ratePerSecond: SANDBOX_LIMIT_PER_SECOND, burst: 1 }),
    // One request interval as the first backoff, as 500 ms was at 2 requests/s.
    retry: { retries: RETRIES, baseDelayMs: 1000 / SANDBOX_LIMIT_PER_SECOND, maxDelayMs: 8000 / SANDBOX_LIMIT_PER_SECOND },
  });
  const verifier = createPkceVerifier();
  const authorize = new URL(client.buildAuthorizeUrl({ redirectUri: REDIRECT_URI, state: 's', codeVerifier: verifier }));
  authorize.searchParams.set('sandbox_user', 'throttled');
  const code = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
  let tokens: MalTokens = await client.exchangeCode({ code, codeVerifier: verifier, redirectUri: REDIRECT_URI });
  const session = client.forUser({ load: async () => tokens, save: async (t) => void (tokens = t) });

  const ids = [...new Set(sandbox.catalog.search('no').map((r) => r.mal_id))];
  const seqBefore = sandbox.requestLog.at(-1)?.seq ?? 0;
  const started = Date.now();
  const calls = Array.from({ length: 100 }, (_, i) => {
    const animeId = ids[i % ids.length];
    switch (i % 4) {
      case 0:
        return client.getAnimeDetails(animeId).then((a) => a.id);
      case 1:
        return client.searchAnime({ q: 'kimetsu no yaiba', limit: 5 }).then((r) => r[0].id);
      case 2:
        return session.updateListStatus(animeId, { status: 'watching', numEpisodesWatched: 1 }).then(() => animeId);
      default:
        return session.getMe().then((me) => me.id);
    }
  });
  const results = await Promise.allSettled(calls);
  const elapsedMs = Date.now() - started;

  const failures = results.filter((r) => r.status === 'rejected');
  expect(failures).toEqual([]);

  const attempts = sandbox.requestLog.filter((e) => e.seq > seqBefore && e.path.startsWith('/v2/'));
  const byCall = new Map<string, typeof attempts>();
  for (const attempt of attempts) byCall.set(attempt.requestId!, [...(byCall.get(attempt.requestId!) ?? []), attempt]);
  expect(byCall.size).toBe(100);
  const throttledPerCall = [...byCall.values()].map((a) => a.filter((e) => e.status === 429).length);
  const successes = [...byCall.values()].filter((a) => a.at(-1)?.status === 200).length;
  expect(successes).toBe(100);
  expect(Math.max(...throttledPerCall)).toBeLessThanOrEqual(RETRIES);
  expect(sandbox.getList('throttled')).toHaveLength(new Set(Array.from({ length: 25 }, (_, k) => ids[(4 * k + 2) % ids.length])).size);

  const total429 = throttledPerCall.reduce((a, b) => a + b, 0);
  console.log(
    `throttle test: 100 calls, ${attempts.length} API requests, ${total429} answered 429 ` +
      `(max ${Math.max(...throttledPerCall)} for one call, limit ${RETRIES}), ${(elapsedMs / 1000).toFixed(1)} s`,
  );
});
