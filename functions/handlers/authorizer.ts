/**
 * AppSync Lambda authorizer: the `Authorization` header carries an AnimeLog session token. Valid →
 * the user id goes to resolvers as `ctx.identity.resolverContext.userId`. Never logs the token.
 */
import { sessionIdOf, verifySession } from '../auth/sessions';
import { tryConsume } from '../limits/user-limits';

export interface AuthorizerEvent {
  authorizationToken: string;
}

export interface AuthorizerResult {
  isAuthorized: boolean;
  /** AppSync passes these strings to resolvers as ctx.identity.resolverContext. */
  resolverContext?: { userId: string; sessionId: string; rateLimitedForSeconds?: string };
  ttlOverride?: number;
}

export async function handler(event: AuthorizerEvent): Promise<AuthorizerResult> {
  const session = await verifySession(event.authorizationToken);
  if (!session) return { isAuthorized: false, ttlOverride: 0 };
  // The per-user request rate is counted here, once per request (hence no result caching). A caller over
  // the limit stays authenticated: resolvers answer LimitExceeded with the wait (resolvers/lib/identity.ts).
  const rate = await tryConsume(session.userId, 'requestsPerMinute');
  // sessionId: what signOut, refreshSession and deleteAccount invalidate the session's subscriptions by.
  const sessionId = sessionIdOf(session.tokenHash);
  const resolverContext = rate.allowed
    ? { userId: session.userId, sessionId }
    : { userId: session.userId, sessionId, rateLimitedForSeconds: String(rate.retryAfterSeconds) };
  return { isAuthorized: true, resolverContext, ttlOverride: 0 };
}
