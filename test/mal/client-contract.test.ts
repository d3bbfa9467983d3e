/**
 * The MAL client against MAL's real contract (as the sandbox imitates it): a refused refresh token means
 * "sign in again", searches include what MAL rates NSFW, apps without a client secret work, and token
 * lifetimes come from `expires_in` (31 days in practice).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMalSandbox, type MalSandbox } from '../../local/mal-sandbox';
import {
  MalAuthError,
  MalBadRequestError,
  MalClient,
  MalReloginRequiredError,
  TokenBucketRateLimiter,
  malMediaTypeEnum,
} from '../../functions/mal';
import { REDIRECT_URI, RecordingStore, signInWithClient } from './helpers';

let sandbox: MalSandbox;

function clientFor(target: MalSandbox, overrides: Partial<ConstructorParameters<typeof MalClient>[0]> = {}) {
  return new MalClient({
    clientId: target.clientId,
    clientSecret: target.clientSecret || undefined,
    authBaseUrl: target.authBaseUrl,
    apiBaseUrl: target.apiBaseUrl,
    rateLimiter: new TokenBucketRateLimiter({ ratePerSecond: 50, burst: 5 }),
    retry: { retries: 2, baseDelayMs: 20, maxDelayMs: 100 },
    timeoutMs: 2000,
    ...overrides,
  });
}

/** A transport that answers every call with one fixed MAL answer. */
function answering(status: number, body: unknown): typeof fetch {
  return async () => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

beforeAll(async () => {
  sandbox = await startMalSandbox({ rateLimit: false });
});
afterAll(async () => {
  await sandbox.close();
});

describe('a refresh token MAL refuses', () => {
  it('is MalReloginRequiredError when the stored refresh token was already spent', async () => {
    const client = clientFor(sandbox);
    const tokens = await signInWithClient(client, 'spentuser');
    // Someone else rotated the pair; this store still holds the old one, now expired.
    await client.refreshTokens(tokens.refreshToken);
    const store = new RecordingStore({ ...tokens, expiresAt: Date.now() - 1000 });
    const error = await client.forUser(store).getMe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalReloginRequiredError);
    expect((error as MalReloginRequiredError).malError).toBe('invalid_request');
    expect((error as Error).message).toContain('sign in to MAL again');
  });

  it('is MalReloginRequiredError whether MAL answers it with 400 or 401, and other token-endpoint faults are not', async () => {
    const refused = { error: 'invalid_request', message: 'The refresh token is invalid.', hint: 'Token has been revoked' };
    for (const status of [400, 401]) {
      const error = await clientFor(sandbox, { fetch: answering(status, refused) }).refreshTokens('r').catch((e: unknown) => e);
      expect(error, `status ${status}`).toBeInstanceOf(MalReloginRequiredError);
    }
    const badClient = await clientFor(sandbox, { fetch: answering(401, { error: 'invalid_client', message: 'Client authentication failed' }) })
      .refreshTokens('r')
      .catch((e: unknown) => e);
    expect(badClient).toBeInstanceOf(MalAuthError);
    expect(badClient).not.toBeInstanceOf(MalReloginRequiredError);
    const malformed = await clientFor(sandbox, { fetch: answering(400, { error: 'invalid_request', message: 'The request is missing a required parameter' }) })
      .refreshTokens('r')
      .catch((e: unknown) => e);
    expect(malformed).toBeInstanceOf(MalBadRequestError);
  });
});

describe('search', () => {
  it('sends nsfw=true, so entries MAL rates NSFW still match', async () => {
    sandbox.catalog.setNsfw(9253, 'black');
    try {
      const before = sandbox.requestLog.at(-1)?.seq ?? 0;
      const found = await clientFor(sandbox).searchAnime({ q: 'steins gate', limit: 10 });
      expect(found.map((a) => a.id)).toContain(9253);
      const call = sandbox.requestLog.find((e) => e.seq > before && e.path === '/v2/anime');
      expect(new URLSearchParams(call!.query).get('nsfw')).toBe('true');
    } finally {
      sandbox.catalog.setNsfw(9253, 'white');
    }
  });
});

describe('apps without a client secret', () => {
  it('signs in and refreshes with the client id alone', async () => {
    const other = await startMalSandbox({ appType: 'other', rateLimit: false });
    try {
      expect(other.clientSecret).toBe('');
      const client = clientFor(other, { clientSecret: undefined });
      const tokens = await signInWithClient(client, 'noscret');
      const store = new RecordingStore({ ...tokens, expiresAt: Date.now() - 1000 });
      expect((await client.forUser(store).getMe()).name).toBe('noscret');
      expect(store.saved).toHaveLength(1);
    } finally {
      await other.close();
    }
  });
});

describe('token lifetimes', () => {
  it('takes a 31-day expires_in as it comes and does not refresh before it is due', async () => {
    const observed = await startMalSandbox({ tokenLifetimes: 'observed', rateLimit: false });
    try {
      const client = clientFor(observed);
      const tokens = await signInWithClient(client, 'monthly');
      expect(tokens.expiresAt).toBeGreaterThan(Date.now() + 30.9 * 24 * 3600_000);
      const store = new RecordingStore(tokens);
      await client.forUser(store).getMe();
      expect(store.saved).toHaveLength(0);
      expect(observed.requestLog.filter((e) => e.path === '/v1/oauth2/token')).toHaveLength(1);
    } finally {
      await observed.close();
    }
  });
});

describe('media types', () => {
  it('maps every MAL media type to its own API value', () => {
    expect(['tv', 'ova', 'movie', 'special', 'tv_special', 'ona', 'music', 'cm', 'pv', 'unknown', undefined].map(malMediaTypeEnum)).toEqual([
      'TV', 'OVA', 'MOVIE', 'SPECIAL', 'TV_SPECIAL', 'ONA', 'MUSIC', 'CM', 'PV', 'UNKNOWN', 'UNKNOWN',
    ]);
  });
});
