/**
 * The Lambda functions, defined once: CDK bundles each `entry` as a NodejsFunction; the local runtime
 * imports the same handler in-process. `tables` lists what each may touch (least privilege in AWS).
 */
import type { TableId } from './tables';
import type { LambdaFunctionId } from './datasources';

export type FunctionId = LambdaFunctionId | 'authorizer' | 'sync-worker';

export interface FunctionDefinition {
  id: FunctionId;
  entry: string;
  purpose: string;
  tables: Partial<Record<TableId, 'read' | 'write'>>;
  /** Needs the KMS key for MAL token envelope encryption. */
  usesTokenKey?: boolean;
  /** Calls MAL (needs the MAL client secret). */
  callsMal?: boolean;
  /** Sends messages to the sync queue. */
  sendsToSyncQueue?: boolean;
  /** Calls the API's IAM-only `Mutation.publishSyncProgress` (gets appsync:GraphQL on it and env APPSYNC_GRAPHQL_URL). */
  publishesSyncProgress?: boolean;
  /** Consumes the sync queue (its event source; also shortens a busy message's visibility). */
  consumesSyncQueue?: boolean;
  timeoutSeconds: number;
  memoryMb: number;
}

/**
 * How long AppSync keeps the authorizer's answer for a token (resultsCacheTtl; the local runtime caches
 * alike). A revoked session can therefore be accepted for up to this long (docs/api.md).
 */
export const AUTHORIZER_CACHE_SECONDS = 60;

export const FUNCTIONS: readonly FunctionDefinition[] = [
  {
    id: 'authorizer',
    entry: 'functions/handlers/authorizer.ts',
    purpose: 'AppSync Lambda authorizer: accepts valid, unexpired, unrevoked AnimeLog session tokens.',
    tables: { sessions: 'read' },
    timeoutSeconds: 5,
    memoryMb: 256,
  },
  {
    id: 'auth',
    entry: 'functions/handlers/auth.ts',
    purpose: 'Sign in with MAL (OAuth code + PKCE), session refresh and sign-out.',
    tables: { 'login-states': 'write', sessions: 'write', users: 'write', 'user-tokens': 'write', 'rate-limits': 'write' },
    usesTokenKey: true,
    callsMal: true,
    timeoutSeconds: 15,
    memoryMb: 512,
  },
  {
    id: 'account',
    entry: 'functions/handlers/account.ts',
    purpose: "Export, import and deletion of all of a user's data.",
    // rate-limits: importData counts the restored episodes against historyItemsPerDay.
    tables: { users: 'write', 'series-data': 'write', 'sync-jobs': 'write', 'sync-history': 'write', 'mal-mappings': 'write', sessions: 'write', 'user-tokens': 'write', 'rate-limits': 'write' },
    timeoutSeconds: 60,
    memoryMb: 512,
  },
  {
    id: 'mal',
    entry: 'functions/handlers/mal.ts',
    purpose: "Public MAL anime info and direct changes to the caller's MAL list.",
    // mal-cache: malAnime answers are shared across users.
    tables: { 'user-tokens': 'write', 'rate-limits': 'write', 'mal-cache': 'write' },
    usesTokenKey: true,
    callsMal: true,
    timeoutSeconds: 30,
    memoryMb: 512,
  },
  {
    id: 'history',
    entry: 'functions/handlers/history.ts',
    purpose: 'processHistory: validates and stores CR history parts and the user\'s series, creates and queues the sync job.',
    // rate-limits: the per-user daily history and hourly sync-start limits.
    tables: { users: 'read', 'series-data': 'write', 'sync-jobs': 'write', 'rate-limits': 'write' },
    sendsToSyncQueue: true,
    timeoutSeconds: 30,
    memoryMb: 1024,
  },
  {
    id: 'sync-control',
    entry: 'functions/handlers/sync-control.ts',
    purpose: 'cancelSync, retrySync, confirmMatch and matchCandidates.',
    tables: { users: 'read', 'series-data': 'write', 'sync-jobs': 'write', 'mal-mappings': 'write', 'mal-cache': 'write', 'user-tokens': 'write', 'rate-limits': 'write' },
    usesTokenKey: true,
    callsMal: true,
    sendsToSyncQueue: true,
    timeoutSeconds: 30,
    memoryMb: 512,
  },
  {
    id: 'sync-worker',
    entry: 'functions/handlers/sync-worker.ts',
    purpose: 'Sync queue consumer: match, read the MAL list, plan, apply with checkpoints, publish progress.',
    tables: { users: 'write', 'series-data': 'write', 'mal-mappings': 'write', 'mal-cache': 'write', 'sync-jobs': 'write', 'sync-history': 'write', 'user-tokens': 'write', 'rate-limits': 'write' },
    usesTokenKey: true,
    callsMal: true,
    // A job paused while MAL blocks us is queued again as a delayed message.
    sendsToSyncQueue: true,
    publishesSyncProgress: true,
    consumesSyncQueue: true,
    timeoutSeconds: 900,
    memoryMb: 1024,
  },
];

export function findFunction(id: string): FunctionDefinition | undefined {
  for (const f of FUNCTIONS) if (f.id === id) return f;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// What a definition allows, as IAM actions on named resources. CDK turns each grant into one IAM
// statement; the local runtime (no IAM there) checks every AWS call of a function against the same list.

/** A resource of the stack a grant names; each world maps it to its own identifier (ARN, table name…). */
export type GrantResource =
  /** The table and, when it has any, its indexes (`<table>/index/*`). */
  | { kind: 'table'; table: TableId }
  | { kind: 'token-key' }
  | { kind: 'mal-secret' }
  | { kind: 'sync-queue' }
  | { kind: 'api-field'; typeName: 'Mutation'; fieldName: string };

export interface Grant {
  resource: GrantResource;
  actions: readonly string[];
}

/** Item reads (TransactGetItems needs GetItem; Transact/Batch calls are authorised per item). */
export const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:ConditionCheckItem'] as const;
export const TABLE_WRITE_ACTIONS = [
  ...TABLE_READ_ACTIONS,
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;
export const TOKEN_KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;
export const MAL_SECRET_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'] as const;
export const SYNC_QUEUE_SEND_ACTIONS = ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'] as const;
/** What Lambda's SQS event source needs, plus ChangeMessageVisibility for the worker's early retry. */
export const SYNC_QUEUE_CONSUME_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueUrl',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
] as const;

/** A stable text form of a resource (for comparing and for error messages). */
export function grantResourceKey(resource: GrantResource): string {
  switch (resource.kind) {
    case 'table':
      return `table/${resource.table}`;
    case 'api-field':
      return `api/types/${resource.typeName}/fields/${resource.fieldName}`;
    default:
      return resource.kind;
  }
}

/** Every grant of a definition, one per resource (logging and tracing, common to all, aside). */
export function grantedActions(definition: FunctionDefinition): Grant[] {
  const grants: Grant[] = [];
  for (const table of Object.keys(definition.tables) as TableId[]) {
    const access = definition.tables[table];
    grants.push({ resource: { kind: 'table', table }, actions: access === 'write' ? TABLE_WRITE_ACTIONS : TABLE_READ_ACTIONS });
  }
  if (definition.usesTokenKey) grants.push({ resource: { kind: 'token-key' }, actions: TOKEN_KEY_ACTIONS });
  if (definition.callsMal) grants.push({ resource: { kind: 'mal-secret' }, actions: MAL_SECRET_ACTIONS });
  const queueActions: string[] = [];
  if (definition.sendsToSyncQueue) queueActions.push(...SYNC_QUEUE_SEND_ACTIONS);
  if (definition.consumesSyncQueue) for (const a of SYNC_QUEUE_CONSUME_ACTIONS) if (queueActions.indexOf(a) < 0) queueActions.push(a);
  if (queueActions.length > 0) grants.push({ resource: { kind: 'sync-queue' }, actions: queueActions });
  if (definition.publishesSyncProgress) {
    grants.push({ resource: { kind: 'api-field', typeName: 'Mutation', fieldName: 'publishSyncProgress' }, actions: ['appsync:GraphQL'] });
  }
  return grants;
}

/** Whether `definition` allows `action` on `resource`. */
export function isGranted(definition: FunctionDefinition, action: string, resource: GrantResource): boolean {
  const key = grantResourceKey(resource);
  for (const grant of grantedActions(definition)) {
    if (grantResourceKey(grant.resource) === key && grant.actions.indexOf(action) >= 0) return true;
  }
  return false;
}
