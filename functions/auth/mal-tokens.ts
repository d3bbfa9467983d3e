/**
 * A user's MAL tokens, encrypted by the application (AES-256-GCM envelope, KMS data key in AWS, local key
 * file locally) before they reach the user-tokens table, with the user id as associated data so a
 * ciphertext moved to another user's item does not open. Nothing here logs or returns a token.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createTokenCryptoFromEnv, type TokenCrypto } from '../shared/token-crypto';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';
import { malClient } from '../shared/mal';
import { MalAuthError, MalReloginRequiredError, MalUnavailableError } from '../mal/errors';
import { METRIC } from '#contract/metrics';
import { emitMetric } from '../shared/metrics';
import type { MalTokens } from '../mal/types';
import type { MalUserSession } from '../mal/client';

let crypto: TokenCrypto | undefined;
function tokenCrypto(): TokenCrypto {
  crypto ??= createTokenCryptoFromEnv();
  return crypto;
}

/**
 * The user-tokens item is versioned: `tokenVersion` goes up with every save, and a refresh holds a short
 * lease (`refreshLeaseOwner`, `refreshLeaseUntil`) so that one caller at a time, in any process, spends
 * the single-use refresh token.
 */
const REFRESH_LEASE_MS = 30_000;
/** Waiters give up a little after a lease would have expired (its holder crashed, or MAL hung). */
const REFRESH_WAIT_MS = REFRESH_LEASE_MS + 5_000;

interface StoredTokens {
  tokens: MalTokens;
  /** Undefined on items written before versioning. */
  version?: number;
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException';
}

/** Stores new tokens (sign-in): a new version, and any refresh lease cleared. */
export async function saveMalTokens(userId: string, tokens: MalTokens): Promise<void> {
  const sealed = await tokenCrypto().encryptJson(tokens, userId);
  await documents().send(
    new UpdateCommand({
      TableName: tableName('user-tokens'),
      Key: { userId },
      UpdateExpression: 'SET sealedTokens = :s, accessTokenExpiresAt = :e, updatedAt = :u ADD tokenVersion :one REMOVE refreshLeaseOwner, refreshLeaseUntil',
      ExpressionAttributeValues: { ':s': sealed, ':e': tokens.expiresAt, ':u': new Date().toISOString(), ':one': 1 },
    }),
  );
}

async function readTokens(userId: string): Promise<StoredTokens> {
  const out = await documents().send(new GetCommand({ TableName: tableName('user-tokens'), Key: { userId }, ConsistentRead: true }));
  const sealed = out.Item?.sealedTokens as string | undefined;
  if (!sealed) {
    throw new MalReloginRequiredError('no MAL tokens stored for this user: sign in with MAL again', { method: 'LOAD', path: 'user-tokens' });
  }
  const version = out.Item?.tokenVersion as number | undefined;
  return { tokens: await tokenCrypto().decryptJson<MalTokens>(sealed, userId), ...(version === undefined ? {} : { version }) };
}

export async function loadMalTokens(userId: string): Promise<MalTokens> {
  return (await readTokens(userId)).tokens;
}

/** The condition "the item still holds the version that was read". */
function sameVersion(version: number | undefined): { condition: string; values: Record<string, unknown> } {
  return version === undefined
    ? { condition: 'attribute_exists(sealedTokens) AND attribute_not_exists(tokenVersion)', values: {} }
    : { condition: 'tokenVersion = :v', values: { ':v': version } };
}

/** A conditional update of the user's token item: true when applied, false when its condition failed. */
async function updateTokensIf(userId: string, update: { expression: string; condition: string; values: Record<string, unknown> }): Promise<boolean> {
  try {
    await documents().send(
      new UpdateCommand({
        TableName: tableName('user-tokens'),
        Key: { userId },
        UpdateExpression: update.expression,
        ConditionExpression: update.condition,
        ExpressionAttributeValues: update.values,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

async function takeRefreshLease(userId: string, version: number | undefined, owner: string): Promise<boolean> {
  const now = Date.now();
  const same = sameVersion(version);
  return updateTokensIf(userId, {
    expression: 'SET refreshLeaseOwner = :o, refreshLeaseUntil = :until',
    condition: `${same.condition} AND (attribute_not_exists(refreshLeaseUntil) OR refreshLeaseUntil < :now)`,
    values: { ...same.values, ':o': owner, ':until': now + REFRESH_LEASE_MS, ':now': now },
  });
}

/** Stores refreshed tokens unless someone else stored newer ones meanwhile; ends the lease. */
async function saveRefreshed(userId: string, tokens: MalTokens, version: number | undefined): Promise<boolean> {
  const sealed = await tokenCrypto().encryptJson(tokens, userId);
  const same = sameVersion(version);
  return updateTokensIf(userId, {
    expression: 'SET sealedTokens = :s, accessTokenExpiresAt = :e, updatedAt = :u, tokenVersion = :next REMOVE refreshLeaseOwner, refreshLeaseUntil',
    condition: same.condition,
    values: { ...same.values, ':s': sealed, ':e': tokens.expiresAt, ':u': new Date().toISOString(), ':next': (version ?? 0) + 1 },
  });
}

/** Ends this caller's lease (a lease another caller took over is theirs). */
async function releaseRefreshLease(userId: string, owner: string): Promise<void> {
  await updateTokensIf(userId, { expression: 'REMOVE refreshLeaseOwner, refreshLeaseUntil', condition: 'refreshLeaseOwner = :o', values: { ':o': owner } });
}

/**
 * Replaces the user's tokens whose access token is `staleAccessToken`: one caller at a time (a lease on
 * the item) spends the refresh token; the others wait for the version it stores and use those tokens.
 */
export async function refreshMalTokensOnce(
  userId: string,
  staleAccessToken: string,
  refresh: (refreshToken: string) => Promise<MalTokens>,
  marginMs: number,
): Promise<MalTokens> {
  const owner = randomUUID();
  const deadline = Date.now() + REFRESH_WAIT_MS;
  let pause = 25;
  for (;;) {
    const stored = await readTokens(userId);
    if (stored.tokens.accessToken !== staleAccessToken && stored.tokens.expiresAt - marginMs > Date.now()) return stored.tokens;
    if (await takeRefreshLease(userId, stored.version, owner)) {
      let fresh: MalTokens;
      try {
        fresh = await refresh(stored.tokens.refreshToken);
      } catch (error) {
        await releaseRefreshLease(userId, owner);
        // Refused because another caller spent the token after our lease ran out: use what it stored.
        if (error instanceof MalReloginRequiredError) {
          const now = await readTokens(userId);
          if (now.version !== stored.version) return now.tokens;
        }
        throw error;
      }
      // Not stored only if another caller stored newer tokens meanwhile; ours are still good for this call.
      await saveRefreshed(userId, fresh, stored.version);
      return fresh;
    }
    if (Date.now() > deadline) {
      throw new MalUnavailableError('another refresh of this user\'s MAL tokens did not finish in time', { method: 'POST', path: '/v1/oauth2/token' });
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 500);
  }
}

export async function deleteMalTokens(userId: string): Promise<void> {
  await documents().send(new DeleteCommand({ TableName: tableName('user-tokens'), Key: { userId } }));
}

/** The user's MAL session: refreshes on expiry and persists the rotated tokens, encrypted. */
export async function malSessionForUser(userId: string): Promise<MalUserSession> {
  const client = await malClient();
  // A refresh that fails for any reason but the user's authorisation being gone is an operational
  // problem (MAL down, our client credentials revoked): counted for the MalTokenRefreshFailed alarm.
  const counted = Object.create(client) as typeof client;
  counted.refreshTokens = async (refreshToken: string) => {
    try {
      return await client.refreshTokens(refreshToken);
    } catch (error) {
      const authorisationGone = error instanceof MalReloginRequiredError || (error instanceof MalAuthError && error.malError === 'invalid_token');
      if (!authorisationGone) emitMetric(METRIC.MalTokenRefreshFailed);
      throw error;
    }
  };
  return counted.forUser({
    load: () => loadMalTokens(userId),
    save: (tokens) => saveMalTokens(userId, tokens),
    refresh: (staleAccessToken, refresh, marginMs) => refreshMalTokensOnce(userId, staleAccessToken, refresh, marginMs),
  });
}
