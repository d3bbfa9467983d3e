/**
 * The per-user request limit, shared by the resolver that counts requests (resolvers/functions/
 * countRequest.ts) and the function-side limit table (functions/limits/user-limits.ts, docs/api.md).
 */
export const REQUESTS_PER_MINUTE = {
  name: 'requestsPerMinute',
  limit: 120,
  windowSeconds: 60,
  description: 'GraphQL requests per user per minute',
  /** An operator's (or a test's) override: an AppSync environment variable of the API, a Lambda one for functions. */
  envName: 'LIMIT_REQUESTS_PER_MINUTE',
} as const;

