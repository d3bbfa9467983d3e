/**
 * AppSync Lambda authorizer: the `Authorization` header carries an AnimeLog session token. Valid →
 * the user id goes to resolvers as `ctx.identity.resolverContext.userId`. Never logs the token.
 *
 * AppSync caches the answer per token for the API's resultsCacheTtl (AUTHORIZER_CACHE_SECONDS), so a
 * revoked session may be accepted until its cached answer expires; a session that ends sooner is cached
 * only until it ends. Per-request work therefore does not belong here: the per-user request counter
 * runs before each resolver (resolvers/functions/countRequest.ts).
 */
import { AUTHORIZER_CACHE_SECONDS } from '#contract/functions';
import { sessionIdOf, verifySession } from '../auth/sessions';

export interface AuthorizerEvent {
  authorizationToken: string;
}

export interface AuthorizerResult {
  isAuthorized: boolean;
  /** AppSync passes these strings to resolvers as ctx.identity.resolverContext. */
  resolverContext?: { userId: string; sessionId: string };
  ttlOverride?: number;
}

export async function handler(event: AuthorizerEvent): Promise<AuthorizerResult> {
  const now = new Date();
  const session = await verifySession(event.authorizationToken, now);
  if (!session) return { isAuthorized: false };
  // sessionId: what signOut, refreshSession and deleteAccount invalidate the session's subscriptions by.
  const result: AuthorizerResult = { isAuthorized: true, resolverContext: { userId: session.userId, sessionId: sessionIdOf(session.tokenHash) } };
  const secondsLeft = Math.floor(session.expiresAtEpoch - now.getTime() / 1000);
  if (secondsLeft < AUTHORIZER_CACHE_SECONDS) result.ttlOverride = Math.max(0, secondsLeft);
  return result;
}
