/**
 * Reading the three accepted input shapes into WatchEvents, validating as we go. Every problem is a
 * HistoryFormatError naming the JSON path of the offending field; nothing here throws a raw TypeError.
 */
import type { HistoryFormat, WatchEvent } from './types';

export class HistoryFormatError extends Error {
  override name = 'HistoryFormatError';
  constructor(
    readonly path: string,
    readonly expected: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: expected ${expected}`, options);
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(value: unknown, path: string): Json {
  if (!isObject(value)) throw new HistoryFormatError(path, 'object');
  return value;
}

function string(record: Json, key: string, path: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw new HistoryFormatError(`${path}.${key}`, 'string');
  return value;
}

function optionalString(record: Json, key: string, path: string): string | null {
  const value = record[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new HistoryFormatError(`${path}.${key}`, 'string or null');
  return value;
}

function optionalNumber(record: Json, key: string, path: string): number | null {
  const value = record[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new HistoryFormatError(`${path}.${key}`, 'number or null');
  return value;
}

function optionalBoolean(record: Json, key: string, path: string): boolean | null {
  const value = record[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') throw new HistoryFormatError(`${path}.${key}`, 'boolean or null');
  return value;
}

function timestamp(record: Json, key: string, path: string): string {
  const value = record[key];
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value).toISOString();
  if (typeof value !== 'string') throw new HistoryFormatError(`${path}.${key}`, 'ISO timestamp string');
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new HistoryFormatError(`${path}.${key}`, 'ISO timestamp string');
  return new Date(parsed).toISOString();
}

/** "Episode 13", "13", "13.5" → 13 / 13.5; "SP", "" → null. */
function numberFromLabel(label: string | null): number | null {
  if (!label) return null;
  const m = label.match(/(\d+(?:\.\d+)?)/);
  return m ? Number(m[1]) : null;
}

/** Both CR API versions share the panel shape; only the entry's own flags differ. */
function eventFromPanel(entry: Json, panel: Json, path: string, fullyWatchedKey: string): WatchEvent {
  const panelPath = `${path}.panel`;
  const watchedAt = timestamp(entry, 'date_played', path);
  const playheadS = optionalNumber(entry, 'playhead', path);
  const fullyWatched = optionalBoolean(entry, fullyWatchedKey, path) ?? false;
  const panelType = optionalString(panel, 'type', panelPath);

  if (panelType === 'movie' || (isObject(panel.movie_metadata) && !isObject(panel.episode_metadata))) {
    const metaPath = `${panelPath}.movie_metadata`;
    const meta = object(panel.movie_metadata, metaPath);
    const listingId = optionalString(meta, 'movie_listing_id', metaPath) ?? string(panel, 'id', panelPath);
    const listingTitle = optionalString(meta, 'movie_listing_title', metaPath) ?? string(panel, 'title', panelPath);
    return {
      path,
      episodeId: optionalString(panel, 'id', panelPath),
      seriesId: listingId,
      seriesTitle: listingTitle,
      seasonId: listingId,
      seasonTitle: listingTitle,
      seasonNumber: null,
      seasonSequenceNumber: null,
      episodeNumber: 1,
      sequenceNumber: 1,
      durationMs: optionalNumber(meta, 'duration_ms', metaPath),
      playheadS,
      fullyWatched,
      watchedAt,
      audioLocale: optionalString(meta, 'audio_locale', metaPath),
      isDubbed: optionalBoolean(meta, 'is_dubbed', metaPath),
      versions: [],
      isMovie: true,
    };
  }

  const metaPath = `${panelPath}.episode_metadata`;
  const meta = object(panel.episode_metadata, metaPath);
  const versionsValue = meta.versions;
  const versions: WatchEvent['versions'] = [];
  if (versionsValue !== undefined && versionsValue !== null) {
    if (!Array.isArray(versionsValue)) throw new HistoryFormatError(`${metaPath}.versions`, 'array or null');
    versionsValue.forEach((raw, index) => {
      const versionPath = `${metaPath}.versions[${index}]`;
      const version = object(raw, versionPath);
      versions.push({
        audioLocale: optionalString(version, 'audio_locale', versionPath),
        seasonId: string(version, 'season_guid', versionPath),
        original: optionalBoolean(version, 'original', versionPath) ?? false,
      });
    });
  }
  const episodeNumber = optionalNumber(meta, 'episode_number', metaPath) ?? numberFromLabel(optionalString(meta, 'episode', metaPath));
  return {
    path,
    episodeId: optionalString(panel, 'id', panelPath),
    seriesId: string(meta, 'series_id', metaPath),
    seriesTitle: string(meta, 'series_title', metaPath),
    seasonId: string(meta, 'season_id', metaPath),
    seasonTitle: optionalString(meta, 'season_title', metaPath) ?? string(meta, 'series_title', metaPath),
    seasonNumber: optionalNumber(meta, 'season_number', metaPath),
    seasonSequenceNumber: optionalNumber(meta, 'season_sequence_number', metaPath),
    episodeNumber,
    sequenceNumber: optionalNumber(meta, 'sequence_number', metaPath),
    durationMs: optionalNumber(meta, 'duration_ms', metaPath),
    playheadS,
    fullyWatched,
    watchedAt,
    audioLocale: optionalString(meta, 'audio_locale', metaPath),
    isDubbed: optionalBoolean(meta, 'is_dubbed', metaPath),
    versions,
    isMovie: false,
  };
}

function eventFromCompact(item: Json, path: string): WatchEvent {
  const seasonTitle = optionalString(item, 'seasonTitle', path) ?? string(item, 'seriesTitle', path);
  return {
    path,
    episodeId: optionalString(item, 'episodeId', path),
    seriesId: string(item, 'seriesId', path),
    seriesTitle: string(item, 'seriesTitle', path),
    seasonId: string(item, 'seasonId', path),
    seasonTitle,
    seasonNumber: optionalNumber(item, 'seasonNumber', path),
    seasonSequenceNumber: null,
    episodeNumber: optionalNumber(item, 'episodeNumber', path),
    sequenceNumber: optionalNumber(item, 'sequenceNumber', path),
    durationMs: optionalNumber(item, 'durationMs', path),
    playheadS: optionalNumber(item, 'playheadS', path),
    fullyWatched: optionalBoolean(item, 'fullyWatched', path) ?? false,
    watchedAt: timestamp(item, 'watchedAt', path),
    audioLocale: optionalString(item, 'audioLocale', path),
    isDubbed: null,
    versions: [],
    isMovie: optionalBoolean(item, 'isMovie', path) ?? false,
  };
}

export interface ParsedHistory {
  format: HistoryFormat;
  events: WatchEvent[];
  warnings: string[];
}

/** Detects the shape and reads every entry; entries without a panel are skipped with a warning. */
export function parseHistory(input: unknown): ParsedHistory {
  const root = object(input, '$');
  const warnings: string[] = [];
  const events: WatchEvent[] = [];

  let listKey: 'data' | 'items';
  if (root.data !== undefined) listKey = 'data';
  else if (root.items !== undefined) listKey = 'items';
  else throw new HistoryFormatError('$', 'object with a "data" (CR v2) or "items" (CR v1 / compact) array');
  const list = root[listKey];
  if (!Array.isArray(list)) throw new HistoryFormatError(listKey, 'array');
  if (list.length === 0) return { format: 'empty', events, warnings };

  let format: HistoryFormat | undefined;
  let skippedPanels = 0;
  list.forEach((raw, index) => {
    const path = `${listKey}[${index}]`;
    const item = object(raw, path);
    const itemFormat: HistoryFormat = listKey === 'data' ? 'cr-v2' : 'panel' in item ? 'cr-v1' : 'compact';
    format ??= itemFormat;
    if (itemFormat !== format) throw new HistoryFormatError(path, `an entry of the same shape as the first (${format})`);
    if (itemFormat === 'compact') {
      events.push(eventFromCompact(item, path));
      return;
    }
    if (item.panel === null || item.panel === undefined) {
      skippedPanels++;
      warnings.push(`${path}: panel is null (content no longer available); entry skipped`);
      return;
    }
    const panel = object(item.panel, `${path}.panel`);
    events.push(eventFromPanel(item, panel, path, itemFormat === 'cr-v2' ? 'fully_watched' : 'fullywatched'));
  });
  if (skippedPanels > 0) warnings.push(`${skippedPanels} entr${skippedPanels === 1 ? 'y' : 'ies'} skipped for a null panel`);
  return { format: format ?? 'empty', events, warnings };
}
