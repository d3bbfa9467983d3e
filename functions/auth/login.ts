/**
 * Sign in with MAL: OAuth 2 authorization code with PKCE (`plain`, the only method MAL supports). With
 * `plain` the verifier IS the challenge, so it is in the authorize URL the client opens: PKCE alone does
 * not bind the sign-in to the client. What does: `startLogin` takes the SHA-256 of a secret the client
 * keeps, stored with the `state` (single use, 10 minutes), and `completeLogin` must present the secret;
 * a leaked `code` + `state` (a redirect seen by another extension, a log) cannot finish the sign-in.
 * A completed sign-in stores the MAL tokens encrypted and returns an AnimeLog session.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { createPkceVerifier } from '../mal/client';
import { MalAuthError, MalBadRequestError } from '../mal/errors';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';
import { allowedRedirectUris, malClient } from '../shared/mal';
import { ApiError, UnauthorizedError, ValidationError } from '../shared/errors';
import { saveMalTokens } from './mal-tokens';
import { createSession, revokeSession, verifySession } from './sessions';
import { PROFILE_SK } from '#contract/keys';

export const LOGIN_TTL_SECONDS = 600;

export interface Viewer {
  userId: string;
  malUserId: number;
  malUserName: string;
  createdAt: string;
  lastSyncAt?: string | null;
}

/** A base64url SHA-256 digest, as `loginSecretHash` must be. */
const SECRET_HASH = /^[A-Za-z0-9_-]{43}$/;
/** The secret itself: PKCE's verifier alphabet and length (RFC 7636), so the same generator serves. */
const SECRET = /^[A-Za-z0-9\-._~]{43,128}$/;

export function loginSecretHashOf(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

export async function startLogin(redirectUri: string, loginSecretHash: string, now = new Date()) {
  const allowed = allowedRedirectUris();
  if (!allowed.includes(redirectUri)) {
    throw new ValidationError('redirectUri is not one registered with the MAL client', { field: 'redirectUri' });
  }
  if (typeof loginSecretHash !== 'string' || !SECRET_HASH.test(loginSecretHash)) {
    throw new ValidationError('loginSecretHash must be the base64url SHA-256 (43 characters) of a secret the client keeps', { field: 'loginSecretHash' });
  }
  const state = randomBytes(32).toString('base64url');
  const codeVerifier = createPkceVerifier();
  const expiresAtEpoch = Math.floor(now.getTime() / 1000) + LOGIN_TTL_SECONDS;
  await documents().send(
    new PutCommand({
      TableName: tableName('login-states'),
      Item: { state, codeVerifier, secretHash: loginSecretHash, redirectUri, createdAt: now.toISOString(), expiresAtEpoch },
      ConditionExpression: 'attribute_not_exists(#s)',
      ExpressionAttributeNames: { '#s': 'state' },
    }),
  );
  const client = await malClient();
  return {
    authorizeUrl: client.buildAuthorizeUrl({ redirectUri, state, codeVerifier }),
    state,
    expiresAt: new Date(expiresAtEpoch * 1000).toISOString(),
  };
}

/**
 * Takes the state out of the table (so it can never be used twice) and returns what was kept with it —
 * only for the client holding the secret: a wrong secret leaves the state for its rightful owner.
 */
async function consumeState(state: string, loginSecret: string, now: Date): Promise<{ codeVerifier: string; redirectUri: string }> {
  const refused = () =>
    new UnauthorizedError('This sign-in is unknown, expired, already completed or was started by another client: start it again', { reason: 'STATE_INVALID', action: 'START_LOGIN' });
  if (typeof state !== 'string' || state.length < 16 || state.length > 128) throw refused();
  if (typeof loginSecret !== 'string' || !SECRET.test(loginSecret)) throw refused();
  try {
    const out = await documents().send(
      new DeleteCommand({
        TableName: tableName('login-states'),
        Key: { state },
        ConditionExpression: 'attribute_exists(#s) AND secretHash = :h',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':h': loginSecretHashOf(loginSecret) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const item = out.Attributes as { codeVerifier: string; redirectUri: string; expiresAtEpoch: number } | undefined;
    // DynamoDB's TTL deletes lazily, so expiry is checked here too.
    if (!item || item.expiresAtEpoch * 1000 <= now.getTime()) throw refused();
    return item;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw refused();
    throw error;
  }
}

async function findOrCreateUser(malUserId: number, malUserName: string, now: Date): Promise<Viewer> {
  const found = await documents().send(
    new QueryCommand({ TableName: tableName('users'), IndexName: 'byMalUser', KeyConditionExpression: 'malUserId = :m', ExpressionAttributeValues: { ':m': malUserId } }),
  );
  const existing = found.Items?.find((item) => item.sk === PROFILE_SK);
  const viewer: Viewer = existing
    ? { userId: existing.userId, malUserId, malUserName, createdAt: existing.createdAt, lastSyncAt: existing.lastSyncAt ?? null }
    : { userId: `u-${randomUUID()}`, malUserId, malUserName, createdAt: now.toISOString(), lastSyncAt: null };
  await documents().send(new PutCommand({ TableName: tableName('users'), Item: { ...viewer, sk: PROFILE_SK } }));
  return viewer;
}

export async function completeLogin(code: string, state: string, loginSecret: string, now = new Date()) {
  if (typeof code !== 'string' || code.length === 0 || code.length > 2048) throw new ValidationError('code is missing or too long', { field: 'code' });
  const login = await consumeState(state, loginSecret, now);
  const client = await malClient();
  let tokens;
  try {
    tokens = await client.exchangeCode({ code, codeVerifier: login.codeVerifier, redirectUri: login.redirectUri });
  } catch (error) {
    if (error instanceof MalAuthError || error instanceof MalBadRequestError) {
      throw new UnauthorizedError('MyAnimeList refused the authorization code (expired, already used, or not issued for this sign-in): start again', {
        reason: 'CODE_REFUSED',
        action: 'START_LOGIN',
      });
    }
    throw error;
  }
  const me = await client.getMe(tokens.accessToken);
  const viewer = await findOrCreateUser(me.id, me.name, now);
  await saveMalTokens(viewer.userId, tokens);
  const session = await createSession(viewer.userId, now);
  return { sessionToken: session.token, expiresAt: session.expiresAt, viewer };
}

async function viewerOf(userId: string): Promise<Viewer> {
  const out = await documents().send(new GetCommand({ TableName: tableName('users'), Key: { userId, sk: PROFILE_SK } }));
  if (!out.Item) throw new ApiError('NotFound', 'No profile for this session: sign in again', { action: 'START_LOGIN' });
  const { malUserId, malUserName, createdAt, lastSyncAt } = out.Item;
  return { userId, malUserId, malUserName, createdAt, lastSyncAt: lastSyncAt ?? null };
}

/** A fresh session for the caller's valid one, which is revoked. */
export async function refreshSession(currentToken: string, userId: string) {
  const current = await verifySession(currentToken);
  if (!current || current.userId !== userId) throw new UnauthorizedError('This session is no longer valid: sign in again', { action: 'START_LOGIN' });
  const session = await createSession(userId);
  await revokeSession(currentToken);
  return { sessionToken: session.token, expiresAt: session.expiresAt, viewer: await viewerOf(userId) };
}

/**
 * The session behind a subscription `start`, read now: the authorizer's answer may be a cached one from
 * before a sign-out, and a subscription opened on it would outlive the session's invalidation.
 */
export async function checkSession(currentToken: string, userId: string): Promise<boolean> {
  const current = await verifySession(currentToken);
  if (!current || current.userId !== userId) throw new UnauthorizedError('This session is no longer valid: sign in again', { action: 'START_LOGIN' });
  return true;
}

export async function signOut(currentToken: string, userId: string): Promise<boolean> {
  const current = await verifySession(currentToken);
  if (!current || current.userId !== userId) throw new UnauthorizedError('This session is no longer valid', null);
  await revokeSession(currentToken);
  return true;
}
