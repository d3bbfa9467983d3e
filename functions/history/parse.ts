/**
 * Reading a watch history into WatchEvents, leniently. The document itself must be a history (an object
 * with a `data` and/or `items` list) or a HistoryFormatError names what is wrong; each entry is read on its
 * own, and an entry that cannot be used is skipped with the JSON path of the field at fault and a reason,
 * so one odd entry never costs the good ones. Accepted per entry: CR v2 (`fully_watched`), CR v1
 * (`fullywatched` or the later `fully_watched`), both in one list, and AnimeLog's compact form.
 *
 * What is kept is bounded: ids are printable ASCII of at most MAX_ID_CHARS (they become parts of DynamoDB
 * keys, whose sort keys hold at most 1,024 bytes), titles at most MAX_TITLE_CHARS with control characters
 * removed, numbers and dates within ranges a real history has.
 */
import { createHash } from 'node:crypto';
import { normaliseTitle, stripVersionTags } from '../matching/text';
import type { HistoryFormat, SkipReason, SkippedEntry, WatchEvent } from './types';

export class HistoryFormatError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: expected ${expected}`, options);
    this.name = 'HistoryFormatError';
  }
}

/** One entry's fault; caught per entry and turned into a SkippedEntry. */
class EntryFault extends Error {
  constructor(
    readonly path: string,
    readonly reason: SkipReason,
  ) {
    super(`${path}: ${reason}`);
  }
}

export const HISTORY_BOUNDS = {
  /** CR ids are ~9 characters; keys like `MATCH#<series>:<season>` must stay far below 1,024 bytes. */
  maxIdChars: 128,
  maxTitleChars: 500,
  maxLocaleChars: 35,
  maxEpisodeNumber: 9_999,
  maxSeasonNumber: 999,
  /** 24 h, in ms and in s: no episode is longer. */
  maxDurationMs: 86_400_000,
  maxPlayheadS: 86_400,
  /** Earliest date accepted: before Crunchyroll existed. */
  minDate: Date.UTC(2000, 0, 1),
  /** Latest date accepted, relative to now: clock skew, not the future. */
  maxFutureMs: 2 * 86_400_000,
} as const;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/gu;
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
const ID_CHARS = /^[\u0021-\u007e]+$/;

/** An id: printable ASCII without spaces, bounded. Empty counts as absent. */
function id(record: Json, key: string, path: string, required: boolean): string | null {
  const value = record[key];
  if (!present(value) || value === '') {
    if (required) throw new EntryFault(`${path}.${key}`, 'MISSING_FIELD');
    return null;
  }
  if (typeof value !== 'string') throw new EntryFault(`${path}.${key}`, 'INVALID_FIELD');
  if (value.length > HISTORY_BOUNDS.maxIdChars) throw new EntryFault(`${path}.${key}`, 'ID_TOO_LONG');
  if (!ID_CHARS.test(value)) throw new EntryFault(`${path}.${key}`, 'INVALID_ID');
  return value;
}

/** A title: control characters removed, whitespace collapsed, bounded. Empty counts as absent. */
function title(record: Json, key: string, path: string, required: boolean): string | null {
  const value = record[key];
  if (present(value) && typeof value !== 'string') throw new EntryFault(`${path}.${key}`, 'INVALID_FIELD');
  const cleaned = typeof value === 'string' ? value.replace(CONTROL, ' ').replace(/\s+/gu, ' ').trim() : '';
  if (cleaned === '') {
    if (required) throw new EntryFault(`${path}.${key}`, 'MISSING_FIELD');
    return null;
  }
  if (cleaned.length > HISTORY_BOUNDS.maxTitleChars) throw new EntryFault(`${path}.${key}`, 'TITLE_TOO_LONG');
  return cleaned;
}

function text(record: Json, key: string, path: string, max: number): string | null {
  const value = record[key];
  if (!present(value) || value === '') return null;
  if (typeof value !== 'string' || value.length > max || HAS_CONTROL.test(value)) throw new EntryFault(`${path}.${key}`, 'INVALID_FIELD');
  return value;
}

function number(record: Json, key: string, path: string, min: number, max: number): number | null {
  const value = record[key];
  if (!present(value)) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new EntryFault(`${path}.${key}`, 'INVALID_FIELD');
  if (value < min || value > max) throw new EntryFault(`${path}.${key}`, 'OUT_OF_RANGE');
  return value;
}

function boolean(record: Json, key: string, path: string): boolean | null {
  const value = record[key];
  if (!present(value)) return null;
  if (typeof value !== 'boolean') throw new EntryFault(`${path}.${key}`, 'INVALID_FIELD');
  return value;
}

/** An ISO timestamp string or epoch milliseconds, within the accepted range. */
function timestamp(record: Json, key: string, path: string, now: number): string {
  const value = record[key];
  if (!present(value) || value === '') throw new EntryFault(`${path}.${key}`, 'MISSING_FIELD');
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && value.length <= 64) ms = Date.parse(value);
  else throw new EntryFault(`${path}.${key}`, 'INVALID_FIELD');
  if (Number.isNaN(ms)) throw new EntryFault(`${path}.${key}`, 'INVALID_FIELD');
  if (!Number.isFinite(ms) || ms < HISTORY_BOUNDS.minDate || ms > now + HISTORY_BOUNDS.maxFutureMs) throw new EntryFault(`${path}.${key}`, 'OUT_OF_RANGE');
  return new Date(ms).toISOString();
}

/** "7", "Episode 7", "E7" → 7; anything else ("SP", "OVA", "7.5") → null. */
function numberFromLabel(label: string | null): number | null {
  if (!label) return null;
  const m = label.match(/^\s*(?:(?:episode|ep|e)\.?\s*)?(\d{1,5})\s*$/iu);
  return m ? Number(m[1]) : null;
}

/** CR's `identifier`: "GDKHZEJ0K|S2|E17" (an episode), "GDKHZEJ0K|M" or "…|M1" (a movie of a series). */
function parseIdentifier(value: string | null): { seriesId: string; season: string | null; movie: boolean } | null {
  if (!value) return null;
  const parts = value.split('|');
  if (parts.length < 2 || !parts[0]) return null;
  if (/^M\d*$/u.test(parts[1])) return { seriesId: parts[0], season: null, movie: true };
  if (/^S[0-9A-Za-z.]{1,8}$/u.test(parts[1])) return { seriesId: parts[0], season: parts[1], movie: false };
  return null;
}

/**
 * A stable season id for entries that carry none: the identifier's season part (else the season number)
 * and a hash of the season title without audio-version tags, so a dub tagged "(English Dub)" of the same
 * season lands on the same id, and distinct seasons sharing a number do not.
 */
function derivedSeasonId(seriesId: string, designator: string | null, seasonNumber: number | null, seasonTitle: string): string {
  const hash = createHash('sha256').update(normaliseTitle(stripVersionTags(seasonTitle)) || seasonTitle).digest('hex').slice(0, 12);
  // Movies are keyed by their own id (`movie:<id>`), so theirs carries the series.
  if (designator === 'M') return `${seriesId}~M~${hash}`;
  return `${designator ?? (seasonNumber === null ? 'N-' : `N${seasonNumber}`)}~${hash}`;
}

/**
 * The episode's number within CR's numbering, or why it has none. A special (fractional number, "SP"/"OVA"
 * label, or a fractional sequence number such as 6.5 between episodes 6 and 7) is not progress: counting it
 * would plan "6.5 episodes watched", which MAL refuses.
 */
function episodeNumberOf(meta: Json, metaPath: string): number {
  const max = HISTORY_BOUNDS.maxEpisodeNumber;
  const episodeNumber = number(meta, 'episode_number', metaPath, 0, max);
  const sequenceNumber = number(meta, 'sequence_number', metaPath, 0, max);
  if (episodeNumber !== null) {
    if (!Number.isInteger(episodeNumber)) throw new EntryFault(`${metaPath}.episode_number`, 'SPECIAL_EPISODE');
    return episodeNumber;
  }
  const label = text(meta, 'episode', metaPath, 64);
  const fromLabel = numberFromLabel(label);
  if (fromLabel !== null) {
    if (fromLabel > max) throw new EntryFault(`${metaPath}.episode`, 'OUT_OF_RANGE');
    return fromLabel;
  }
  if (label !== null && label.trim() !== '') throw new EntryFault(`${metaPath}.episode`, 'SPECIAL_EPISODE');
  if (sequenceNumber !== null) {
    if (!Number.isInteger(sequenceNumber)) throw new EntryFault(`${metaPath}.sequence_number`, 'SPECIAL_EPISODE');
    return sequenceNumber;
  }
  throw new EntryFault(`${metaPath}.episode_number`, 'NO_EPISODE_NUMBER');
}

interface EntryFlags {
  watchedAt: string;
  playheadS: number | null;
  fullyWatched: boolean;
}

function flagsOf(entry: Json, path: string, now: number): EntryFlags {
  const watchedAt = timestamp(entry, 'date_played', path, now);
  const playheadS = number(entry, 'playhead', path, 0, HISTORY_BOUNDS.maxPlayheadS);
  // v2 and later v1 documents spell it fully_watched, early v1 fullywatched.
  const fullyWatched = boolean(entry, 'fully_watched', path) ?? boolean(entry, 'fullywatched', path) ?? false;
  return { watchedAt, playheadS, fullyWatched };
}

/**
 * CR's air date as a day. Only a hint for matching (year, which cour), so an absent or odd value is
 * ignored rather than refusing the entry.
 */
function airDateOf(record: Json, key: string): string | null {
  const raw = record[key];
  if (typeof raw !== 'string' || raw.length > 40) return null;
  const time = Date.parse(raw);
  if (!Number.isFinite(time) || time < Date.UTC(1950, 0, 1) || time > Date.now() + 400 * 86_400_000) return null;
  return new Date(time).toISOString().slice(0, 10);
}

function durationOf(record: Json, path: string): number | null {
  const value = number(record, 'duration_ms', path, 0, HISTORY_BOUNDS.maxDurationMs);
  return value === 0 ? null : value;
}

function movieEvent(entry: Json, panel: Json, path: string, flags: EntryFlags): WatchEvent {
  const panelPath = `${path}.panel`;
  const metaPath = `${panelPath}.movie_metadata`;
  const meta = isObject(panel.movie_metadata) ? panel.movie_metadata : {};
  const identifier = parseIdentifier(text(meta, 'identifier', metaPath, 256));
  const listingId =
    id(meta, 'movie_listing_id', metaPath, false) ?? id(entry, 'parent_id', path, false) ?? identifier?.seriesId ?? id(panel, 'id', panelPath, true)!;
  const listingTitle = title(meta, 'movie_listing_title', metaPath, false) ?? title(panel, 'title', panelPath, true)!;
  return {
    path,
    episodeId: id(panel, 'id', panelPath, false) ?? id(entry, 'id', path, false),
    seriesId: listingId,
    seriesTitle: listingTitle,
    seasonId: listingId,
    seasonTitle: listingTitle,
    seasonNumber: null,
    seasonSequenceNumber: null,
    episodeNumber: 1,
    sequenceNumber: 1,
    durationMs: durationOf(meta, metaPath),
    airDate: airDateOf(meta, 'episode_air_date'),
    ...flags,
    audioLocale: text(meta, 'audio_locale', metaPath, HISTORY_BOUNDS.maxLocaleChars),
    isDubbed: boolean(meta, 'is_dubbed', metaPath),
    versions: [],
    isMovie: true,
    identifierSeason: null,
    derivedSeasonId: false,
  };
}

function versionsOf(meta: Json, metaPath: string): WatchEvent['versions'] {
  const value = meta.versions;
  if (!present(value)) return [];
  if (!Array.isArray(value)) throw new EntryFault(`${metaPath}.versions`, 'INVALID_FIELD');
  const versions: WatchEvent['versions'] = [];
  value.forEach((raw, index) => {
    // A broken version link costs only the link, not the entry.
    if (!isObject(raw)) return;
    const versionPath = `${metaPath}.versions[${index}]`;
    try {
      const seasonId = id(raw, 'season_guid', versionPath, true)!;
      versions.push({
        audioLocale: text(raw, 'audio_locale', versionPath, HISTORY_BOUNDS.maxLocaleChars),
        seasonId,
        episodeId: id(raw, 'guid', versionPath, false),
        original: boolean(raw, 'original', versionPath) ?? false,
      });
    } catch (error) {
      if (!(error instanceof EntryFault)) throw error;
    }
  });
  return versions;
}

function episodeEvent(entry: Json, panel: Json, path: string, flags: EntryFlags): WatchEvent {
  const panelPath = `${path}.panel`;
  const metaPath = `${panelPath}.episode_metadata`;
  if (!present(panel.episode_metadata)) throw new EntryFault(metaPath, 'MISSING_FIELD');
  if (!isObject(panel.episode_metadata)) throw new EntryFault(metaPath, 'INVALID_FIELD');
  const meta = panel.episode_metadata;
  const identifier = parseIdentifier(text(meta, 'identifier', metaPath, 256));
  const parentIsSeries = !present(entry.parent_type) || entry.parent_type === 'series';
  let seriesId = id(meta, 'series_id', metaPath, false) ?? identifier?.seriesId ?? (parentIsSeries ? id(entry, 'parent_id', path, false) : null);
  if (seriesId === null) throw new EntryFault(`${metaPath}.series_id`, 'MISSING_FIELD');
  if (seriesId.length > HISTORY_BOUNDS.maxIdChars || !ID_CHARS.test(seriesId)) throw new EntryFault(`${metaPath}.identifier`, 'INVALID_ID');
  const seriesTitle = title(meta, 'series_title', metaPath, true)!;
  const seasonTitle = title(meta, 'season_title', metaPath, false) ?? seriesTitle;
  const seasonNumber = number(meta, 'season_number', metaPath, 0, HISTORY_BOUNDS.maxSeasonNumber);
  const seasonSequenceNumber = number(meta, 'season_sequence_number', metaPath, 0, HISTORY_BOUNDS.maxSeasonNumber * 10);
  const isMovie = identifier?.movie === true;
  const episodeNumber = isMovie ? 1 : episodeNumberOf(meta, metaPath);
  const givenSeasonId = id(meta, 'season_id', metaPath, false);
  const designator = isMovie ? 'M' : (identifier?.season ?? null);
  seriesId = seriesId as string;
  return {
    path,
    episodeId: id(panel, 'id', panelPath, false) ?? id(entry, 'id', path, false),
    seriesId,
    seriesTitle,
    seasonId: givenSeasonId ?? derivedSeasonId(seriesId, designator, seasonNumber, seasonTitle),
    seasonTitle,
    seasonNumber: seasonNumber !== null && Number.isInteger(seasonNumber) ? seasonNumber : null,
    seasonSequenceNumber,
    episodeNumber,
    sequenceNumber: typeof meta.sequence_number === 'number' ? (meta.sequence_number as number) : null,
    durationMs: durationOf(meta, metaPath),
    airDate: airDateOf(meta, 'episode_air_date'),
    ...flags,
    audioLocale: text(meta, 'audio_locale', metaPath, HISTORY_BOUNDS.maxLocaleChars),
    isDubbed: boolean(meta, 'is_dubbed', metaPath),
    versions: versionsOf(meta, metaPath),
    isMovie,
    identifierSeason: identifier?.season ?? null,
    derivedSeasonId: givenSeasonId === null,
  };
}

function compactEvent(item: Json, path: string, now: number): WatchEvent {
  const seriesId = id(item, 'seriesId', path, true)!;
  const seriesTitle = title(item, 'seriesTitle', path, true)!;
  const seasonTitle = title(item, 'seasonTitle', path, false) ?? seriesTitle;
  const seasonNumber = number(item, 'seasonNumber', path, 0, HISTORY_BOUNDS.maxSeasonNumber);
  const isMovie = boolean(item, 'isMovie', path) ?? false;
  const max = HISTORY_BOUNDS.maxEpisodeNumber;
  const episodeNumber = number(item, 'episodeNumber', path, 0, max);
  const sequenceNumber = number(item, 'sequenceNumber', path, 0, max);
  const crNumber = episodeNumber ?? sequenceNumber;
  if (crNumber === null && !isMovie) throw new EntryFault(`${path}.episodeNumber`, 'NO_EPISODE_NUMBER');
  if (crNumber !== null && !Number.isInteger(crNumber)) throw new EntryFault(`${path}.${episodeNumber !== null ? 'episodeNumber' : 'sequenceNumber'}`, 'SPECIAL_EPISODE');
  const givenSeasonId = id(item, 'seasonId', path, false);
  return {
    path,
    episodeId: id(item, 'episodeId', path, false),
    seriesId,
    seriesTitle,
    seasonId: givenSeasonId ?? derivedSeasonId(seriesId, isMovie ? 'M' : null, seasonNumber, seasonTitle),
    seasonTitle,
    seasonNumber: seasonNumber !== null && Number.isInteger(seasonNumber) ? seasonNumber : null,
    seasonSequenceNumber: null,
    episodeNumber: crNumber ?? 1,
    sequenceNumber,
    durationMs: number(item, 'durationMs', path, 0, HISTORY_BOUNDS.maxDurationMs) || null,
    airDate: airDateOf(item, 'airDate'),
    playheadS: number(item, 'playheadS', path, 0, HISTORY_BOUNDS.maxPlayheadS),
    fullyWatched: boolean(item, 'fullyWatched', path) ?? false,
    watchedAt: timestamp(item, 'watchedAt', path, now),
    audioLocale: text(item, 'audioLocale', path, HISTORY_BOUNDS.maxLocaleChars),
    isDubbed: null,
    versions: [],
    isMovie,
    identifierSeason: null,
    derivedSeasonId: givenSeasonId === null,
  };
}

export interface ParsedHistory {
  format: HistoryFormat;
  events: WatchEvent[];
  skipped: SkippedEntry[];
  warnings: string[];
  /** Every entry of the document's lists, in order (`data` first when both are present). */
  entries: unknown[];
}

type EntryShape = 'cr-v2' | 'cr-v1' | 'compact';

const CR_KEYS = ['panel', 'date_played', 'fully_watched', 'fullywatched', 'parent_id', 'playhead'];
const COMPACT_KEYS = ['seriesId', 'seasonId', 'watchedAt', 'seriesTitle'];

function shapeOf(item: Json, listKey: 'data' | 'items'): EntryShape | null {
  if (CR_KEYS.some((k) => k in item)) {
    if ('fullywatched' in item && !('fully_watched' in item)) return 'cr-v1';
    return listKey === 'data' ? 'cr-v2' : 'cr-v1';
  }
  if (COMPACT_KEYS.some((k) => k in item)) return 'compact';
  return null;
}

interface PanelLess {
  path: string;
  entry: Json;
  flags: EntryFlags;
}

/** The lists of a history document, or a HistoryFormatError when it is not one. */
export function historyLists(input: unknown): Array<{ key: 'data' | 'items'; list: unknown[] }> {
  if (!isObject(input)) throw new HistoryFormatError('$', 'object');
  const lists: Array<{ key: 'data' | 'items'; list: unknown[] }> = [];
  for (const key of ['data', 'items'] as const) {
    if (input[key] === undefined) continue;
    if (!Array.isArray(input[key])) {
      // A CR v1 page has `items`; a non-list `data` beside it (some clients keep metadata there) is not an error.
      if (key === 'data' && Array.isArray(input.items)) continue;
      throw new HistoryFormatError(key, 'array');
    }
    lists.push({ key, list: input[key] as unknown[] });
  }
  if (lists.length === 0) throw new HistoryFormatError('$', 'object with a "data" (CR v2) or "items" (CR v1 / compact) array');
  return lists;
}

/** Detects each entry's shape and reads it; unusable entries are skipped with a path and a reason. */
export function parseHistory(input: unknown, options: { now?: number } = {}): ParsedHistory {
  const now = options.now ?? Date.now();
  const lists = historyLists(input);
  const events: WatchEvent[] = [];
  const skipped: SkippedEntry[] = [];
  const warnings: string[] = [];
  const entries: unknown[] = [];
  const shapes = new Set<EntryShape>();
  const panelLess: PanelLess[] = [];

  for (const { key, list } of lists) {
    list.forEach((raw, index) => {
      entries.push(raw);
      const path = `${key}[${index}]`;
      try {
        if (!isObject(raw)) throw new EntryFault(path, 'NOT_AN_ENTRY');
        const shape = shapeOf(raw, key);
        if (shape === null) throw new EntryFault(path, 'NOT_AN_ENTRY');
        shapes.add(shape);
        if (shape === 'compact') {
          events.push(compactEvent(raw, path, now));
          return;
        }
        const flags = flagsOf(raw, path, now);
        const panel = raw.panel;
        if (!present(panel)) {
          panelLess.push({ path, entry: raw, flags });
          return;
        }
        if (!isObject(panel)) throw new EntryFault(`${path}.panel`, 'INVALID_FIELD');
        const panelType = typeof panel.type === 'string' ? panel.type : null;
        const movie = panelType === 'movie' || (isObject(panel.movie_metadata) && !isObject(panel.episode_metadata));
        events.push(movie ? movieEvent(raw, panel, path, flags) : episodeEvent(raw, panel, path, flags));
      } catch (error) {
        if (!(error instanceof EntryFault)) throw error;
        skipped.push({ path: error.path, reason: error.reason });
      }
    });
  }

  recoverPanelLess(panelLess, events, skipped, warnings);
  events.sort((a, b) => entryOrder(a.path) - entryOrder(b.path));
  skipped.sort((a, b) => entryOrder(a.path) - entryOrder(b.path));
  const format: HistoryFormat = shapes.size === 0 ? 'empty' : shapes.size === 1 ? [...shapes][0] : 'mixed';
  return { format, events, skipped, warnings, entries };
}

/** Sort key of a path: list, then index (`data` entries before `items` entries). */
function entryOrder(path: string): number {
  const m = path.match(/^(data|items)\[(\d+)\]/u);
  if (!m) return Number.MAX_SAFE_INTEGER;
  return (m[1] === 'data' ? 0 : 1e7) + Number(m[2]);
}

/**
 * An entry whose panel is gone (content no longer on CR, or a v1 entry stored without it) still has its
 * episode `id` and its series `parent_id`. When the same episode, or another audio version of it, appears
 * with a panel elsewhere in the document, the entry is that episode played again; otherwise it is skipped.
 */
function recoverPanelLess(panelLess: PanelLess[], events: WatchEvent[], skipped: SkippedEntry[], warnings: string[]): void {
  if (panelLess.length === 0) return;
  const byEpisode = new Map<string, WatchEvent>();
  const byVersion = new Map<string, { event: WatchEvent; version: WatchEvent['versions'][number] }>();
  for (const event of events) {
    if (event.episodeId && !byEpisode.has(event.episodeId)) byEpisode.set(event.episodeId, event);
    for (const version of event.versions) {
      if (version.episodeId && !byVersion.has(version.episodeId)) byVersion.set(version.episodeId, { event, version });
    }
  }
  let recovered = 0;
  for (const { path, entry, flags } of panelLess) {
    let episodeId: string | null;
    let parentId: string | null;
    try {
      episodeId = id(entry, 'id', path, false);
      parentId = id(entry, 'parent_id', path, false);
    } catch (error) {
      if (!(error instanceof EntryFault)) throw error;
      skipped.push({ path: error.path, reason: error.reason });
      continue;
    }
    const same = episodeId ? byEpisode.get(episodeId) : undefined;
    const viaVersion = !same && episodeId ? byVersion.get(episodeId) : undefined;
    const base = same ?? viaVersion?.event;
    if (!base || (parentId !== null && parentId !== base.seriesId && parentId !== base.seasonId)) {
      skipped.push({ path: `${path}.panel`, reason: 'PANEL_MISSING' });
      continue;
    }
    const event: WatchEvent = { ...base, path, episodeId, ...flags };
    if (viaVersion && viaVersion.version.seasonId !== base.seasonId) {
      Object.assign(event, { seasonId: viaVersion.version.seasonId, audioLocale: viaVersion.version.audioLocale, isDubbed: !viaVersion.version.original, derivedSeasonId: false });
    }
    events.push(event);
    recovered++;
  }
  if (recovered > 0) warnings.push(`${recovered} entr${recovered === 1 ? 'y' : 'ies'} without a panel recovered from the same episode elsewhere in the history`);
}
