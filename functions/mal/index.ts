/** The MAL client's public surface. */
export {
  MalClient,
  MalUserSession,
  createPkceVerifier,
  normalizeSearchQuery,
  silentLogger,
  structuredLogger,
  DEFAULT_RETRY,
  DEFAULT_ANIME_FIELDS,
  DEFAULT_DETAIL_FIELDS,
  MAL_DEFAULT_AUTH_BASE_URL,
  MAL_DEFAULT_API_BASE_URL,
  type MalClientConfig,
  type MalClientLogger,
  type MalRetryOptions,
  type MalTokenStore,
  type AuthorizeUrlRequest,
  type CodeExchangeRequest,
  type SearchAnimeRequest,
  type AnimeListRequest,
} from './client';
export * from './errors';
export * from './types';
export {
  TokenBucketRateLimiter,
  UnlimitedRateLimiter,
  DEFAULT_MAL_RATE,
  DEFAULT_FAIRNESS,
  RateLimiterConfigError,
  withRateShare,
  currentRateShare,
  type RateLimiter,
  type TokenBucketOptions,
  type FairnessOptions,
} from './rate-limiter';
export { DynamoDbTokenBucketRateLimiter, RateLimitTimeoutError, RateLimitStoreError, type DynamoDbTokenBucketOptions } from './dynamo-rate-limiter';
export { malClientConfigFromEnv, createMalClientFromEnv, MalConfigError, type MalClientFromEnvOptions } from './config';
