/**
 * A user's MAL tokens, encrypted by the application (AES-256-GCM envelope, KMS data key in AWS, local key
 * file locally) before they reach the user-tokens table, with the user id as associated data so a
 * ciphertext moved to another user's item does not open. Nothing here logs or returns a token.
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createTokenCryptoFromEnv, type TokenCrypto } from '../shared/token-crypto';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';
import { malClient } from '../shared/mal';
import { MalAuthError, MalReloginRequiredError } from '../mal/errors';
import { METRIC } from '#contract/metrics';
import { emitMetric } from '../shared/metrics';
import type { MalTokens } from '../mal/types';
import type { MalUserSession } from '../mal/client';

let crypto: TokenCrypto | undefined;
function tokenCrypto(): TokenCrypto {
  crypto ??= createTokenCryptoFromEnv();
  return crypto;
}

export async function saveMalTokens(userId: string, tokens: MalTokens): Promise<void> {
  const sealed = await tokenCrypto().encryptJson(tokens, userId);
  await documents().send(
    new PutCommand({
      TableName: tableName('user-tokens'),
      Item: { userId, sealedTokens: sealed, accessTokenExpiresAt: tokens.expiresAt, updatedAt: new Date().toISOString() },
    }),
  );
}

export async function loadMalTokens(userId: string): Promise<MalTokens> {
  const out = await documents().send(new GetCommand({ TableName: tableName('user-tokens'), Key: { userId }, ConsistentRead: true }));
  const sealed = out.Item?.sealedTokens as string | undefined;
  if (!sealed) {
    throw new MalReloginRequiredError('no MAL tokens stored for this user: sign in with MAL again', { method: 'LOAD', path: 'user-tokens' });
  }
  return tokenCrypto().decryptJson<MalTokens>(sealed, userId);
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
  });
}
