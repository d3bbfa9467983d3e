/**
 * The local AppSync runtime's own client for DynamoDB (Local): DynamoDB's JSON protocol (awsJson1_0) over
 * keep-alive HTTP, nothing more. It stands for AppSync's service-side access to a data source's table,
 * which is no SDK in our code; the Lambda functions keep the AWS SDK, as deployed.
 *
 * Why not the SDK here: its middleware stack (endpoint resolution, signing, schema serde, retry
 * bookkeeping) cost ~1 ms of CPU per call, ten times what DynamoDB Local takes to answer a GetItem, and it
 * was most of what a resolver request cost locally. The HTTP is http1-pool.ts's, for the same reason.
 * DynamoDB Local checks no signature, so the authorization header only names the credential scope.
 *
 * Errors are thrown as the SDK would throw them: `name` is the exception's short name (from `__type`),
 * `message` DynamoDB's message, and the error body's fields (`Item`, `CancellationReasons`) are kept.
 * Throttles, 5xx answers and dropped connections are retried as the SDK's standard strategy does
 * (3 attempts, exponential backoff with jitter).
 */
import type { AttributeValue } from './dynamodb-value-helpers';
import { Http1Pool } from './http1-pool';

export type DynamoDBOperation =
  | 'GetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'Query'
  | 'Scan'
  | 'BatchGetItem'
  | 'BatchWriteItem'
  | 'TransactGetItems'
  | 'TransactWriteItems'
  // The tables the local stack creates at start (local/tables.ts).
  | 'CreateTable'
  | 'DescribeTable'
  | 'UpdateTimeToLive';

/** What the data source needs of a DynamoDB client: one call of the JSON protocol, output as DynamoDB sends it. */
export interface DynamoDBCaller {
  call<T = Record<string, any>>(operation: DynamoDBOperation, input: Record<string, unknown>): Promise<T>;
}

/** A DynamoDB error answer (HTTP 4xx/5xx), shaped like the SDK's service exceptions. */
export class DynamoDBServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number };
  /** ConditionalCheckFailedException with ReturnValuesOnConditionCheckFailure ALL_OLD: the stored item. */
  declare readonly Item?: Record<string, AttributeValue>;
  /** TransactionCanceledException: one reason per transaction item. */
  declare readonly CancellationReasons?: Array<{ Code?: string; Message?: string; Item?: Record<string, AttributeValue> }>;

  constructor(name: string, message: string, statusCode: number, body: Record<string, any>) {
    super(message);
    this.name = name;
    this.$fault = statusCode >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: statusCode };
    if (body.Item) Object.assign(this, { Item: body.Item });
    if (Array.isArray(body.CancellationReasons)) Object.assign(this, { CancellationReasons: body.CancellationReasons });
  }
}

// The SDK's standard retry strategy (@smithy/core retry): which failures are retried, and how long to wait.
const THROTTLING_CODES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const TRANSIENT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const MAX_ATTEMPTS = 3;
const RETRY_DELAY_BASE_MS = 100;
const THROTTLING_DELAY_BASE_MS = 500;
const MAX_RETRY_DELAY_MS = 20_000;

/** How the SDK reads an error's code from an awsJson1_0 answer: `__type`, then `code`, then the header. */
function errorCode(body: Record<string, any>, header: string | string[] | undefined): string {
  const raw = body.__type ?? body.code ?? body.Code ?? (Array.isArray(header) ? header[0] : header);
  if (raw === undefined || raw === null) return 'Unknown';
  let code = String(raw);
  if (code.includes(',')) code = code.split(',')[0]!;
  if (code.includes(':')) code = code.split(':')[0]!;
  if (code.includes('#')) code = code.split('#')[1]!;
  return code;
}

function retryDelayMs(error: unknown, attempt: number): number | undefined {
  if (attempt + 1 >= MAX_ATTEMPTS) return undefined;
  let base: number | undefined;
  if (error instanceof DynamoDBServiceError) {
    if (THROTTLING_CODES.has(error.name)) base = THROTTLING_DELAY_BASE_MS;
    else if (TRANSIENT_CODES.has(error.name) || TRANSIENT_STATUS.has(error.$metadata.httpStatusCode)) base = RETRY_DELAY_BASE_MS;
  } else if (NETWORK_CODES.has((error as { code?: string })?.code ?? '')) {
    base = RETRY_DELAY_BASE_MS;
  }
  return base === undefined ? undefined : Math.random() * Math.min(base * 2 ** attempt, MAX_RETRY_DELAY_MS);
}

export interface DynamoDBJsonClientOptions {
  region?: string;
  accessKeyId?: string;
  /** Most connections kept open to the endpoint (the SDK's default is 50). */
  maxSockets?: number;
}

export class DynamoDBJsonClient implements DynamoDBCaller {
  private readonly pool: Http1Pool;
  private readonly path: string;
  private readonly scope: string;

  constructor(endpoint: string, options: DynamoDBJsonClientOptions = {}) {
    const url = new URL(endpoint);
    this.pool = new Http1Pool(url, options.maxSockets ?? 50);
    this.path = url.pathname || '/';
    this.scope = `${options.accessKeyId ?? 'local'}/{date}/${options.region ?? 'us-east-1'}/dynamodb/aws4_request`;
  }

  async call<T = Record<string, any>>(operation: DynamoDBOperation, input: Record<string, unknown>): Promise<T> {
    const body = JSON.stringify(input);
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.once(operation, body)) as T;
      } catch (error) {
        const delay = retryDelayMs(error, attempt);
        if (delay === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  destroy(): void {
    this.pool.destroy();
  }

  private async once(operation: DynamoDBOperation, body: string): Promise<Record<string, any>> {
    const date = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    const response = await this.pool.post(
      this.path,
      {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
        authorization: `AWS4-HMAC-SHA256 Credential=${this.scope.replace('{date}', date)}, SignedHeaders=host, Signature=00`,
      },
      body,
    );
    const { status } = response;
    const text = response.body.toString('utf8');
    let parsed: Record<string, any> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, any>) : {};
    } catch (error) {
      if (status === 200) throw new Error(`DynamoDB ${operation} answered a body that is not JSON`, { cause: error });
    }
    if (status === 200) return parsed;
    const message = parsed.message ?? parsed.Message ?? 'UnknownError';
    throw new DynamoDBServiceError(errorCode(parsed, response.headers['x-amzn-errortype']), String(message), status, parsed);
  }
}
