/**
 * MAL's shapes as this backend uses them (camelCase), with hand-written validators from MAL's wire JSON.
 * The wire quirk `num_watched_episodes` (writes) vs `num_episodes_watched` (reads) stays inside the client:
 * both sides are `numEpisodesWatched` here.
 */

export const MAL_LIST_STATUSES = ['watching', 'completed', 'on_hold', 'dropped', 'plan_to_watch'] as const;
export type MalListStatusName = (typeof MAL_LIST_STATUSES)[number];

/** MAL's `media_type` values and the API's MalMediaType enum value of each; anything else is UNKNOWN. */
export const MAL_MEDIA_TYPE_ENUM: Readonly<Record<string, string>> = {
  tv: 'TV',
  ova: 'OVA',
  movie: 'MOVIE',
  special: 'SPECIAL',
  tv_special: 'TV_SPECIAL',
  ona: 'ONA',
  music: 'MUSIC',
  cm: 'CM',
  pv: 'PV',
};

export function malMediaTypeEnum(mediaType: string | null | undefined): string {
  return (mediaType && MAL_MEDIA_TYPE_ENUM[mediaType.toLowerCase()]) || 'UNKNOWN';
}

export interface MalTokens {
  tokenType: 'Bearer';
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds, from MAL's `expires_in` at the time of issue. */
  expiresAt: number;
}

export interface MalUser {
  id: number;
  name: string;
  joinedAt?: string;
}

export interface MalRelatedAnime {
  id: number;
  title: string;
  relationType: string;
  relationTypeFormatted: string;
}

export interface MalAnime {
  id: number;
  title: string;
  mainPicture?: { medium?: string; large?: string };
  alternativeTitles?: { synonyms: string[]; en: string; ja: string };
  numEpisodes?: number;
  startSeason?: { year: number; season: string };
  startDate?: string;
  endDate?: string;
  mediaType?: string;
  status?: string;
  relatedAnime?: MalRelatedAnime[];
  myListStatus?: MalListStatus;
}

export interface MalListStatus {
  status: MalListStatusName;
  score: number;
  numEpisodesWatched: number;
  isRewatching: boolean;
  updatedAt: string;
  startDate?: string;
  finishDate?: string;
  numTimesRewatched?: number;
}

export interface MalListEntry {
  anime: { id: number; title: string };
  listStatus: MalListStatus;
}

/** A list change; omitted fields stay as they are on MAL. `null` dates clear the date. */
export interface MalListStatusUpdate {
  status?: MalListStatusName;
  isRewatching?: boolean;
  score?: number;
  numEpisodesWatched?: number;
  numTimesRewatched?: number;
  startDate?: string | null;
  finishDate?: string | null;
}

export interface MalPage<T> {
  items: T[];
  /** Full URL of the next page, as MAL gives it. */
  next?: string;
}

/** Thrown by validators; the client wraps it in a MalResponseError naming the call. */
export class MalShapeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalShapeError';
  }
}

type Json = Record<string, unknown>;

function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalShapeError(`${where} is not an object`);
  return value as Json;
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new MalShapeError(`${where} is not an array`);
  return value;
}

function string(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new MalShapeError(`${where} is not a string`);
  return value;
}

function integer(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new MalShapeError(`${where} is not an integer`);
  return value;
}

function boolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new MalShapeError(`${where} is not a boolean`);
  return value;
}

function optional<T>(value: unknown, where: string, read: (v: unknown, w: string) => T): T | undefined {
  return value === undefined || value === null ? undefined : read(value, where);
}

export function parseTokenResponse(value: unknown, now: number = Date.now()): MalTokens {
  const body = object(value, 'token response');
  const tokenType = string(body.token_type, 'token_type');
  if (tokenType.toLowerCase() !== 'bearer') throw new MalShapeError(`token_type is ${JSON.stringify(tokenType)}, not Bearer`);
  const expiresIn = integer(body.expires_in, 'expires_in');
  if (expiresIn <= 0) throw new MalShapeError('expires_in is not positive');
  const accessToken = string(body.access_token, 'access_token');
  const refreshToken = string(body.refresh_token, 'refresh_token');
  if (!accessToken || !refreshToken) throw new MalShapeError('token response has an empty token');
  return { tokenType: 'Bearer', accessToken, refreshToken, expiresAt: now + expiresIn * 1000 };
}

export function parseUser(value: unknown): MalUser {
  const body = object(value, 'user');
  return { id: integer(body.id, 'user.id'), name: string(body.name, 'user.name'), joinedAt: optional(body.joined_at, 'user.joined_at', string) };
}

function parseListStatusName(value: unknown, where: string): MalListStatusName {
  const status = string(value, where);
  if (!(MAL_LIST_STATUSES as readonly string[]).includes(status)) throw new MalShapeError(`${where} is an unknown status ${JSON.stringify(status)}`);
  return status as MalListStatusName;
}

export function parseListStatus(value: unknown, where = 'list_status'): MalListStatus {
  const body = object(value, where);
  const status: MalListStatus = {
    status: parseListStatusName(body.status, `${where}.status`),
    score: integer(body.score, `${where}.score`),
    numEpisodesWatched: integer(body.num_episodes_watched, `${where}.num_episodes_watched`),
    isRewatching: boolean(body.is_rewatching, `${where}.is_rewatching`),
    updatedAt: string(body.updated_at, `${where}.updated_at`),
  };
  const startDate = optional(body.start_date, `${where}.start_date`, string);
  const finishDate = optional(body.finish_date, `${where}.finish_date`, string);
  const numTimesRewatched = optional(body.num_times_rewatched, `${where}.num_times_rewatched`, integer);
  if (startDate) status.startDate = startDate;
  if (finishDate) status.finishDate = finishDate;
  if (numTimesRewatched !== undefined) status.numTimesRewatched = numTimesRewatched;
  return status;
}

export function parseAnime(value: unknown, where = 'anime'): MalAnime {
  const body = object(value, where);
  const anime: MalAnime = { id: integer(body.id, `${where}.id`), title: string(body.title, `${where}.title`) };
  if (body.main_picture !== undefined && body.main_picture !== null) {
    const picture = object(body.main_picture, `${where}.main_picture`);
    anime.mainPicture = {
      medium: optional(picture.medium, `${where}.main_picture.medium`, string),
      large: optional(picture.large, `${where}.main_picture.large`, string),
    };
  }
  if (body.alternative_titles !== undefined && body.alternative_titles !== null) {
    const titles = object(body.alternative_titles, `${where}.alternative_titles`);
    anime.alternativeTitles = {
      synonyms: (optional(titles.synonyms, `${where}.alternative_titles.synonyms`, array) ?? []).map((s, i) =>
        string(s, `${where}.alternative_titles.synonyms[${i}]`),
      ),
      en: optional(titles.en, `${where}.alternative_titles.en`, string) ?? '',
      ja: optional(titles.ja, `${where}.alternative_titles.ja`, string) ?? '',
    };
  }
  const numEpisodes = optional(body.num_episodes, `${where}.num_episodes`, integer);
  if (numEpisodes !== undefined) anime.numEpisodes = numEpisodes;
  if (body.start_season !== undefined && body.start_season !== null) {
    const season = object(body.start_season, `${where}.start_season`);
    anime.startSeason = { year: integer(season.year, `${where}.start_season.year`), season: string(season.season, `${where}.start_season.season`) };
  }
  const startDate = optional(body.start_date, `${where}.start_date`, string);
  const endDate = optional(body.end_date, `${where}.end_date`, string);
  const mediaType = optional(body.media_type, `${where}.media_type`, string);
  const status = optional(body.status, `${where}.status`, string);
  if (startDate !== undefined) anime.startDate = startDate;
  if (endDate !== undefined) anime.endDate = endDate;
  if (mediaType !== undefined) anime.mediaType = mediaType;
  if (status !== undefined) anime.status = status;
  if (body.related_anime !== undefined && body.related_anime !== null) {
    anime.relatedAnime = array(body.related_anime, `${where}.related_anime`).map((item, i) => {
      const related = object(item, `${where}.related_anime[${i}]`);
      const node = object(related.node, `${where}.related_anime[${i}].node`);
      return {
        id: integer(node.id, `${where}.related_anime[${i}].node.id`),
        title: string(node.title, `${where}.related_anime[${i}].node.title`),
        relationType: string(related.relation_type, `${where}.related_anime[${i}].relation_type`),
        relationTypeFormatted: optional(related.relation_type_formatted, `${where}.related_anime[${i}].relation_type_formatted`, string) ?? '',
      };
    });
  }
  if (body.my_list_status !== undefined && body.my_list_status !== null) {
    anime.myListStatus = parseListStatus(body.my_list_status, `${where}.my_list_status`);
  }
  return anime;
}

function parsePaging(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const paging = object(value, 'paging');
  return optional(paging.next, 'paging.next', string);
}

export function parseAnimeSearchPage(value: unknown): MalPage<MalAnime> {
  const body = object(value, 'search response');
  const items = array(body.data, 'data').map((item, i) => parseAnime(object(item, `data[${i}]`).node, `data[${i}].node`));
  return { items, next: parsePaging(body.paging) };
}

export function parseAnimeListPage(value: unknown): MalPage<MalListEntry> {
  const body = object(value, 'animelist response');
  const items = array(body.data, 'data').map((item, i) => {
    const entry = object(item, `data[${i}]`);
    const node = object(entry.node, `data[${i}].node`);
    return {
      anime: { id: integer(node.id, `data[${i}].node.id`), title: string(node.title, `data[${i}].node.title`) },
      listStatus: parseListStatus(entry.list_status, `data[${i}].list_status`),
    };
  });
  return { items, next: parsePaging(body.paging) };
}

/** MAL's error body `{error, message, hint?}`, when the body is one. */
export function readMalErrorBody(value: unknown): { error?: string; message?: string } {
  if (typeof value !== 'object' || value === null) return {};
  const body = value as Json;
  const error = typeof body.error === 'string' ? body.error : undefined;
  const parts = [body.message, body.hint].filter((p): p is string => typeof p === 'string' && p.length > 0);
  return { error, message: parts.length > 0 ? parts.join(' — ') : undefined };
}
