/**
 * The DynamoDB tables, defined once. `infra/` turns these into CDK tables; the local runtime creates the
 * same tables in DynamoDB Local. Plain data (no CDK import) so the local runtime starts fast.
 *
 * Each table is keyed by what it is looked up by: a user's data is partitioned by user.
 */
export type AttributeType = 'S' | 'N';

export interface KeyDefinition {
  name: string;
  type: AttributeType;
}

export interface TableDefinition {
  /** Logical id: the name resolvers and functions use; the physical name is `${project}-${stage}-${id}`. */
  id: TableId;
  purpose: string;
  partitionKey: KeyDefinition;
  sortKey?: KeyDefinition;
  globalSecondaryIndexes?: { name: string; partitionKey: KeyDefinition; sortKey?: KeyDefinition }[];
  /** Attribute holding an epoch-seconds expiry, where items expire. */
  timeToLiveAttribute?: string;
  /** Holds secrets (encrypted MAL tokens): readable only by the functions that need it. */
  sensitive?: boolean;
}

export type TableId =
  | 'user-tokens'
  | 'sessions'
  | 'login-states'
  | 'users'
  | 'series-data'
  | 'mal-mappings'
  | 'mal-cache'
  | 'sync-jobs'
  | 'sync-history'
  | 'rate-limits';

export const PROJECT = 'animelog';

export const TABLES: readonly TableDefinition[] = [
  {
    id: 'user-tokens',
    purpose: "A user's MAL access and refresh tokens, encrypted by the application (AES-256-GCM envelope).",
    partitionKey: { name: 'userId', type: 'S' },
    sensitive: true,
  },
  {
    id: 'sessions',
    purpose: 'AnimeLog session tokens, stored as SHA-256 hashes; expire by TTL, revoked by sign-out.',
    partitionKey: { name: 'tokenHash', type: 'S' },
    globalSecondaryIndexes: [{ name: 'byUser', partitionKey: { name: 'userId', type: 'S' } }],
    timeToLiveAttribute: 'expiresAtEpoch',
    sensitive: true,
  },
  {
    id: 'login-states',
    purpose: 'OAuth state and PKCE verifier of a sign-in in progress; single use, 10 minutes.',
    partitionKey: { name: 'state', type: 'S' },
    timeToLiveAttribute: 'expiresAtEpoch',
    sensitive: true,
  },
  {
    id: 'users',
    purpose: "A user's profile (MAL id and name) and settings, plus usage counters for per-user limits.",
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalSecondaryIndexes: [{ name: 'byMalUser', partitionKey: { name: 'malUserId', type: 'N' } }],
    timeToLiveAttribute: 'expiresAtEpoch',
  },
  {
    id: 'series-data',
    purpose: "A user's CR series and seasons as watched, with each season's match.",
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
  },
  {
    id: 'mal-mappings',
    purpose: 'The shared CR season → MAL entry cache: automatic matches (by request fingerprint), votes, agreed and curated mappings.',
    partitionKey: { name: 'seasonKey', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    // Automatic results (and remembered "no match") expire so they are decided again.
    timeToLiveAttribute: 'expiresAtEpoch',
  },
  {
    id: 'mal-cache',
    purpose: "MAL's public answers shared by every user (search results, anime details), expiring; never user data.",
    partitionKey: { name: 'cacheKey', type: 'S' },
    timeToLiveAttribute: 'expiresAtEpoch',
  },
  {
    id: 'sync-jobs',
    purpose: "A user's sync jobs with their checkpoints and uploaded history parts.",
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    timeToLiveAttribute: 'expiresAtEpoch',
  },
  {
    id: 'sync-history',
    purpose: 'Every change a sync applied to MAL, before → after, per job and per series.',
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalSecondaryIndexes: [
      { name: 'bySeries', partitionKey: { name: 'userSeries', type: 'S' }, sortKey: { name: 'appliedAt', type: 'S' } },
    ],
  },
  {
    id: 'rate-limits',
    purpose: 'Token buckets shared by concurrent workers (MAL request rate) and per-user request limits.',
    partitionKey: { name: 'bucket', type: 'S' },
    // The MAL client's DynamoDB token bucket (functions/mal/dynamo-rate-limiter.ts) writes expiresAt.
    timeToLiveAttribute: 'expiresAt',
  },
];

export function physicalTableName(id: TableId, stage: string): string {
  return `${PROJECT}-${stage}-${id}`;
}

export function findTable(id: string): TableDefinition | undefined {
  for (const t of TABLES) if (t.id === id) return t;
  return undefined;
}
