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

/** The environment names (env.ts), also read here by the infrastructure that sets them. */
export { FUNCTION_ENV, tableEnvName } from './env';

