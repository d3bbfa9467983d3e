/**
 * MAL's request budget (about one request a second, shared by every sync) is not public: `malAnime`
 * needs a session, answers repeats from the shared cache, and MAL lookups it may make are bounded per
 * user and for everyone together — so a flood of `malAnime` calls leaves another user's MAL change
 * served promptly. MAL paced at 2 requests/s; the per-user lookup limit lowered to 5 for the test.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestUser, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';

const ENTRIES = readFileSync(resolve(import.meta.dirname, '../../local/mal-sandbox/fixtures/catalog.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as { mal_id: number; episodes?: number });
const MAL_ANIME = 'query($id: Int!) { malAnime(malId: $id) { malId title } }';
const LOOKUPS = 5;

const stack = useTestStack({ env: { MAL_RATE_LIMIT_PER_SECOND: '2', MAL_RATE_LIMIT_BURST: '2', LIMIT_MAL_LOOKUPS_PER_HOUR: String(LOOKUPS) } });

const malAnimeRequests = () => stack.malSandbox!.requestLog.filter((e) => /^\/v2\/anime\/\d+$/.test(e.path)).length;

describe('malAnime and the shared MAL budget', () => {
  it('is refused to the public API key', async () => {
    const result = await gql(stack, MAL_ANIME, { id: ENTRIES[0]!.mal_id });
    expect(result.data?.malAnime ?? null).toBeNull();
    expect(result.errors?.[0]).toMatchObject({ errorType: 'Unauthorized' });
  });

  it('answers a repeated id from the cache, without asking MAL again', async () => {
    const user = await createTestUser(stack);
    const id = ENTRIES[1]!.mal_id;
    const first = await gql(stack, MAL_ANIME, { id }, user.headers);
    expect(first.errors).toBeUndefined();
    const before = malAnimeRequests();
    const other = await createTestUser(stack);
    const again = await gql(stack, MAL_ANIME, { id }, other.headers);
    expect(again.data).toEqual(first.data);
    expect(malAnimeRequests()).toBe(before);
  });

  it('a flood of 40 concurrent lookups costs MAL at most the lookup limit, and another user\'s MAL change stays prompt', async () => {
    const flooder = await createTestUser(stack);
    const victim = await signIn(stack, 'flood_victim');
    const target = ENTRIES.find((e) => (e.episodes ?? 0) > 3)!.mal_id;
    const ids = ENTRIES.slice(2, 42).map((e) => e.mal_id);
    const before = malAnimeRequests();
    const flood = Promise.all(ids.map((id) => gql(stack, MAL_ANIME, { id }, flooder.headers)));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const change = await gql(stack, 'mutation($i: UpdateSeriesStatusInput!) { updateSeriesStatus(input: $i) { malId status } }', { i: { malId: target, status: 'WATCHING' } }, victim.headers);
    const changeMs = Date.now() - started;
    const results = await flood;
    expect(change.errors).toBeUndefined();
    expect(change.data?.updateSeriesStatus).toEqual({ malId: target, status: 'WATCHING' });
    const served = results.filter((r) => r.data?.malAnime);
    const limited = results.filter((r) => r.errors?.[0]?.errorType === 'LimitExceeded');
    expect(served.length).toBeLessThanOrEqual(LOOKUPS);
    expect(served.length + limited.length).toBe(ids.length);
    expect(limited[0]!.errors![0].errorInfo).toMatchObject({ limit: 'malLookupsPerHour', max: LOOKUPS });
    expect(limited[0]!.errors![0].errorInfo.retryAfterSeconds).toBeGreaterThan(0);
    expect(malAnimeRequests() - before).toBeLessThanOrEqual(LOOKUPS);
    // At 2 MAL requests/s the change waits behind at most the few allowed lookups (40 would be ~20 s).
    expect(changeMs).toBeLessThan(8_000);
  }, 60_000);
});
