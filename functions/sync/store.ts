/**
 * DynamoDB access of the sync. Item layouts:
 *
 * sync-jobs (pk userId, sk)
 *   JOB#<jobId>                       the job: status, phase, dryRun, format, receivedParts/totalParts,
 *                                     partNumbers (NS), counts, errors (≤ 100), createdAt/startedAt/finishedAt,
 *                                     and the checkpoint: runOwner (fencing token of the run holding it),
 *                                     attempts, cursor (next plan index), appliedChangeIds (SS), planChunks;
 *                                     skipped (history entries left out, by reason) and skippedByPart.
 *                                     jobId is time-ordered, so sk order is creation order.
 *   PART#<jobId>#<part 2>#<chunk 3>   one history part's validated items, gzip'd JSON, in ≤ 300 KB chunks.
 *   PLAN#<jobId>#<chunk 3>            the plan (PlannedChange[]), gzip'd JSON chunks: written once at the end
 *                                     of PLANNING, read by the apply phase (resume) and by SyncJob.plan.
 *   LOCK                              the user's sync lock: {jobId, owner, leaseUntil (epoch ms)}; taken
 *                                     with a condition (absent, expired, or ours), renewed at checkpoints.
 *   All job items expire (expiresAtEpoch) 90 days after creation; parts 7 days.
 *
 * series-data (pk userId, sk)
 *   SERIES#<seriesId>                 {seriesId, title, updatedAt, seasons: Season[]} as Query.series returns
 *                                     it (Season = schema type, episodes included, `match` set by the sync).
 *   MATCH#<seasonKey>                 the user's own choice for a season: {seasonKey, seriesId, malId|null,
 *                                     episodeOffset, title, confirmedAt}. malId null = not on MAL, never sync.
 *
 * mal-mappings (pk seasonKey, sk) — shared by all users
 *   <seasonKey> / CURRENT             the cached mapping (matching/cache.ts CachedMapping).
 *   <seasonKey> / USER#<userId>       a user's confirmation (counts towards agreement; never read for others).
 *   ANIME#<malId> / INFO              MAL facts the planner needs: title, numEpisodes, airingStatus, fetchedAt.
 *
 * sync-history (pk userId, sk; GSI bySeries: userSeries + appliedAt)
 *   JOB#<jobId>#<seq 5>               one applied change: jobId, seq, changeId, appliedAt, seriesId, seasonKey,
 *                                     malId, title, before, after, userSeries = `<userId>#<seriesId>`.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';
import { SETTINGS_SK, withDefaults, type SyncSettings } from '#contract/settings';
import type { CachedMapping, MappingCache } from '../matching/cache';
import type { AnimeInfo } from './planner';
import { ZERO_COUNTS, type JobItem, type PlannedChange, type SyncErrorRecord, type SyncJobStatus, type SyncPhase } from './types';
import { mergeSkipReports, type SkipReport } from '../history/report';
import { CURRENT_MAPPING_SK, JOB_PREFIX, LOCK_SK, MATCH_PREFIX, SERIES_PREFIX, animeInfoKey, historySk, partSk, planSk, jobHistoryPrefix, jobSk, matchSk, partPrefix, planPrefix, seriesSk, userMappingSk } from '#contract/keys';
import type { SyncRules } from './rules';

export class SyncStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SyncStoreError';
  }
}

/** The run no longer holds the job (another run took it over, or the job was cancelled/finished). */
export class LostJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LostJobError';
  }
}

export const JOB_TTL_DAYS = 90;
export const PART_TTL_DAYS = 7;
const CHUNK_BYTES = 300_000;
const MAX_ERRORS = 100;

const db = (): DynamoDBDocumentClient => documents();
const epochIn = (days: number) => Math.floor(Date.now() / 1000) + days * 86_400;

export { jobSk, partPrefix, planPrefix, historySk, seriesSk, matchSk, LOCK_SK };

/** Time-ordered, fixed-length job id: base36 milliseconds + random. */
export function newJobId(now = Date.now()): string {
  return `${now.toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

function isConditionFailure(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

// ---------- compressed chunks ----------

export function toChunks(value: unknown): Buffer[] {
  const packed = gzipSync(Buffer.from(JSON.stringify(value)));
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < packed.length || chunks.length === 0; offset += CHUNK_BYTES) chunks.push(packed.subarray(offset, offset + CHUNK_BYTES));
  return chunks;
}

export function fromChunks<T>(chunks: Uint8Array[]): T {
  return JSON.parse(gunzipSync(Buffer.concat(chunks.map((c) => Buffer.from(c)))).toString('utf8')) as T;
}

async function queryAll(params: { table: string; userId: string; prefix: string; consistent?: boolean }): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: params.table,
        KeyConditionExpression: 'userId = :u AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':u': params.userId, ':p': params.prefix },
        ConsistentRead: params.consistent ?? true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

async function batchWrite(table: string, items: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let requests: Record<string, unknown[]> | undefined = { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
    for (let attempt = 0; requests && Object.keys(requests).length > 0; attempt++) {
      if (attempt > 8) throw new SyncStoreError(`BatchWrite to ${table} left items unprocessed after ${attempt} attempts`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      const out = await db().send(new BatchWriteCommand({ RequestItems: requests as never }));
      requests = out.UnprocessedItems as Record<string, unknown[]> | undefined;
    }
  }
}

async function batchGet(table: string, keys: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = { [table]: { Keys: keys.slice(i, i + 100) } };
    for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
      if (attempt > 8) throw new SyncStoreError(`BatchGet from ${table} left keys unprocessed after ${attempt} attempts`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      const out = await db().send(new BatchGetCommand({ RequestItems: request as never }));
      found.push(...((out.Responses?.[table] ?? []) as Record<string, unknown>[]));
      request = out.UnprocessedKeys as typeof request;
    }
  }
  return found;
}

// ---------- settings ----------

export async function loadSettings(userId: string): Promise<SyncSettings> {
  const out = await db().send(new GetCommand({ TableName: tableName('users'), Key: { userId, sk: SETTINGS_SK }, ConsistentRead: true }));
  return withDefaults(out.Item as Partial<SyncSettings> | undefined);
}

// ---------- jobs ----------

export async function getJob(userId: string, jobId: string): Promise<JobItem | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName('sync-jobs'), Key: { userId, sk: jobSk(jobId) }, ConsistentRead: true }));
  return out.Item as JobItem | undefined;
}

/** The user's newest jobs, newest first (job ids are time-ordered). */
export async function recentJobs(userId: string, limit: number): Promise<JobItem[]> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName('sync-jobs'),
      KeyConditionExpression: 'userId = :u AND begins_with(sk, :job)',
      ExpressionAttributeValues: { ':u': userId, ':job': JOB_PREFIX },
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []) as JobItem[];
}

export function newJobItem(userId: string, jobId: string, fields: { dryRun: boolean; format: string; totalParts: number; now: string }): JobItem {
  return {
    userId,
    sk: jobSk(jobId),
    jobId,
    status: 'RECEIVING',
    phase: 'QUEUED',
    dryRun: fields.dryRun,
    format: fields.format,
    receivedParts: 0,
    totalParts: fields.totalParts,
    createdAt: fields.now,
    startedAt: null,
    finishedAt: null,
    counts: { ...ZERO_COUNTS },
    errors: [],
    attempts: 0,
    cursor: 0,
    expiresAtEpoch: epochIn(JOB_TTL_DAYS),
  };
}

/**
 * Stores one validated part and records its arrival in one transaction: the part's chunks appear only
 * together with the job's count, and a part number is accepted once. A new job item is created with
 * the first part to arrive (whichever number it has).
 */
export async function storePart(params: {
  job: JobItem;
  isNew: boolean;
  part: number;
  items: unknown[];
  historyItems: number;
  /** This part's skipped-entries report. */
  skipped?: SkipReport;
}): Promise<JobItem> {
  const { job, part } = params;
  const chunks = toChunks(params.items);
  if (chunks.length > 20) throw new SyncStoreError(`part ${part} is too large to store (${chunks.length} chunks)`);
  const table = tableName('sync-jobs');
  const puts = chunks.map((data, index) => ({
    Put: {
      TableName: table,
      Item: { userId: job.userId, sk: partSk(job.jobId, part, index), jobId: job.jobId, part, chunk: index, data, expiresAtEpoch: epochIn(PART_TTL_DAYS) },
    },
  }));
  const jobWrite = params.isNew
    ? {
        Put: {
          TableName: table,
          Item: {
            ...job,
            receivedParts: 1,
            partNumbers: new Set([part]),
            counts: { ...job.counts, historyItems: params.historyItems },
            skipped: mergeSkipReports([params.skipped]),
            skippedByPart: { [String(part)]: mergeSkipReports([params.skipped]) },
          },
          ConditionExpression: 'attribute_not_exists(sk)',
        },
      }
    : {
        Update: {
          TableName: table,
          Key: { userId: job.userId, sk: job.sk },
          UpdateExpression: 'ADD receivedParts :one, partNumbers :p, counts.historyItems :n SET skippedByPart.#part = :skipped',
          ConditionExpression: '#status = :receiving AND NOT contains(partNumbers, :part)',
          ExpressionAttributeNames: { '#status': 'status', '#part': String(part) },
          ExpressionAttributeValues: { ':one': 1, ':p': new Set([part]), ':n': params.historyItems, ':receiving': 'RECEIVING', ':part': part, ':skipped': mergeSkipReports([params.skipped]) },
        },
      };
  // A transaction takes at most 100 actions; 20 chunks of 300 KB is the 4 MB part limit's worst case.
  await db().send(new TransactWriteCommand({ TransactItems: [jobWrite, ...puts] as never }));
  const stored = await getJob(job.userId, job.jobId);
  if (!stored) throw new SyncStoreError(`job ${job.jobId} vanished after storing part ${part}`);
  if (!params.isNew) {
    // The job's report covers the parts received so far (markQueued writes the final one).
    stored.skipped = mergedSkipReport(stored);
    await db().send(
      new UpdateCommand({
        TableName: table,
        Key: { userId: job.userId, sk: job.sk },
        UpdateExpression: 'SET skipped = :skipped',
        ConditionExpression: '#status = :receiving',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':skipped': stored.skipped, ':receiving': 'RECEIVING' },
      }),
    ).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
  }
  return stored;
}

/** The skipped-entries report over every part received, in part order. */
export function mergedSkipReport(job: Pick<JobItem, 'skippedByPart' | 'skipped'>): SkipReport {
  const byPart = job.skippedByPart;
  if (!byPart) return mergeSkipReports([job.skipped]);
  return mergeSkipReports(Object.keys(byPart).sort((a, b) => Number(a) - Number(b)).map((k) => byPart[k]));
}

export async function loadParts(userId: string, jobId: string): Promise<unknown[][]> {
  const items = await queryAll({ table: tableName('sync-jobs'), userId, prefix: partPrefix(jobId) });
  const byPart = new Map<number, { chunk: number; data: Uint8Array }[]>();
  for (const item of items) {
    const part = item.part as number;
    if (!byPart.has(part)) byPart.set(part, []);
    byPart.get(part)!.push({ chunk: item.chunk as number, data: item.data as Uint8Array });
  }
  return [...byPart.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, chunks]) => fromChunks<unknown[]>(chunks.sort((a, b) => a.chunk - b.chunk).map((c) => c.data)));
}

/** RECEIVING → QUEUED once all parts are in (one caller wins). */
export async function markQueued(userId: string, jobId: string, counts: { seasons: number; skipped?: SkipReport }): Promise<boolean> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName('sync-jobs'),
        Key: { userId, sk: jobSk(jobId) },
        UpdateExpression: 'SET #status = :queued, phase = :phase, counts.seasons = :seasons, skipped = :skipped',
        ConditionExpression: '#status = :receiving AND receivedParts = totalParts',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':queued': 'QUEUED', ':phase': 'QUEUED', ':receiving': 'RECEIVING', ':seasons': counts.seasons, ':skipped': mergeSkipReports([counts.skipped]) },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Takes a queued (or interrupted running) job for this run: status RUNNING, runOwner = owner. */
export async function claimJob(userId: string, jobId: string, owner: string, now: string): Promise<JobItem | undefined> {
  try {
    const out = await db().send(
      new UpdateCommand({
        TableName: tableName('sync-jobs'),
        Key: { userId, sk: jobSk(jobId) },
        UpdateExpression: 'SET #status = :running, runOwner = :owner, startedAt = if_not_exists(startedAt, :now), attempts = if_not_exists(attempts, :zero) + :one',
        // PAUSED: a job stopped while MAL blocked us, resumed by its delayed message.
        ConditionExpression: '#status IN (:queued, :running, :paused)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':running': 'RUNNING', ':queued': 'QUEUED', ':paused': 'PAUSED', ':owner': owner, ':now': now, ':zero': 0, ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const job = out.Attributes as JobItem;
    // startedAt may be null from creation; if_not_exists keeps a null, so set it now.
    if (!job.startedAt) {
      await updateJob(userId, jobId, owner, { startedAt: now });
      job.startedAt = now;
    }
    return job;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** Sets fields of a job this run holds; LostJobError when it no longer does (taken over or cancelled). */
export async function updateJob(userId: string, jobId: string, owner: string, fields: Record<string, unknown>, options: { requireRunning?: boolean } = {}): Promise<void> {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = { ':owner': owner };
  const sets: string[] = [];
  Object.entries(fields).forEach(([key, value], i) => {
    if (key === 'status') {
      sets.push(`#status = :v${i}`);
    } else {
      const parts = key.split('.');
      const path = parts.map((p, j) => {
        names[`#f${i}_${j}`] = p;
        return `#f${i}_${j}`;
      });
      sets.push(`${path.join('.')} = :v${i}`);
    }
    values[`:v${i}`] = value;
  });
  let condition = 'runOwner = :owner';
  if (options.requireRunning !== false) {
    condition += ' AND #status = :running';
    values[':running'] = 'RUNNING';
  }
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName('sync-jobs'),
        Key: { userId, sk: jobSk(jobId) },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw new LostJobError(`job ${jobId} is no longer held by this run`, { cause: error });
    throw error;
  }
}

export function appendErrors(existing: SyncErrorRecord[], added: SyncErrorRecord[]): SyncErrorRecord[] {
  return [...existing, ...added].slice(0, MAX_ERRORS);
}

/** Status changes from outside a run (cancel, retry), conditional on the current status. */
export async function transitionJob(userId: string, jobId: string, from: SyncJobStatus[], fields: { status: SyncJobStatus; phase?: SyncPhase; finishedAt?: string | null; clearOwner?: boolean }): Promise<JobItem | undefined> {
  const values: Record<string, unknown> = { ':to': fields.status };
  const sets = ['#status = :to'];
  if (fields.phase) {
    sets.push('phase = :phase');
    values[':phase'] = fields.phase;
  }
  if (fields.finishedAt !== undefined) {
    sets.push('finishedAt = :finishedAt');
    values[':finishedAt'] = fields.finishedAt;
  }
  from.forEach((status, i) => (values[`:from${i}`] = status));
  try {
    const out = await db().send(
      new UpdateCommand({
        TableName: tableName('sync-jobs'),
        Key: { userId, sk: jobSk(jobId) },
        UpdateExpression: `SET ${sets.join(', ')}${fields.clearOwner ? ' REMOVE runOwner' : ''}`,
        ConditionExpression: `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes as JobItem;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

// ---------- lock ----------

/** Takes or renews the user's sync lock for `jobId`; false when another live run holds it. */
export async function acquireLock(userId: string, jobId: string, owner: string, leaseMs: number): Promise<boolean> {
  const now = Date.now();
  try {
    await db().send(
      new PutCommand({
        TableName: tableName('sync-jobs'),
        Item: { userId, sk: LOCK_SK, jobId, owner, leaseUntil: now + leaseMs, expiresAtEpoch: Math.floor((now + leaseMs) / 1000) + 86_400 },
        ConditionExpression: 'attribute_not_exists(sk) OR leaseUntil < :now OR #owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':now': now, ':owner': owner },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export async function releaseLock(userId: string, owner: string): Promise<void> {
  try {
    await db().send(
      new DeleteCommand({
        TableName: tableName('sync-jobs'),
        Key: { userId, sk: LOCK_SK },
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

// ---------- plan ----------

export async function savePlan(userId: string, jobId: string, owner: string, changes: PlannedChange[], counts: Record<string, number>): Promise<void> {
  const chunks = toChunks(changes);
  const table = tableName('sync-jobs');
  await batchWrite(
    table,
    chunks.map((data, index) => ({ userId, sk: planSk(jobId, index), jobId, chunk: index, data, expiresAtEpoch: epochIn(JOB_TTL_DAYS) })),
  );
  const fields: Record<string, unknown> = { phase: 'APPLYING', planChunks: chunks.length, cursor: 0 };
  for (const [key, value] of Object.entries(counts)) fields[`counts.${key}`] = value;
  await updateJob(userId, jobId, owner, fields);
}

export async function loadPlan(userId: string, jobId: string): Promise<PlannedChange[]> {
  const items = await queryAll({ table: tableName('sync-jobs'), userId, prefix: planPrefix(jobId) });
  if (items.length === 0) return [];
  return fromChunks<PlannedChange[]>(items.sort((a, b) => (a.chunk as number) - (b.chunk as number)).map((i) => i.data as Uint8Array));
}

// ---------- checkpoint ----------

export interface HistoryEntry {
  jobId: string;
  seq: number;
  changeId: string;
  appliedAt: string;
  seriesId: string;
  seasonKey: string;
  malId: number;
  title: string | null;
  before: unknown;
  after: unknown;
}

/**
 * One applied change: its history entry and the job's checkpoint in one transaction. The entry's key is
 * the change's, so a repeat cannot duplicate it; the job update requires this run to hold the job.
 * `allowCancelled` records a change that landed while the user cancelled (changes applied stay).
 */
export async function checkpointChange(params: {
  userId: string;
  owner: string;
  entry: HistoryEntry;
  nextCursor: number;
  applied: boolean;
  failed?: SyncErrorRecord;
  errors?: SyncErrorRecord[];
  allowCancelled?: boolean;
}): Promise<void> {
  const { userId, entry } = params;
  const values: Record<string, unknown> = { ':owner': params.owner, ':cursor': params.nextCursor, ':one': 1 };
  const names: Record<string, string> = { '#status': 'status' };
  let update = 'SET #cursor = :cursor';
  names['#cursor'] = 'cursor';
  if (params.applied) {
    update += ' ADD counts.applied :one, appliedChangeIds :cid';
    values[':cid'] = new Set([entry.changeId]);
  } else {
    update += ' ADD counts.failed :one';
  }
  if (params.errors) {
    update = update.replace('SET #cursor = :cursor', 'SET #cursor = :cursor, #errors = :errors');
    names['#errors'] = 'errors';
    values[':errors'] = params.errors;
  }
  let condition = 'runOwner = :owner AND #cursor < :cursor';
  if (!params.allowCancelled) {
    condition += ' AND #status = :running';
    values[':running'] = 'RUNNING';
  }
  const jobUpdate = {
    Update: {
      TableName: tableName('sync-jobs'),
      Key: { userId, sk: jobSk(entry.jobId) },
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
  const items: unknown[] = [jobUpdate];
  if (params.applied) {
    items.push({
      Put: {
        TableName: tableName('sync-history'),
        Item: { userId, sk: historySk(entry.jobId, entry.seq), userSeries: `${userId}#${entry.seriesId}`, ...entry },
        ConditionExpression: 'attribute_not_exists(sk)',
      },
    });
  }
  try {
    await db().send(new TransactWriteCommand({ TransactItems: items as never }));
  } catch (error) {
    if (isConditionFailure(error)) throw new LostJobError(`checkpoint of change ${entry.seq} of job ${entry.jobId} refused`, { cause: error });
    throw error;
  }
}

export async function getHistoryEntry(userId: string, jobId: string, seq: number): Promise<HistoryEntry | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName('sync-history'), Key: { userId, sk: historySk(jobId, seq) }, ConsistentRead: true }));
  return out.Item as HistoryEntry | undefined;
}

export async function historyForJob(userId: string, jobId: string): Promise<HistoryEntry[]> {
  return (await queryAll({ table: tableName('sync-history'), userId, prefix: jobHistoryPrefix(jobId) })) as unknown as HistoryEntry[];
}

/** Every change made to one CR series, oldest first (GSI bySeries). */
export async function historyForSeries(userId: string, seriesId: string): Promise<HistoryEntry[]> {
  const items: HistoryEntry[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName('sync-history'),
        IndexName: 'bySeries',
        KeyConditionExpression: 'userSeries = :s',
        ExpressionAttributeValues: { ':s': `${userId}#${seriesId}` },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((out.Items ?? []) as HistoryEntry[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

// ---------- series and matches ----------

export interface StoredSeason {
  seasonKey: string;
  crSeasonId: string;
  title: string;
  seasonNumber: number | null;
  audioLocales: string[];
  isMovie: boolean;
  numberingOffset: number;
  episodes: Array<{ number: number; crEpisodeId: string; durationMs: number | null; airDate?: string | null; progress: number; fullyWatched: boolean; firstWatchedAt: string; lastWatchedAt: string }>;
  match?: StoredSeasonMatch | null;
  /** The user's sync rules for this season (rules.ts). */
  rules?: SyncRules | null;
}

export interface StoredSeasonMatch {
  seasonKey: string;
  malId: number | null;
  title: string | null;
  confidence: number;
  episodeOffset: number;
  source: 'AUTOMATIC' | 'CACHED' | 'USER';
  needsReview: boolean;
  explanation: string | null;
}

export interface StoredSeries {
  userId: string;
  sk: string;
  seriesId: string;
  title: string;
  updatedAt: string;
  seasons: StoredSeason[];
  /** The user's sync rules for the whole series (rules.ts). */
  rules?: SyncRules | null;
}

export async function loadSeries(userId: string): Promise<StoredSeries[]> {
  return (await queryAll({ table: tableName('series-data'), userId, prefix: SERIES_PREFIX })) as unknown as StoredSeries[];
}

export async function getSeries(userId: string, seriesId: string): Promise<StoredSeries | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName('series-data'), Key: { userId, sk: seriesSk(seriesId) }, ConsistentRead: true }));
  return out.Item as StoredSeries | undefined;
}

export async function putSeries(items: StoredSeries[]): Promise<void> {
  await batchWrite(tableName('series-data'), items as unknown as Record<string, unknown>[]);
}

export interface MatchChoice {
  seasonKey: string;
  seriesId: string;
  malId: number | null;
  episodeOffset: number;
  title: string | null;
  confirmedAt: string;
}

export async function loadMatchChoices(userId: string): Promise<Map<string, MatchChoice>> {
  const items = (await queryAll({ table: tableName('series-data'), userId, prefix: MATCH_PREFIX })) as unknown as MatchChoice[];
  return new Map(items.map((i) => [i.seasonKey, i]));
}

export async function saveMatchChoice(userId: string, choice: MatchChoice): Promise<void> {
  await db().send(new PutCommand({ TableName: tableName('series-data'), Item: { userId, sk: matchSk(choice.seasonKey), ...choice } }));
}

// ---------- shared mapping cache and anime facts ----------

/**
 * The matcher's MappingCache in the mal-mappings table, with a batch prefetch so a job's seasons cost a
 * few BatchGets rather than one GetItem each. A user's confirmation or an agreed mapping is never
 * replaced by an automatic one.
 */
export class DynamoDbMappingCache implements MappingCache {
  private readonly known = new Map<string, CachedMapping | null>();

  async prefetch(seasonKeys: string[]): Promise<void> {
    const missing = [...new Set(seasonKeys)].filter((k) => !this.known.has(k));
    if (missing.length === 0) return;
    const found = await batchGet(tableName('mal-mappings'), missing.map((seasonKey) => ({ seasonKey, sk: CURRENT_MAPPING_SK })));
    for (const key of missing) this.known.set(key, null);
    for (const item of found) this.known.set(item.seasonKey as string, stripKeys(item));
  }

  async get(seasonKey: string): Promise<CachedMapping | undefined> {
    if (!this.known.has(seasonKey)) {
      const out = await db().send(new GetCommand({ TableName: tableName('mal-mappings'), Key: { seasonKey, sk: CURRENT_MAPPING_SK } }));
      this.known.set(seasonKey, out.Item ? stripKeys(out.Item) : null);
    }
    return this.known.get(seasonKey) ?? undefined;
  }

  async put(mapping: CachedMapping): Promise<void> {
    const item = { ...mapping, sk: CURRENT_MAPPING_SK };
    try {
      await db().send(
        new PutCommand({
          TableName: tableName('mal-mappings'),
          Item: item,
          ...(mapping.source === 'automatic'
            ? { ConditionExpression: 'attribute_not_exists(seasonKey) OR #source = :automatic', ExpressionAttributeNames: { '#source': 'source' }, ExpressionAttributeValues: { ':automatic': 'automatic' } }
            : {}),
        }),
      );
      this.known.set(mapping.seasonKey, mapping);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** Remembers a user's confirmation (for agreement between users) without touching CURRENT. */
  async putUserVote(userId: string, mapping: CachedMapping): Promise<void> {
    await db().send(new PutCommand({ TableName: tableName('mal-mappings'), Item: { ...mapping, sk: userMappingSk(userId) } }));
  }
}

function stripKeys(item: Record<string, unknown>): CachedMapping {
  const { sk: _sk, ...rest } = item;
  void _sk;
  return rest as unknown as CachedMapping;
}

const animeKey = animeInfoKey;
/** Facts about airing shows go stale; refetch them after a day (finished ones after 30). */
export function animeInfoIsFresh(info: AnimeInfo & { fetchedAt?: string }, now = Date.now()): boolean {
  if (!info.fetchedAt) return false;
  const age = now - Date.parse(info.fetchedAt);
  return age < (info.airingStatus === 'finished_airing' ? 30 : 1) * 86_400_000;
}

export async function loadAnimeInfo(malIds: number[]): Promise<Map<number, AnimeInfo & { fetchedAt?: string }>> {
  const found = await batchGet(tableName('mal-mappings'), [...new Set(malIds)].map(animeKey));
  return new Map(found.map((item) => [item.malId as number, item as unknown as AnimeInfo & { fetchedAt?: string }]));
}

export async function saveAnimeInfo(infos: AnimeInfo[]): Promise<void> {
  const fetchedAt = new Date().toISOString();
  await batchWrite(tableName('mal-mappings'), infos.map((info) => ({ ...animeKey(info.malId), ...info, fetchedAt })));
}
