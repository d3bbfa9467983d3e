/**
 * Every environment variable the functions read: those CDK sets on each Lambda (from its definition in
 * contract/functions.ts) and those only the local stack, an operator or a test sets. Function code reads
 * them through functions/shared/config.ts only, the one place that touches `process.env`.
 */

/** Set by CDK on the functions (infra/); only the variables a function's definition asks for. */
export const FUNCTION_ENV = {
  /** Always: the stage name (dev, staging, prod). */
  STAGE: 'STAGE',
  /** `TABLE_<ID>` (e.g. TABLE_USER_TOKENS) for each table in the function's `tables` map; see tableEnvName. */
  TABLE_PREFIX: 'TABLE_',
  /** usesTokenKey: the KMS key (its ARN) for MAL token envelope encryption (GenerateDataKey/Decrypt). */
  TOKEN_KMS_KEY_ID: 'TOKEN_KMS_KEY_ID',
  /** callsMal: ARN of the Secrets Manager secret holding JSON {clientId, clientSecret, redirectUri}. */
  MAL_SECRET_ARN: 'MAL_SECRET_ARN',
  /** callsMal and lists the rate-limits table: the shared MAL token bucket. */
  MAL_RATE_LIMIT_TABLE: 'MAL_RATE_LIMIT_TABLE',
  /** sendsToSyncQueue: URL of the sync queue. */
  SYNC_QUEUE_URL: 'SYNC_QUEUE_URL',
  /** publishesSyncProgress: the API's GraphQL URL (IAM-signed Mutation.publishSyncProgress). */
  APPSYNC_GRAPHQL_URL: 'APPSYNC_GRAPHQL_URL',
} as const;

/** Set by Lambda itself, or by the local stack in its stead. */
export const RUNTIME_ENV = {
  AWS_REGION: 'AWS_REGION',
  AWS_ACCESS_KEY_ID: 'AWS_ACCESS_KEY_ID',
  AWS_SECRET_ACCESS_KEY: 'AWS_SECRET_ACCESS_KEY',
  AWS_SESSION_TOKEN: 'AWS_SESSION_TOKEN',
} as const;

/** Set by the local stack, an operator or a test; unset in a deployed stage unless noted. */
export const LOCAL_ENV = {
  /** DynamoDB Local (or another endpoint) instead of the regional service. */
  DYNAMODB_ENDPOINT: 'DYNAMODB_ENDPOINT',
  /** MAL client credentials when no MAL_SECRET_ARN is set (npm start with real MAL, or the sandbox's). */
  MAL_CLIENT_ID: 'MAL_CLIENT_ID',
  MAL_CLIENT_SECRET: 'MAL_CLIENT_SECRET',
  /** Redirect URIs sign-in accepts, comma-separated. */
  MAL_REDIRECT_URIS: 'MAL_REDIRECT_URIS',
  /** MAL's base URLs (default MAL's own): the sandbox's locally. */
  MAL_AUTH_BASE_URL: 'MAL_AUTH_BASE_URL',
  MAL_API_BASE_URL: 'MAL_API_BASE_URL',
  /** MAL client pacing and retries (defaults 1/s, burst 2, 4 retries, 10 s per attempt). */
  MAL_RATE_LIMIT_PER_SECOND: 'MAL_RATE_LIMIT_PER_SECOND',
  MAL_RATE_LIMIT_BURST: 'MAL_RATE_LIMIT_BURST',
  MAL_MAX_RETRIES: 'MAL_MAX_RETRIES',
  /** The first retry's backoff in ms, doubling per retry (default 1000); tests shorten it. */
  MAL_RETRY_BASE_DELAY_MS: 'MAL_RETRY_BASE_DELAY_MS',
  MAL_TIMEOUT_MS: 'MAL_TIMEOUT_MS',
  /** "true": share the MAL budget through the rate-limits table locally too. */
  MAL_SHARED_RATE_LIMIT: 'MAL_SHARED_RATE_LIMIT',
  /** The local stack's internal IAM pair for publishSyncProgress (in AWS: the role's credentials). */
  SYNC_PROGRESS_ACCESS_KEY_ID: 'SYNC_PROGRESS_ACCESS_KEY_ID',
  SYNC_PROGRESS_SECRET_ACCESS_KEY: 'SYNC_PROGRESS_SECRET_ACCESS_KEY',
  /** The local --https certificate the worker's publish trusts. */
  SYNC_PROGRESS_CA_FILE: 'SYNC_PROGRESS_CA_FILE',
  /** The sync lock's lease (default 120 s). */
  SYNC_LEASE_MS: 'SYNC_LEASE_MS',
  /** How long a job waits while MAL blocks us (default and maximum 900 s). */
  MAL_BLOCKED_PAUSE_SECONDS: 'MAL_BLOCKED_PAUSE_SECONDS',
  /** The local token key file when no KMS key is set (default .local/token.key). */
  TOKEN_KEY_FILE: 'TOKEN_KEY_FILE',
  /** `LIMIT_<NAME>` lowers a per-user limit (e.g. LIMIT_REQUESTS_PER_MINUTE); see functions/limits. */
  LIMIT_PREFIX: 'LIMIT_',
} as const;

export const ENV = { ...FUNCTION_ENV, ...RUNTIME_ENV, ...LOCAL_ENV } as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** `TABLE_USER_TOKENS` for `user-tokens`. */
export function tableEnvName(tableId: string): string {
  return `${FUNCTION_ENV.TABLE_PREFIX}${tableId.toUpperCase().split('-').join('_')}`;
}
