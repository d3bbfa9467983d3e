/**
 * The contract between the deployed infrastructure and the function code: custom metric names (the
 * alarms in infra/ watch exactly these) and the environment variables CDK sets on each Lambda.
 * Plain data: functions read it through functions/shared/config.ts and write metrics through
 * functions/shared/metrics.ts.
 */

/** CloudWatch namespace of AnimeLog's own metrics. */
export const METRICS_NAMESPACE = 'AnimeLog';

/** Custom metric names. Each is emitted with the single dimension `Stage` (see {@link emitMetric}). */
export const METRIC = {
  /** A sync job ended in FAILED (not cancelled). Alarmed: any occurrence. */
  SyncJobFailed: 'SyncJobFailed',
  /** Refreshing a user's MAL token failed for a reason other than the user revoking access. Alarmed. */
  MalTokenRefreshFailed: 'MalTokenRefreshFailed',
  /** MAL answered a block page or a storm of 403s (it blocks cloud IP ranges); jobs pause. Alarmed. */
  MalBlocked: 'MalBlocked',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** The dimension every custom metric carries; alarms select on it. */
export const METRIC_DIMENSION_STAGE = 'Stage';

/**
 * Environment variables set by CDK on the functions (infra/) and read by the function code.
 * Only the variables a function's definition in contract/functions.ts asks for are set on it.
 */
export const FUNCTION_ENV = {
  /** Always: the stage name (dev, staging, prod). */
  STAGE: 'STAGE',
  /** `TABLE_<ID>` (e.g. TABLE_USER_TOKENS) for each table in the function's `tables` map; see tableEnvName. */
  TABLE_PREFIX: 'TABLE_',
  /** usesTokenKey: the KMS key (its ARN) for MAL token envelope encryption (GenerateDataKey/Decrypt); see functions/shared/token-crypto.ts. */
  TOKEN_KMS_KEY_ID: 'TOKEN_KMS_KEY_ID',
  /** callsMal: ARN of the Secrets Manager secret holding JSON {clientId, clientSecret, redirectUri}. */
  MAL_SECRET_ARN: 'MAL_SECRET_ARN',
  /** callsMal and lists the rate-limits table: the shared MAL token bucket (see functions/mal/config.ts). */
  MAL_RATE_LIMIT_TABLE: 'MAL_RATE_LIMIT_TABLE',
  /** sendsToSyncQueue: URL of the sync queue. */
  SYNC_QUEUE_URL: 'SYNC_QUEUE_URL',
  /** publishesSyncProgress: the API's GraphQL URL (IAM-signed Mutation.publishSyncProgress). */
  APPSYNC_GRAPHQL_URL: 'APPSYNC_GRAPHQL_URL',
} as const;

/** `TABLE_USER_TOKENS` for `user-tokens`: the same rule as functions/shared/config.ts tableName(). */
export function tableEnvName(tableId: string): string {
  return `${FUNCTION_ENV.TABLE_PREFIX}${tableId.toUpperCase().split('-').join('_')}`;
}

