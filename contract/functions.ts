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
  timeoutSeconds: number;
  memoryMb: number;
}

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
    tables: { users: 'write', 'series-data': 'write', 'sync-jobs': 'write', 'sync-history': 'write', 'mal-mappings': 'write', sessions: 'write', 'user-tokens': 'write' },
    timeoutSeconds: 60,
    memoryMb: 512,
  },
  {
    id: 'mal',
    entry: 'functions/handlers/mal.ts',
    purpose: "Public MAL anime info and direct changes to the caller's MAL list.",
    tables: { 'user-tokens': 'write', 'rate-limits': 'write' },
    usesTokenKey: true,
    callsMal: true,
    timeoutSeconds: 30,
    memoryMb: 512,
  },
  // --- sync (issue 6) ---
  {
    id: 'history',
    entry: 'functions/handlers/history.ts',
    purpose: 'processHistory: validates and stores CR history parts and the user\'s series, creates and queues the sync job.',
    tables: { users: 'read', 'series-data': 'write', 'sync-jobs': 'write' },
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
    timeoutSeconds: 900,
    memoryMb: 1024,
  },
];

export function findFunction(id: string): FunctionDefinition | undefined {
  for (const f of FUNCTIONS) if (f.id === id) return f;
  return undefined;
}
