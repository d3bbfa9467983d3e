/**
 * Module-level DynamoDB clients (reused across Lambda invocations). `DYNAMODB_ENDPOINT` points them at
 * DynamoDB Local; in AWS it is unset and the SDK uses the regional endpoint and the role's credentials.
 * Locally the clients also carry the grant check (DynamoDB Local has no IAM; see aws-access.ts).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { accessCheckExtension } from './aws-access';
import { ENV, env } from './config';

/**
 * The SDK's default logger is a no-op that still has `info`, so every call deep-copies its input and
 * output to hand them to it (a fifth of the local runtime's CPU on a page of series). Without `info`
 * the SDK skips that; its warnings and errors still reach the console. `debug` and `trace` must exist:
 * the credential providers call `logger.debug(…)` unguarded (in Lambda, where the clients are given no
 * credentials, a logger without it failed every call).
 */
export const SDK_LOGGER = {
  trace: () => {},
  debug: () => {},
  warn: (...args: unknown[]) => console.warn(...args),
  error: (...args: unknown[]) => console.error(...args),
} as unknown as NonNullable<DynamoDBClientConfig['logger']>;

let client: DynamoDBClient | undefined;
let documentClient: DynamoDBDocumentClient | undefined;

export function dynamoClientConfig() {
  const endpoint = env(ENV.DYNAMODB_ENDPOINT);
  return endpoint
    ? { endpoint, region: env(ENV.AWS_REGION) ?? 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, extensions: [accessCheckExtension] }
    : {};
}

export function dynamo(): DynamoDBClient {
  client ??= new DynamoDBClient({ ...dynamoClientConfig(), logger: SDK_LOGGER });
  return client;
}

export function documents(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(dynamo(), { marshallOptions: { removeUndefinedValues: true } });
  return documentClient;
}

/** DynamoDB's hard limit on one item. */
export const MAX_ITEM_BYTES = 400 * 1024;

/**
 * An item's size as DynamoDB counts it (attribute names plus values; numbers up to 21 bytes, 3 bytes
 * per list or map plus 1 per element), rounded up, so a write can be refused before DynamoDB does.
 */
export function itemSizeBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.min(21, Math.ceil(String(Math.abs(value)).replace(/[.-]/g, '').length / 2) + 1);
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return value.reduce((sum: number, element) => sum + 1 + itemSizeBytes(element), 3);
  return Object.entries(value as Record<string, unknown>).reduce((sum, [name, v]) => sum + 1 + Buffer.byteLength(name) + itemSizeBytes(v), 3);
}
