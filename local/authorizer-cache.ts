/**
 * AppSync's cache of Lambda authorizer answers, locally: keyed by the authorization token, kept for the
 * answer's `ttlOverride` when it gives one, else for the API's resultsCacheTtl; 0 means not cached. So a
 * revoked session token is accepted locally exactly as long as it would be in AWS.
 */
import type { LambdaAuthorizerEvent, LambdaAuthorizerResult } from './appsync/auth';

export interface AuthorizerCache {
  (event: LambdaAuthorizerEvent): Promise<LambdaAuthorizerResult>;
  /** Forgets every cached answer (what the passing of the TTL does). */
  clear(): void;
  readonly size: number;
}

/** Bound on cached tokens (AppSync's own bound is not documented; this keeps memory flat). */
const MAX_ENTRIES = 10_000;

export function cachedAuthorizer(
  authorizer: (event: LambdaAuthorizerEvent) => Promise<LambdaAuthorizerResult>,
  options: { resultsCacheTtlSeconds: number; now?: () => number },
): AuthorizerCache {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { result: LambdaAuthorizerResult; expiresAt: number }>();
  const cached = (async (event: LambdaAuthorizerEvent) => {
    const key = event.authorizationToken;
    const hit = entries.get(key);
    if (hit && hit.expiresAt > now()) return hit.result;
    if (hit) entries.delete(key);
    const result = await authorizer(event);
    const ttl = typeof result?.ttlOverride === 'number' ? result.ttlOverride : options.resultsCacheTtlSeconds;
    if (ttl > 0) {
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!);
      entries.set(key, { result, expiresAt: now() + ttl * 1000 });
    }
    return result;
  }) as AuthorizerCache;
  cached.clear = () => entries.clear();
  Object.defineProperty(cached, 'size', { get: () => entries.size });
  return cached;
}
