/**
 * Item keys, one builder per key shape, for every table whose items share a partition (sort-key prefixes
 * tell the item kinds apart). Resolvers and functions both build keys here, so a key is spelled once.
 * Plain TypeScript that passes the APPSYNC_JS lint (resolvers bundle it).
 */

// ---- users (partition: userId) ----
/** The user's profile (MAL id and name, lastSyncAt). */
export const PROFILE_SK = 'PROFILE';
/** The user's sync settings. */
export const SETTINGS_SK = 'SETTINGS';
/** The user's statistics, kept by the sync worker. */
export const STATS_SK = 'STATS';

// ---- sync-jobs (partition: userId) ----
export const JOB_PREFIX = 'JOB#';
export function jobSk(jobId: string): string {
  return `${JOB_PREFIX}${jobId}`;
}
/** The uploaded history parts of a job. */
export function partPrefix(jobId: string): string {
  return `PART#${jobId}#`;
}
/** One compressed chunk of one uploaded part. */
export function partSk(jobId: string, part: number, chunk: number): string {
  return `${partPrefix(jobId)}${`00${part}`.slice(-2)}#${`000${chunk}`.slice(-3)}`;
}
/** The stored plan chunks of a job. */
export function planPrefix(jobId: string): string {
  return `PLAN#${jobId}#`;
}
export function planSk(jobId: string, chunk: number): string {
  return `${planPrefix(jobId)}${`000${chunk}`.slice(-3)}`;
}
/** The per-user sync lock. */
export const LOCK_SK = 'LOCK';

// ---- sync-history (partition: userId) ----
/** All history entries of one job, in order. */
export function jobHistoryPrefix(jobId: string): string {
  return `${JOB_PREFIX}${jobId}#`;
}
/** One history entry: zero-padded sequence so entries sort in the order they were applied. */
export function historySk(jobId: string, seq: number): string {
  return `${jobHistoryPrefix(jobId)}${`00000${seq}`.slice(-5)}`;
}

// ---- series-data (partition: userId) ----
export const SERIES_PREFIX = 'SERIES#';
export function seriesSk(seriesId: string): string {
  return `${SERIES_PREFIX}${seriesId}`;
}
export const MATCH_PREFIX = 'MATCH#';
/** The user's chosen match of one CR season. */
export function matchSk(seasonKey: string): string {
  return `${MATCH_PREFIX}${seasonKey}`;
}

// ---- mal-mappings (partition: seasonKey) ----
/** The mapping in force for everyone (automatic or agreed). */
export const CURRENT_MAPPING_SK = 'CURRENT';
export const USER_MAPPING_PREFIX = 'USER#';
/** One user's own confirmation of a season's mapping. */
export function userMappingSk(userId: string): string {
  return `${USER_MAPPING_PREFIX}${userId}`;
}
/** The matcher's result for one season and request fingerprint (automatic entries are never keyed by season alone). */
export function automaticMappingSk(fingerprint: string): string {
  return `AUTO#${fingerprint}`;
}
export const VOTE_PREFIX = 'VOTE#';
/** One MAL account's confirmation of a season (one vote per MAL account). */
export function voteSk(malUserId: number): string {
  return `${VOTE_PREFIX}${malUserId}`;
}
/** The agreement of the votes with one identity fingerprint. */
export function agreedMappingSk(identity: string): string {
  return `AGREED#${identity}`;
}
/** Shared, non-user MAL facts about one anime, kept beside the mappings. */
export function animeInfoKey(malId: number): { seasonKey: string; sk: string } {
  return { seasonKey: `ANIME#${malId}`, sk: 'INFO' };
}

// ---- rate-limits (partition: bucket) ----
/** One user's counter of one per-user limit in one window. */
export function userLimitBucket(userId: string, limit: string, windowStart: number): string {
  return `user#${userId}#${limit}#${windowStart}`;
}

// ---- mal-cache (partition: cacheKey) ----
/** MAL's answer to one search (query folded to lower case, with the hit limit asked). */
export function malSearchCacheKey(query: string, limit: number): string {
  // v2: hits carry their airing status (older entries lack it and simply expire).
  return `SEARCH#v2#${limit}#${query}`;
}
/** MAL's details of one anime. */
export function malAnimeCacheKey(malId: number): string {
  return `ANIME#${malId}`;
}
/** One anime as `malAnime` answers it (another shape than the matcher's details, so its own key). */
export function malAnimeInfoCacheKey(malId: number): string {
  return `INFO#${malId}`;
}
