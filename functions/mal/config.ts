/**
 * MAL client configuration from the environment (Lambdas, `npm start`):
 *   MAL_CLIENT_ID, MAL_CLIENT_SECRET            client credentials
 *   MAL_AUTH_BASE_URL, MAL_API_BASE_URL         default https://myanimelist.net/v1/oauth2, https://api.myanimelist.net/v2
 *   MAL_RATE_LIMIT_PER_SECOND, MAL_RATE_LIMIT_BURST   default 1 and 2
 *   MAL_RATE_LIMIT_TABLE                        DynamoDB `rate-limits` table: when set, the bucket is shared there
 *   MAL_MAX_RETRIES, MAL_TIMEOUT_MS             default 4 retries, 10000 ms per attempt
 *   MAL_RETRY_BASE_DELAY_MS                     first backoff, doubling per retry (default 1000; tests shorten it)
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_RETRY, MalClient, MAL_DEFAULT_API_BASE_URL, MAL_DEFAULT_AUTH_BASE_URL, type MalClientConfig, type MalClientLogger } from './client';
import { DynamoDbTokenBucketRateLimiter } from './dynamo-rate-limiter';
import { DEFAULT_MAL_RATE, TokenBucketRateLimiter, type RateLimiter } from './rate-limiter';
import { environment } from '../shared/config';

export class MalConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalConfigError';
  }
}

function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new MalConfigError(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

export interface MalClientFromEnvOptions {
  env?: NodeJS.ProcessEnv;
  logger?: MalClientLogger;
  /** DynamoDB client settings for the shared limiter (endpoint/region/credentials for DynamoDB Local). */
  dynamoDb?: DynamoDBClientConfig;
  /** Use this limiter instead of one built from the environment. */
  rateLimiter?: RateLimiter;
}

export function malClientConfigFromEnv(options: MalClientFromEnvOptions = {}): MalClientConfig {
  const env = options.env ?? environment();
  const clientId = env.MAL_CLIENT_ID;
  if (!clientId) throw new MalConfigError('MAL_CLIENT_ID is not set');
  const rate = {
    ratePerSecond: numberFrom(env, 'MAL_RATE_LIMIT_PER_SECOND', DEFAULT_MAL_RATE.ratePerSecond),
    burst: numberFrom(env, 'MAL_RATE_LIMIT_BURST', DEFAULT_MAL_RATE.burst),
  };
  const rateLimiter =
    options.rateLimiter ??
    (env.MAL_RATE_LIMIT_TABLE
      ? new DynamoDbTokenBucketRateLimiter({
          ...rate,
          tableName: env.MAL_RATE_LIMIT_TABLE,
          documentClient: DynamoDBDocumentClient.from(new DynamoDBClient(options.dynamoDb ?? {})),
        })
      : new TokenBucketRateLimiter(rate));
  return {
    clientId,
    clientSecret: env.MAL_CLIENT_SECRET || undefined,
    authBaseUrl: env.MAL_AUTH_BASE_URL || MAL_DEFAULT_AUTH_BASE_URL,
    apiBaseUrl: env.MAL_API_BASE_URL || MAL_DEFAULT_API_BASE_URL,
    rateLimiter,
    retry: {
      retries: Math.floor(numberFrom(env, 'MAL_MAX_RETRIES', DEFAULT_RETRY.retries)),
      baseDelayMs: numberFrom(env, 'MAL_RETRY_BASE_DELAY_MS', DEFAULT_RETRY.baseDelayMs),
    },
    timeoutMs: numberFrom(env, 'MAL_TIMEOUT_MS', 10_000),
    logger: options.logger,
  };
}

export function createMalClientFromEnv(options: MalClientFromEnvOptions = {}): MalClient {
  return new MalClient(malClientConfigFromEnv(options));
}
