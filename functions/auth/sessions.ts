/**
 * AnimeLog session tokens. The token is 32 random bytes shown to the client once; only its SHA-256 hash
 * is stored, so a read of the sessions table yields nothing usable. Sessions expire (TTL) and can be
 * revoked (sign-out, refresh, account deletion).
 */
import { createHash, randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';

export const SESSION_TTL_SECONDS = 30 * 24 * 3600;
const TOKEN_PREFIX = 'als_';

export interface SessionRecord {
  tokenHash: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
  expiresAtEpoch: number;
  revokedAt?: string;
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * The session's id as resolvers see it (the authorizer's resolverContext): what subscriptions opened
 * with the session are invalidated by when it ends. Derived from the stored hash, so it names the
 * session without being its table key.
 */
export function sessionIdOf(tokenHash: string): string {
  return createHash('sha256').update('session-id:').update(tokenHash).digest('base64url').slice(0, 32);
}

export async function createSession(userId: string, now = new Date()): Promise<{ token: string; expiresAt: string }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const expiresAtEpoch = Math.floor(now.getTime() / 1000) + SESSION_TTL_SECONDS;
  const expiresAt = new Date(expiresAtEpoch * 1000).toISOString();
  const record: SessionRecord = { tokenHash: hashSessionToken(token), userId, createdAt: now.toISOString(), expiresAt, expiresAtEpoch };
  await documents().send(new PutCommand({ TableName: tableName('sessions'), Item: record, ConditionExpression: 'attribute_not_exists(tokenHash)' }));
  return { token, expiresAt };
}

/** The session's user when the token is valid, unexpired and unrevoked; null otherwise. */
export async function verifySession(token: string, now = new Date()): Promise<SessionRecord | null> {
  if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX) || token.length > 100) return null;
  const out = await documents().send(new GetCommand({ TableName: tableName('sessions'), Key: { tokenHash: hashSessionToken(token) }, ConsistentRead: true }));
  const record = out.Item as SessionRecord | undefined;
  if (!record || record.revokedAt) return null;
  if (record.expiresAtEpoch * 1000 <= now.getTime()) return null;
  return record;
}

export async function revokeSession(token: string, now = new Date()): Promise<void> {
  await documents().send(
    new UpdateCommand({
      TableName: tableName('sessions'),
      Key: { tokenHash: hashSessionToken(token) },
      UpdateExpression: 'SET revokedAt = :now',
      ConditionExpression: 'attribute_exists(tokenHash)',
      ExpressionAttributeValues: { ':now': now.toISOString() },
    }),
  );
}

/** Revokes every session of a user (account deletion). */
export async function revokeAllSessions(userId: string, now = new Date()): Promise<number> {
  let count = 0;
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await documents().send(
      new QueryCommand({
        TableName: tableName('sessions'),
        IndexName: 'byUser',
        KeyConditionExpression: 'userId = :u',
        ExpressionAttributeValues: { ':u': userId },
        ExclusiveStartKey: cursor,
      }),
    );
    for (const item of page.Items ?? []) {
      await documents().send(
        new UpdateCommand({
          TableName: tableName('sessions'),
          Key: { tokenHash: item.tokenHash },
          UpdateExpression: 'SET revokedAt = :now',
          ExpressionAttributeValues: { ':now': now.toISOString() },
        }),
      );
      count += 1;
    }
    cursor = page.LastEvaluatedKey;
  } while (cursor);
  return count;
}
