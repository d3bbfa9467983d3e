/**
 * The MAL client's behaviour as a user meets it through GraphQL: media types MAL uses, a refused refresh
 * token answered with "sign in again", and token refresh under concurrent calls.
 */
import { describe, expect, it, vi } from 'vitest';
import { Catalog, DEFAULT_CATALOG_PATH } from '../../local/mal-sandbox';
import { loadCatalog as readCatalogFile } from '../../functions/matching/catalog-source';
import { FAST_MAL_CLIENT, QUICK_MAL_RETRIES, createTestUser, gql, useTestStack } from '../support/stack';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { loadMalTokens, refreshMalTokensOnce, saveMalTokens } from '../../functions/auth/mal-tokens';
import { documents } from '../../functions/shared/dynamo';
import { tableName } from '../../functions/shared/config';
import { MalUnavailableError, type MalTokens } from '../../functions/mal';
import { parseTokenResponse } from '../../functions/mal';
import { signIn as signInAtMal } from './helpers';

const MAL_ANIME = 'query($id: Int!) { malAnime(malId: $id) { malId mediaType } }';
const UPDATE_STATUS = 'mutation($input: UpdateSeriesStatusInput!) { updateSeriesStatus(input: $input) { malId status numEpisodesWatched } }';

const stack = useTestStack(async () => {
  const fixture = await readCatalogFile(DEFAULT_CATALOG_PATH);
  const catalog = new Catalog([
    ...fixture,
    { mal_id: 900001, title: 'Sandbox Commercial', type: 'cm' },
    { mal_id: 900002, title: 'Sandbox Promotion', type: 'pv' },
  ]);
  return { malSandbox: { catalog, rateLimit: false }, env: { ...FAST_MAL_CLIENT, ...QUICK_MAL_RETRIES } };
});

/** A signed-in user whose stored MAL tokens are those the sandbox issued to `malUser` (sign-in itself is tested in test/auth). */
async function userLinkedTo(malUser: string) {
  const user = await createTestUser(stack, malUser);
  await saveMalTokens(user.userId, parseTokenResponse(await signInAtMal(stack.malSandbox!, malUser)));
  return user;
}

describe('MAL media types through GraphQL', () => {
  it('answers TV_SPECIAL, CM and PV instead of UNKNOWN', async () => {
    const user = await userLinkedTo('mediatypes');
    const types: Record<number, string> = {};
    for (const id of [19285, 900001, 900002, 16498]) {
      const result = await gql(stack, MAL_ANIME, { id }, user.headers);
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      types[id] = result.data!.malAnime.mediaType;
    }
    expect(types).toEqual({ 19285: 'TV_SPECIAL', 900001: 'CM', 900002: 'PV', 16498: 'TV' });
  });
});

describe('a refresh token MAL refuses', () => {
  it('asks the user to sign in with MAL again (MalReloginRequired, START_LOGIN)', async () => {
    const user = await userLinkedTo('refused');
    stack.malSandbox!.setFaults({ revokeAccessTokens: 'refused', revokeRefreshTokens: 'refused' });
    const since = stack.malSandbox!.requestLog.at(-1)?.seq ?? 0;
    // The user's authorisation being gone is not an operational fault: no MalTokenRefreshFailed metric.
    const printed = vi.spyOn(process.stdout, 'write');
    const result = await gql(stack, UPDATE_STATUS, { input: { malId: 1, status: 'WATCHING' } }, user.headers).finally(() => printed.mockRestore());
    expect(printed.mock.calls.flat().join('\n')).not.toContain('MalTokenRefreshFailed');
    expect(result.errors?.[0]).toMatchObject({ errorType: 'MalReloginRequired', errorInfo: { action: 'START_LOGIN' } });
    // MAL's answer was its refused-refresh-token one, not invalid_grant.
    const refusals = stack.malSandbox!.requestLog.filter((e) => e.seq > since && e.path === '/v1/oauth2/token');
    expect(refusals.map((e) => [e.status, e.error])).toEqual([[400, 'invalid_request']]);
  });
});

describe('token refresh under concurrency', () => {
  it('refreshes an expired access token once for three concurrent calls, which all succeed', async () => {
    const user = await userLinkedTo('concurrent');
    const sandbox = stack.malSandbox!;
    // The access token expired: by the stored clock, and at MAL.
    const tokens = await loadMalTokens(user.userId);
    await saveMalTokens(user.userId, { ...tokens, expiresAt: Date.now() - 1000 });
    sandbox.setFaults({ revokeAccessTokens: 'concurrent' });
    const since = sandbox.requestLog.at(-1)?.seq ?? 0;

    const results = await Promise.all(
      [1, 5, 6].map((malId) => gql(stack, UPDATE_STATUS, { input: { malId, status: 'WATCHING', numEpisodesWatched: 1 } }, user.headers)),
    );
    for (const result of results) expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    expect(results.map((r) => r.data!.updateSeriesStatus.malId)).toEqual([1, 5, 6]);

    const refreshes = sandbox.requestLog.filter((e) => e.seq > since && e.path === '/v1/oauth2/token');
    expect(refreshes.map((e) => e.status)).toEqual([200]);
    expect(sandbox.getList('concurrent').map((e) => e.animeId).sort((a, b) => a - b)).toEqual([1, 5, 6]);
    // The rotated pair is what is stored, so the next call needs no refresh.
    const stored = await loadMalTokens(user.userId);
    expect(stored.accessToken).not.toBe(tokens.accessToken);
    expect(stored.expiresAt).toBeGreaterThan(Date.now());
    const after = sandbox.requestLog.at(-1)!.seq;
    expect((await gql(stack, UPDATE_STATUS, { input: { malId: 1, score: 7 } }, user.headers)).errors).toBeUndefined();
    expect(sandbox.requestLog.filter((e) => e.seq > after && e.path === '/v1/oauth2/token')).toEqual([]);
  });

  it('also refreshes once when MAL refuses the access token before its stored expiry', async () => {
    const user = await userLinkedTo('concurrent2');
    const sandbox = stack.malSandbox!;
    sandbox.setFaults({ revokeAccessTokens: 'concurrent2' });
    const since = sandbox.requestLog.at(-1)?.seq ?? 0;
    const results = await Promise.all(
      [1, 5, 6, 1535, 5114].map((malId) => gql(stack, UPDATE_STATUS, { input: { malId, status: 'COMPLETED' } }, user.headers)),
    );
    for (const result of results) expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    expect(sandbox.requestLog.filter((e) => e.seq > since && e.path === '/v1/oauth2/token').map((e) => e.status)).toEqual([200]);
  });
});

describe('the refresh lease', () => {
  const expired = (n: number): MalTokens => ({ tokenType: 'Bearer', accessToken: `stale-${n}`, refreshToken: `refresh-${n}`, expiresAt: Date.now() - 1000 });
  const fresh = (n: number): MalTokens => ({ tokenType: 'Bearer', accessToken: `fresh-${n}`, refreshToken: `refresh-next-${n}`, expiresAt: Date.now() + 3600_000 });

  it('lets one of two concurrent callers refresh; the other gets what it stored', async () => {
    const user = await createTestUser(stack);
    await saveMalTokens(user.userId, expired(1));
    const spent: string[] = [];
    const slowRefresh = async (refreshToken: string) => {
      spent.push(refreshToken);
      await new Promise((r) => setTimeout(r, 300));
      return fresh(1);
    };
    const [a, b] = await Promise.all([
      refreshMalTokensOnce(user.userId, 'stale-1', slowRefresh, 60_000),
      refreshMalTokensOnce(user.userId, 'stale-1', slowRefresh, 60_000),
    ]);
    expect(spent).toEqual(['refresh-1']);
    expect(a.accessToken).toBe('fresh-1');
    expect(b.accessToken).toBe('fresh-1');
    expect((await loadMalTokens(user.userId)).refreshToken).toBe('refresh-next-1');
  });

  it('takes over the lease of a caller that died holding it, once the lease has run out', async () => {
    const user = await createTestUser(stack);
    await saveMalTokens(user.userId, expired(2));
    await documents().send(
      new UpdateCommand({
        TableName: tableName('user-tokens'),
        Key: { userId: user.userId },
        UpdateExpression: 'SET refreshLeaseOwner = :o, refreshLeaseUntil = :u',
        ExpressionAttributeValues: { ':o': 'a-crashed-lambda', ':u': Date.now() + 400 },
      }),
    );
    const started = Date.now();
    const tokens = await refreshMalTokensOnce(user.userId, 'stale-2', async () => fresh(2), 60_000);
    expect(tokens.accessToken).toBe('fresh-2');
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('releases the lease when the refresh fails, so the next caller need not wait for it to run out', async () => {
    const user = await createTestUser(stack);
    await saveMalTokens(user.userId, expired(3));
    const down = new MalUnavailableError('MAL is failing (5xx) past the retry budget', { method: 'POST', path: '/v1/oauth2/token', status: 503 });
    await expect(refreshMalTokensOnce(user.userId, 'stale-3', async () => Promise.reject(down), 60_000)).rejects.toBe(down);
    const started = Date.now();
    expect((await refreshMalTokensOnce(user.userId, 'stale-3', async () => fresh(3), 60_000)).accessToken).toBe('fresh-3');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a new sign-in while a refresh is under way wins: the refresh does not overwrite it', async () => {
    const user = await createTestUser(stack);
    await saveMalTokens(user.userId, expired(4));
    const refreshed = refreshMalTokensOnce(
      user.userId,
      'stale-4',
      async () => {
        await saveMalTokens(user.userId, fresh(40)); // the user signed in again meanwhile
        return fresh(4);
      },
      60_000,
    );
    expect((await refreshed).accessToken).toBe('fresh-4');
    expect((await loadMalTokens(user.userId)).accessToken).toBe('fresh-40');
  });
});
