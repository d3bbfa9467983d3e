/**
 * AppSync Lambda authorizer: the `Authorization` header carries an AnimeLog session token. Valid →
 * the user id goes to resolvers as `ctx.identity.resolverContext.userId`. Never logs the token.
 */
import { verifySession } from '../auth/sessions';

export interface AuthorizerEvent {
  authorizationToken: string;
}

export interface AuthorizerResult {
  isAuthorized: boolean;
  resolverContext?: { userId: string };
  ttlOverride?: number;
}

export async function handler(event: AuthorizerEvent): Promise<AuthorizerResult> {
  const session = await verifySession(event.authorizationToken);
  if (!session) return { isAuthorized: false, ttlOverride: 0 };
  // Short cache: a revoked session stops working within a minute in AWS (locally there is no cache).
  return { isAuthorized: true, resolverContext: { userId: session.userId }, ttlOverride: 60 };
}
