/**
 * All of a user's data, for export, import and deletion. Tables partitioned by user id are read and
 * deleted whole; the shared mapping cache holds only the user's own confirmations (sk `USER#<id>`),
 * found through the user's series. Tokens and sessions are never exported.
 */
import { BatchWriteCommand, GetCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';
import { ValidationError } from '../shared/errors';
import { revokeAllSessions } from '../auth/sessions';
import { deleteMalTokens } from '../auth/mal-tokens';
import type { TableId } from '#contract/tables';
import { JOB_PREFIX, MATCH_PREFIX, PROFILE_SK, SERIES_PREFIX, SETTINGS_SK, historySk, jobSk, matchSk, seriesSk, userMappingSk } from '#contract/keys';
import { SETTINGS_FIELDS, SETTINGS_RANGES } from '#contract/settings';
import { consume } from '../limits/user-limits';
import { validateRules } from '../sync/rules';
import { DynamoDbMappingStore } from '../sync/mapping-store';

export const EXPORT_FORMAT = 'animelog-export';
export const EXPORT_VERSION = 1;

/** Tables whose partition key is the user id, and what of them an export carries. */
const USER_TABLES = ['users', 'series-data', 'sync-jobs', 'sync-history'] as const satisfies readonly TableId[];
type UserTable = (typeof USER_TABLES)[number];

/** Items that are bookkeeping, not the user's data: history uploads and locks are not exported. */
function exportable(table: UserTable, item: Record<string, unknown>): boolean {
  const sk = String(item.sk ?? '');
  if (table === 'users') return sk === PROFILE_SK || sk === SETTINGS_SK;
  if (table === 'sync-jobs') return sk.startsWith(JOB_PREFIX) && !sk.includes('#PART#');
  return true;
}

async function queryAll(table: TableId, keyName: string, keyValue: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let cursor: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await documents().send(
      new QueryCommand({
        TableName: tableName(table),
        KeyConditionExpression: '#k = :v',
        ExpressionAttributeNames: { '#k': keyName },
        ExpressionAttributeValues: { ':v': keyValue },
        ExclusiveStartKey: cursor,
        ConsistentRead: true,
      }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    cursor = page.LastEvaluatedKey;
  } while (cursor);
  return items;
}

function seasonKeysOf(seriesItems: Record<string, unknown>[]): Set<string> {
  const seasonKeys = new Set<string>();
  for (const series of seriesItems) {
    for (const season of (series.seasons as { seasonKey?: string }[] | undefined) ?? []) if (season.seasonKey) seasonKeys.add(season.seasonKey);
  }
  return seasonKeys;
}

async function userMappingConfirmations(userId: string, seriesItems: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const seasonKey of seasonKeysOf(seriesItems)) {
    const found = await documents().send(new GetCommand({ TableName: tableName('mal-mappings'), Key: { seasonKey, sk: userMappingSk(userId) } }));
    if (found.Item) out.push(found.Item);
  }
  return out;
}

export interface UserExport {
  format: typeof EXPORT_FORMAT;
  version: number;
  exportedAt: string;
  userId: string;
  tables: Record<UserTable | 'mal-mappings', Record<string, unknown>[]>;
}

export async function exportUserData(userId: string): Promise<UserExport> {
  const tables = {} as UserExport['tables'];
  for (const table of USER_TABLES) {
    tables[table] = (await queryAll(table, 'userId', userId)).filter((item) => exportable(table, item));
  }
  tables['mal-mappings'] = await userMappingConfirmations(userId, tables['series-data']);
  return { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: new Date().toISOString(), userId, tables };
}

async function batchWrite(table: TableId, requests: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    let pending: Record<string, unknown>[] | undefined = requests.slice(i, i + 25);
    for (let attempt = 0; pending && pending.length > 0; attempt += 1) {
      if (attempt > 8) throw new Error(`DynamoDB kept ${pending.length} writes to ${table} unprocessed`);
      const out = await documents().send(new BatchWriteCommand({ RequestItems: { [tableName(table)]: pending as never } }));
      pending = out.UnprocessedItems?.[tableName(table)] as Record<string, unknown>[] | undefined;
      if (pending?.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}

const LIMITS = {
  maxItemsPerTable: 50_000,
  /** As the history input's: ids become parts of DynamoDB keys (sort keys hold at most 1,024 bytes). */
  maxIdChars: 128,
  maxTitleChars: 500,
  maxEpisodeNumber: 9_999,
  /** One DynamoDB item is at most 400 KB; a series item bigger than this cannot be stored. */
  maxItemBytes: 350_000,
};

const ID = /^[\u0021-\u007e]+$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const FINISHED = new Set(['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED']);
const LIST_STATUSES = new Set(['WATCHING', 'COMPLETED', 'ON_HOLD', 'DROPPED', 'PLAN_TO_WATCH', 'watching', 'completed', 'on_hold', 'dropped', 'plan_to_watch']);

type Item = Record<string, unknown>;

function invalid(field: string, message: string, extra: Record<string, unknown> = {}): never {
  throw new ValidationError(`${field}: ${message}`, { field, ...extra });
}

function isObject(value: unknown): value is Item {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Season keys and episode ids join two CR ids (`<series>:<season>`), hence twice the length. */
const KEY_FIELDS = new Set(['seasonKey', 'crEpisodeId']);

function id(item: Item, key: string, path: string): string {
  const value = item[key];
  const max = KEY_FIELDS.has(key) ? 2 * LIMITS.maxIdChars + 8 : LIMITS.maxIdChars;
  if (typeof value !== 'string' || value.length === 0 || value.length > max || !ID.test(value)) {
    invalid(`${path}.${key}`, `must be an id of 1–${max} printable characters`, { max });
  }
  return value;
}

function text(item: Item, key: string, path: string, nullable = true): string | null {
  const value = item[key];
  if ((value === null || value === undefined) && nullable) return null;
  if (typeof value !== 'string' || value.length > LIMITS.maxTitleChars) invalid(`${path}.${key}`, `must be a string of at most ${LIMITS.maxTitleChars} characters`);
  return value;
}

function timestamp(item: Item, key: string, path: string, nullable = false): string | null {
  const value = item[key];
  if ((value === null || value === undefined) && nullable) return null;
  if (typeof value !== 'string' || !ISO.test(value) || Number.isNaN(Date.parse(value))) invalid(`${path}.${key}`, 'must be an ISO 8601 UTC timestamp', { expected: 'ISO timestamp string' });
  return value;
}

function integer(item: Item, key: string, path: string, min: number, max: number, nullable = false): number | null {
  const value = item[key];
  if ((value === null || value === undefined) && nullable) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) invalid(`${path}.${key}`, `must be an integer from ${min} to ${max}`, { min, max });
  return value;
}

function number(item: Item, key: string, path: string, min: number, max: number): number {
  const value = item[key];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) invalid(`${path}.${key}`, `must be a number from ${min} to ${max}`, { min, max });
  return value;
}

function bool(item: Item, key: string, path: string, fallback?: boolean): boolean {
  const value = item[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'boolean') invalid(`${path}.${key}`, 'must be true or false');
  return value;
}

function list(item: Item, key: string, path: string, max: number): unknown[] {
  const value = item[key] ?? [];
  if (!Array.isArray(value)) invalid(`${path}.${key}`, 'must be a list');
  if (value.length > max) invalid(`${path}.${key}`, `has more than ${max} entries`, { max, actual: value.length });
  return value;
}

function object(value: unknown, path: string): Item {
  if (!isObject(value)) invalid(path, 'must be an object');
  return value;
}

/** The settings item, checked as updateSettings checks its input (same ranges, same types). */
function settingsItem(raw: Item, path: string, userId: string): Item {
  const out: Item = { userId, sk: SETTINGS_SK };
  for (const field of SETTINGS_FIELDS) {
    if (raw[field] === undefined || raw[field] === null) continue;
    const range = SETTINGS_RANGES[field];
    out[field] = range ? number(raw, field, path, range[0], range[1]) : bool(raw, field, path);
  }
  out.updatedAt = timestamp(raw, 'updatedAt', path, true) ?? new Date().toISOString();
  return out;
}

function seasonMatch(raw: unknown, path: string): Item | null {
  if (raw === null || raw === undefined) return null;
  const match = object(raw, path);
  const source = match.source;
  if (source !== 'AUTOMATIC' && source !== 'CACHED' && source !== 'USER') invalid(`${path}.source`, 'must be AUTOMATIC, CACHED or USER');
  return {
    ...match,
    seasonKey: id(match, 'seasonKey', path),
    malId: integer(match, 'malId', path, 1, 10_000_000, true),
    title: text(match, 'title', path),
    confidence: number(match, 'confidence', path, 0, 1),
    episodeOffset: integer(match, 'episodeOffset', path, -LIMITS.maxEpisodeNumber, LIMITS.maxEpisodeNumber),
    source,
    needsReview: bool(match, 'needsReview', path),
    explanation: text(match, 'explanation', path),
  };
}

/** A series item (`SERIES#<seriesId>`) or a match choice (`MATCH#<seasonKey>`), keyed to the caller. */
function seriesDataItem(raw: Item, path: string, userId: string): { item: Item; episodes: number } {
  const sk = raw.sk as string;
  if (sk.startsWith(MATCH_PREFIX)) {
    const seasonKey = id(raw, 'seasonKey', path);
    if (sk !== matchSk(seasonKey)) invalid(`${path}.sk`, `must be ${MATCH_PREFIX}<seasonKey>`);
    return {
      item: {
        userId,
        sk,
        seasonKey,
        seriesId: id(raw, 'seriesId', path),
        malId: integer(raw, 'malId', path, 1, 10_000_000, true),
        episodeOffset: integer(raw, 'episodeOffset', path, -LIMITS.maxEpisodeNumber, LIMITS.maxEpisodeNumber),
        title: text(raw, 'title', path),
        confirmedAt: timestamp(raw, 'confirmedAt', path),
        ...(raw.segments === undefined ? {} : { segments: list(raw, 'segments', path, 8) }),
      },
      episodes: 0,
    };
  }
  const seriesId = id(raw, 'seriesId', path);
  if (sk !== seriesSk(seriesId)) invalid(`${path}.sk`, `must be ${SERIES_PREFIX}<seriesId> or ${MATCH_PREFIX}<seasonKey>`);
  let episodes = 0;
  const seasons = list(raw, 'seasons', path, 1_000).map((value, s) => {
    const seasonPath = `${path}.seasons[${s}]`;
    const season = object(value, seasonPath);
    const eps = list(season, 'episodes', seasonPath, LIMITS.maxEpisodeNumber).map((e, n) => {
      const episodePath = `${seasonPath}.episodes[${n}]`;
      const episode = object(e, episodePath);
      return {
        number: integer(episode, 'number', episodePath, 0, LIMITS.maxEpisodeNumber),
        crEpisodeId: id(episode, 'crEpisodeId', episodePath),
        durationMs: integer(episode, 'durationMs', episodePath, 0, 86_400_000, true),
        ...(typeof episode.airDate === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(episode.airDate) ? { airDate: episode.airDate } : {}),
        progress: number(episode, 'progress', episodePath, 0, 1),
        fullyWatched: bool(episode, 'fullyWatched', episodePath),
        firstWatchedAt: timestamp(episode, 'firstWatchedAt', episodePath),
        lastWatchedAt: timestamp(episode, 'lastWatchedAt', episodePath),
      };
    });
    episodes += eps.length;
    return {
      ...season,
      seasonKey: id(season, 'seasonKey', seasonPath),
      crSeasonId: id(season, 'crSeasonId', seasonPath),
      title: text(season, 'title', seasonPath),
      seasonNumber: integer(season, 'seasonNumber', seasonPath, 0, 999, true),
      audioLocales: list(season, 'audioLocales', seasonPath, 50).map((l, i) => (typeof l === 'string' && l.length <= 35 ? l : invalid(`${seasonPath}.audioLocales[${i}]`, 'must be a locale string'))),
      isMovie: bool(season, 'isMovie', seasonPath, false),
      numberingOffset: integer(season, 'numberingOffset', seasonPath, -LIMITS.maxEpisodeNumber, LIMITS.maxEpisodeNumber),
      episodes: eps,
      match: seasonMatch(season.match, `${seasonPath}.match`),
      rules: validateRules(season.rules, `${seasonPath}.rules`),
    };
  });
  const item = { ...raw, userId, sk, seriesId, title: text(raw, 'title', path), updatedAt: timestamp(raw, 'updatedAt', path), seasons, rules: validateRules(raw.rules, `${path}.rules`) };
  const bytes = Buffer.byteLength(JSON.stringify(item));
  if (bytes > LIMITS.maxItemBytes) invalid(path, `is ${bytes} bytes, more than one series item can hold`, { limit: 'itemBytes', max: LIMITS.maxItemBytes, actual: bytes });
  return { item, episodes };
}

/** A finished job's record; jobs that had not finished are not restored (their parts and lock are not exported). */
function jobItem(raw: Item, path: string, userId: string): Item | null {
  const jobId = id(raw, 'jobId', path);
  if (raw.sk !== jobSk(jobId)) invalid(`${path}.sk`, `must be ${JOB_PREFIX}<jobId>`);
  if (typeof raw.status !== 'string' || !FINISHED.has(raw.status)) return null;
  const { runOwner: _owner, leaseUntil: _lease, ...kept } = raw;
  return { ...kept, userId, sk: raw.sk, jobId, createdAt: timestamp(raw, 'createdAt', path), finishedAt: timestamp(raw, 'finishedAt', path, true) };
}

function listState(raw: unknown, path: string): Item | null {
  if (raw === null || raw === undefined) return null;
  const state = object(raw, path);
  if (state.status !== undefined && state.status !== null && (typeof state.status !== 'string' || !LIST_STATUSES.has(state.status))) invalid(`${path}.status`, 'must be a MAL list status');
  if (state.numEpisodesWatched !== undefined) integer(state, 'numEpisodesWatched', path, 0, LIMITS.maxEpisodeNumber, true);
  return state;
}

/** One applied change; its series index key is always built from the caller's id, never taken from the document. */
function historyItem(raw: Item, path: string, userId: string): Item {
  const jobId = id(raw, 'jobId', path);
  const seq = integer(raw, 'seq', path, 1, 99_999)!;
  if (raw.sk !== historySk(jobId, seq)) invalid(`${path}.sk`, `must be ${JOB_PREFIX}<jobId>#<seq>`);
  const seriesId = id(raw, 'seriesId', path);
  return {
    userId,
    sk: raw.sk,
    jobId,
    seq,
    changeId: text(raw, 'changeId', path),
    appliedAt: timestamp(raw, 'appliedAt', path),
    seriesId,
    seasonKey: id(raw, 'seasonKey', path),
    malId: integer(raw, 'malId', path, 1, 10_000_000),
    title: text(raw, 'title', path),
    before: listState(raw.before, `${path}.before`),
    after: listState(raw.after, `${path}.after`),
    userSeries: `${userId}#${seriesId}`,
  };
}

/** Validates an export document; every problem names where it is. */
function validateExport(data: unknown): UserExport {
  const doc = data as Partial<UserExport> | null;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ValidationError('data must be an object produced by exportData', { field: 'data' });
  if (doc.format !== EXPORT_FORMAT) throw new ValidationError(`data.format must be "${EXPORT_FORMAT}"`, { field: 'data.format' });
  if (doc.version !== EXPORT_VERSION) throw new ValidationError(`data.version ${String(doc.version)} is not supported (expected ${EXPORT_VERSION})`, { field: 'data.version' });
  if (!doc.tables || typeof doc.tables !== 'object') throw new ValidationError('data.tables is missing', { field: 'data.tables' });
  for (const table of [...USER_TABLES, 'mal-mappings'] as const) {
    const items = (doc.tables as Record<string, unknown>)[table] ?? [];
    if (!Array.isArray(items)) throw new ValidationError(`data.tables.${table} must be a list`, { field: `data.tables.${table}` });
    if (items.length > LIMITS.maxItemsPerTable) throw new ValidationError(`data.tables.${table} has more than ${LIMITS.maxItemsPerTable} items`, { field: `data.tables.${table}` });
    items.forEach((item, index) => {
      if (!item || typeof item !== 'object' || Array.isArray(item) || typeof (item as { sk?: unknown }).sk !== 'string') {
        throw new ValidationError(`data.tables.${table}[${index}] must be an object with a string sk`, { field: `data.tables.${table}[${index}]` });
      }
    });
  }
  return doc as UserExport;
}

/**
 * Restores an export into the caller's account. Every item is checked as the live mutations check
 * their input and rebuilt with the caller's keys (index keys included), so an export — edited or of
 * another account — restores as the caller's data only, never into another account, and nothing is
 * written unless the whole document is valid. The episodes restored count towards historyItemsPerDay,
 * as the same history sent to processHistory would. Profile stays as signed in.
 */
export async function importUserData(userId: string, data: unknown) {
  const doc = validateExport(data);
  const tables = doc.tables as Record<string, Item[] | undefined>;
  const at = (table: string, index: number) => `data.tables.${table}[${index}]`;
  const settings = (tables.users ?? []).flatMap((raw, i) => (raw.sk === SETTINGS_SK ? [settingsItem(raw, at('users', i), userId)] : []));
  let episodes = 0;
  const seriesData = (tables['series-data'] ?? []).map((raw, i) => {
    const out = seriesDataItem(raw, at('series-data', i), userId);
    episodes += out.episodes;
    return out.item;
  });
  const jobs = (tables['sync-jobs'] ?? []).flatMap((raw, i) => jobItem(raw, at('sync-jobs', i), userId) ?? []);
  const history = (tables['sync-history'] ?? []).map((raw, i) => historyItem(raw, at('sync-history', i), userId));
  const mappings = (tables['mal-mappings'] ?? []).map((raw, i) => {
    const path = at('mal-mappings', i);
    const seasonKey = id(raw, 'seasonKey', path);
    if (seasonKey.startsWith('ANIME#')) invalid(`${path}.seasonKey`, 'is not a season key');
    return { ...raw, seasonKey, sk: userMappingSk(userId), userId, malId: integer(raw, 'malId', path, 1, 10_000_000, true) };
  });
  if (episodes > 0) await consume(userId, 'historyItemsPerDay', episodes);

  await batchWrite('users', settings.map((Item) => ({ PutRequest: { Item } })));
  await batchWrite('series-data', seriesData.map((Item) => ({ PutRequest: { Item } })));
  await batchWrite('sync-jobs', jobs.map((Item) => ({ PutRequest: { Item } })));
  await batchWrite('sync-history', history.map((Item) => ({ PutRequest: { Item } })));
  await batchWrite('mal-mappings', mappings.map((Item) => ({ PutRequest: { Item } })));
  // Match choices restored, by season: the series-data MATCH# items (what syncs read) and the user's own
  // mal-mappings confirmations of older exports name the same choices.
  const matchedSeasons = new Set([...seriesData.filter((i) => String(i.sk).startsWith(MATCH_PREFIX)).map((i) => i.seasonKey), ...mappings.map((m) => m.seasonKey)]);
  return { series: seriesData.length, matches: matchedSeasons.size, historyEntries: history.length, settings: settings.length > 0 };
}

/**
 * Deletes everything of the user: tokens, sessions (revoked), their tables' items, their confirmations and
 * their MAL account's votes (withdrawn, so the agreements they were part of are recomputed).
 */
export async function deleteUserData(userId: string): Promise<void> {
  await revokeAllSessions(userId);
  await deleteMalTokens(userId);
  const profile = await documents().send(new GetCommand({ TableName: tableName('users'), Key: { userId, sk: PROFILE_SK } }));
  const malUserId = profile.Item?.malUserId;
  const series = await queryAll('series-data', 'userId', userId);
  const confirmations = await userMappingConfirmations(userId, series);
  await batchWrite('mal-mappings', confirmations.map((i) => ({ DeleteRequest: { Key: { seasonKey: i.seasonKey, sk: i.sk } } })));
  if (typeof malUserId === 'number') await new DynamoDbMappingStore().deleteVotes(malUserId, [...seasonKeysOf(series)]);
  for (const table of USER_TABLES) {
    const items = table === 'series-data' ? series : await queryAll(table, 'userId', userId);
    await batchWrite(table, items.map((i) => ({ DeleteRequest: { Key: { userId, sk: i.sk } } })));
  }
}
