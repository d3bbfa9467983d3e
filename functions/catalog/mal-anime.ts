/**
 * MAL reads and direct list changes for the API: public anime info (no user token needed: MAL accepts
 * the client id for public reads) and a user's own list status, in the schema's shapes.
 */
import { malAnimeInfoCacheKey } from '#contract/keys';
import { malClient } from '../shared/mal';
import { SharedMalCache } from '../sync/mal-cache';
import { ALL_USERS, consume } from '../limits/user-limits';
import { MalNotFoundError } from '../mal/errors';
import { malSessionForUser } from '../auth/mal-tokens';
import { ValidationError } from '../shared/errors';
import { malMediaTypeEnum, type MalAnime, type MalListStatus, type MalListStatusName } from '../mal/types';

export function toApiAnime(anime: MalAnime) {
  return {
    malId: anime.id,
    title: anime.title,
    englishTitle: anime.alternativeTitles?.en || null,
    japaneseTitle: anime.alternativeTitles?.ja || null,
    synonyms: anime.alternativeTitles?.synonyms ?? [],
    mediaType: malMediaTypeEnum(anime.mediaType),
    numEpisodes: anime.numEpisodes || null,
    startYear: anime.startSeason?.year ?? (anime.startDate ? Number(anime.startDate.slice(0, 4)) : null),
    airingStatus: anime.status ?? null,
    related: (anime.relatedAnime ?? []).map((r) => ({ malId: r.id, title: r.title, relationType: r.relationType })),
  };
}

export function toApiListStatus(malId: number, status: MalListStatus | null) {
  return {
    malId,
    status: status ? status.status.toUpperCase() : null,
    score: status?.score ?? 0,
    numEpisodesWatched: status?.numEpisodesWatched ?? 0,
    isRewatching: status?.isRewatching ?? false,
    numTimesRewatched: status?.numTimesRewatched ?? 0,
    startDate: status?.startDate ?? null,
    finishDate: status?.finishDate ?? null,
  };
}

function positiveId(malId: unknown): number {
  if (typeof malId !== 'number' || !Number.isInteger(malId) || malId <= 0) throw new ValidationError('malId must be a positive integer', { field: 'malId' });
  return malId;
}

type ApiAnime = ReturnType<typeof toApiAnime>;

/** How long a `malAnime` answer is reused: details of finished shows hardly change, airing ones do. */
const FINISHED_INFO_TTL_DAYS = 30;
const AIRING_INFO_TTL_DAYS = 1;
const MISSING_INFO_TTL_DAYS = 1;

let cache: SharedMalCache | undefined;

/**
 * One anime for `malAnime`: from the shared cache (mal-cache table) when present; otherwise from MAL
 * within the caller's and everyone's lookup budgets (MAL's ~1 request/s is shared with every user's
 * sync), then cached. A cache fault only costs a MAL request.
 */
export async function getMalAnime(userId: string, malId: number): Promise<ApiAnime> {
  const id = positiveId(malId);
  cache ??= new SharedMalCache();
  const key = malAnimeInfoCacheKey(id);
  const cached = (await cache.getMany([key]).catch(() => new Map<string, unknown>())).get(key) as ApiAnime | { missing: true } | undefined;
  // The remembered "no such anime" answers as MAL's own 404 would.
  if (cached && 'missing' in cached) throw new MalNotFoundError('no such anime (cached)', { method: 'GET', path: `/v2/anime/${id}`, status: 404 });
  if (cached) return cached;
  await consume(userId, 'malLookupsPerHour');
  await consume(ALL_USERS, 'malLookupsPerMinuteAllUsers');
  const client = await malClient();
  let anime: ApiAnime;
  try {
    anime = toApiAnime(await client.getAnimeDetails(id));
  } catch (error) {
    if (error instanceof MalNotFoundError) await cache.putMany([{ key, value: { missing: true }, ttlDays: MISSING_INFO_TTL_DAYS }]).catch(() => undefined);
    throw error;
  }
  const ttlDays = anime.airingStatus === 'finished_airing' ? FINISHED_INFO_TTL_DAYS : AIRING_INFO_TTL_DAYS;
  await cache.putMany([{ key, value: anime, ttlDays }]).catch(() => undefined);
  return anime;
}

export interface SeriesStatusInput {
  malId: number;
  status?: string | null;
  score?: number | null;
  numEpisodesWatched?: number | null;
  isRewatching?: boolean | null;
}

export async function updateSeriesStatus(userId: string, input: SeriesStatusInput) {
  const malId = positiveId(input.malId);
  if (input.score !== undefined && input.score !== null && (!Number.isInteger(input.score) || input.score < 0 || input.score > 10)) {
    throw new ValidationError('score must be an integer from 0 to 10', { field: 'input.score' });
  }
  if (input.numEpisodesWatched !== undefined && input.numEpisodesWatched !== null && (!Number.isInteger(input.numEpisodesWatched) || input.numEpisodesWatched < 0)) {
    throw new ValidationError('numEpisodesWatched must be a whole number ≥ 0', { field: 'input.numEpisodesWatched' });
  }
  const update = {
    ...(input.status ? { status: input.status.toLowerCase() as MalListStatusName } : {}),
    ...(input.score !== undefined && input.score !== null ? { score: input.score } : {}),
    ...(input.numEpisodesWatched !== undefined && input.numEpisodesWatched !== null ? { numEpisodesWatched: input.numEpisodesWatched } : {}),
    ...(input.isRewatching !== undefined && input.isRewatching !== null ? { isRewatching: input.isRewatching } : {}),
  };
  if (Object.keys(update).length === 0) throw new ValidationError('give at least one field to change', { field: 'input' });
  const session = await malSessionForUser(userId);
  return toApiListStatus(malId, await session.updateListStatus(malId, update));
}
