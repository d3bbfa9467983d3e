/**
 * Per-series sync rules: set on a CR series or one of its seasons, they override the account settings
 * for what lands on MAL from it — never sync it, never mark it completed, no dates, only what was watched
 * after a date, count rewatches or not. A season's rule wins over its series' rule, which wins over the
 * settings. Stored on the user's series item (Query.series shows them); the planner, dry runs and
 * reverts read them.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SyncSettings } from '#contract/settings';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';
import { ApiError, NotFoundError, ValidationError } from '../shared/errors';
import { getSeries, seriesSk, type StoredSeries } from './store';

export interface SyncRules {
  neverSync?: boolean | null;
  markCompleted?: boolean | null;
  setDates?: boolean | null;
  trackRewatches?: boolean | null;
  /** Only episodes last watched at or after this instant are synced. */
  watchedAfter?: string | null;
}

const BOOLEAN_RULES = ['neverSync', 'markCompleted', 'setDates', 'trackRewatches'] as const;
export const RULE_FIELDS = [...BOOLEAN_RULES, 'watchedAfter'] as const;

/** Items one setSeriesRules call may carry. */
export const MAX_RULE_ITEMS = 50;

/** Rules as given (GraphQL input or an imported document): checked field by field; null = no rules. */
export function validateRules(raw: unknown, path: string): SyncRules | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError(`${path} must be an object of rules`, { field: path });
  const input = raw as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!(RULE_FIELDS as readonly string[]).includes(key)) throw new ValidationError(`${path}.${key} is not a rule; rules are ${RULE_FIELDS.join(', ')}`, { field: `${path}.${key}` });
  }
  const rules: SyncRules = {};
  for (const key of BOOLEAN_RULES) {
    const value = input[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'boolean') throw new ValidationError(`${path}.${key} must be true, false or null`, { field: `${path}.${key}` });
    rules[key] = value;
  }
  const after = input.watchedAfter;
  if (after !== undefined && after !== null) {
    const time = typeof after === 'string' && after.length <= 40 ? Date.parse(after) : Number.NaN;
    if (!Number.isFinite(time) || time < Date.UTC(2000, 0, 1) || time > Date.now() + 86_400_000 * 366) {
      throw new ValidationError(`${path}.watchedAfter must be an ISO 8601 date-time between 2000 and next year`, { field: `${path}.watchedAfter` });
    }
    rules.watchedAfter = new Date(time).toISOString();
  }
  return Object.keys(rules).length > 0 ? rules : null;
}

/** The rules in force for each season of the user's series (season over series). */
export function rulesBySeason(series: StoredSeries[]): Map<string, SyncRules> {
  const out = new Map<string, SyncRules>();
  for (const item of series) {
    for (const season of item.seasons) {
      const merged = { ...(item.rules ?? {}), ...definedOnly(season.rules ?? {}) };
      if (Object.keys(merged).length > 0) out.set(season.seasonKey, merged);
    }
  }
  return out;
}

function definedOnly(rules: SyncRules): SyncRules {
  return Object.fromEntries(Object.entries(rules).filter(([, v]) => v !== null && v !== undefined)) as SyncRules;
}

/** The account settings with a season's rules over them. */
export function settingsOverrides(rules: SyncRules | undefined): Partial<SyncSettings> | undefined {
  if (!rules) return undefined;
  const out: Partial<SyncSettings> = {};
  if (typeof rules.markCompleted === 'boolean') out.markCompleted = rules.markCompleted;
  if (typeof rules.setDates === 'boolean') out.setDates = rules.setDates;
  if (typeof rules.trackRewatches === 'boolean') out.trackRewatches = rules.trackRewatches;
  return Object.keys(out).length > 0 ? out : undefined;
}

export interface SeriesRulesInput {
  seriesId: string;
  seasonKey?: string | null;
  rules?: unknown;
}

export interface SeriesRulesResult {
  seriesId: string;
  seasonKey: string | null;
  ok: boolean;
  rules: SyncRules | null;
  error: { errorType: string; message: string } | null;
}

/** Sets (or, with `rules: null`, clears) the rules of each item; every item gets its own result. */
export async function setSeriesRules(userId: string, items: SeriesRulesInput[]): Promise<SeriesRulesResult[]> {
  if (!Array.isArray(items) || items.length === 0) throw new ValidationError('items must list at least one series', { field: 'items' });
  if (items.length > MAX_RULE_ITEMS) {
    throw new ApiError('LimitExceeded', `items has ${items.length} entries; one call sets at most ${MAX_RULE_ITEMS}`, { limit: 'rulesPerCall', max: MAX_RULE_ITEMS, actual: items.length, field: 'items' });
  }
  const results: SeriesRulesResult[] = [];
  for (const [index, item] of items.entries()) {
    const seriesId = typeof item?.seriesId === 'string' ? item.seriesId : '';
    const seasonKey = typeof item?.seasonKey === 'string' ? item.seasonKey : null;
    try {
      const rules = validateRules(item?.rules, `items[${index}].rules`);
      await applyRules(userId, seriesId, seasonKey, rules);
      results.push({ seriesId, seasonKey, ok: true, rules, error: null });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      results.push({ seriesId, seasonKey, ok: false, rules: null, error: { errorType: error.errorType, message: error.message } });
    }
  }
  return results;
}

async function applyRules(userId: string, seriesId: string, seasonKey: string | null, rules: SyncRules | null): Promise<void> {
  if (!seriesId || seriesId.length > 128) throw new ValidationError('seriesId must be one of your series', { field: 'seriesId' });
  const series = await getSeries(userId, seriesId);
  if (!series) throw new NotFoundError(`no series ${seriesId} in your history`, { field: 'seriesId' });
  // One attribute per update, conditioned on the key it addresses: a sync writing the series meanwhile
  // cannot make a season rule land on another season.
  if (seasonKey === null) {
    await documents().send(
      new UpdateCommand({
        TableName: tableName('series-data'),
        Key: { userId, sk: seriesSk(seriesId) },
        UpdateExpression: 'SET #rules = :rules',
        ConditionExpression: 'attribute_exists(sk)',
        ExpressionAttributeNames: { '#rules': 'rules' },
        ExpressionAttributeValues: { ':rules': rules },
      }),
    );
    return;
  }
  const index = series.seasons.findIndex((s) => s.seasonKey === seasonKey);
  if (index < 0) throw new NotFoundError(`series ${seriesId} has no season ${seasonKey}`, { field: 'seasonKey' });
  await documents().send(
    new UpdateCommand({
      TableName: tableName('series-data'),
      Key: { userId, sk: seriesSk(seriesId) },
      UpdateExpression: `SET seasons[${index}].#rules = :rules`,
      ConditionExpression: `seasons[${index}].seasonKey = :key`,
      ExpressionAttributeNames: { '#rules': 'rules' },
      ExpressionAttributeValues: { ':rules': rules, ':key': seasonKey },
    }),
  );
}
