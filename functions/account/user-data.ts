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
import { JOB_PREFIX, PROFILE_SK, SETTINGS_SK, userMappingSk } from '#contract/keys';

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

async function userMappingConfirmations(userId: string, seriesItems: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  const seasonKeys = new Set<string>();
  for (const series of seriesItems) {
    for (const season of (series.seasons as { seasonKey?: string }[] | undefined) ?? []) if (season.seasonKey) seasonKeys.add(season.seasonKey);
  }
  const out: Record<string, unknown>[] = [];
  for (const seasonKey of seasonKeys) {
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

const LIMITS = { maxItemsPerTable: 50_000 };

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
 * Restores an export into the caller's account. Items are re-keyed to the caller (an export of another
 * account restores as the caller's data, never into the other account). Profile stays as signed in.
 */
export async function importUserData(userId: string, data: unknown) {
  const doc = validateExport(data);
  const rekey = (item: Record<string, unknown>) => ({ ...item, userId });
  const settings = doc.tables.users.filter((i) => i.sk === SETTINGS_SK).map(rekey);
  await batchWrite('users', settings.map((Item) => ({ PutRequest: { Item } })));
  await batchWrite('series-data', (doc.tables['series-data'] ?? []).map((i) => ({ PutRequest: { Item: rekey(i) } })));
  await batchWrite('sync-jobs', (doc.tables['sync-jobs'] ?? []).map((i) => ({ PutRequest: { Item: rekey(i) } })));
  const history = (doc.tables['sync-history'] ?? []).map((i) => ({ ...rekey(i), userSeries: typeof i.seriesId === 'string' ? `${userId}#${i.seriesId}` : i.userSeries }));
  await batchWrite('sync-history', history.map((Item) => ({ PutRequest: { Item } })));
  const mappings: Record<string, unknown>[] = (doc.tables['mal-mappings'] ?? []).map((i) => ({ ...i, sk: userMappingSk(userId), userId }));
  await batchWrite('mal-mappings', mappings.filter((m) => typeof m.seasonKey === 'string').map((Item) => ({ PutRequest: { Item } })));
  return { series: doc.tables['series-data'].length, matches: mappings.length, historyEntries: history.length, settings: settings.length > 0 };
}

/** Deletes everything of the user: tokens, sessions (revoked), their tables' items, their confirmations. */
export async function deleteUserData(userId: string): Promise<void> {
  await revokeAllSessions(userId);
  await deleteMalTokens(userId);
  const series = await queryAll('series-data', 'userId', userId);
  const confirmations = await userMappingConfirmations(userId, series);
  await batchWrite('mal-mappings', confirmations.map((i) => ({ DeleteRequest: { Key: { seasonKey: i.seasonKey, sk: i.sk } } })));
  for (const table of USER_TABLES) {
    const items = table === 'series-data' ? series : await queryAll(table, 'userId', userId);
    await batchWrite(table, items.map((i) => ({ DeleteRequest: { Key: { userId, sk: i.sk } } })));
  }
}
