/** Canonical form of a Crunchyroll watch history, whatever shape it arrived in. */

export interface CrEpisode {
  /** Episode number within its season, after continuous numbering was undone (1-based). */
  number: number;
  /** The number Crunchyroll shows (e.g. 13 for the first episode of a season numbered on from 12). */
  crEpisodeNumber: number | null;
  /** CR episode ids seen for this episode (one per audio version watched). */
  episodeIds: string[];
  durationMs: number | null;
  /** The day CR says the episode first aired (YYYY-MM-DD), when it says. */
  airDate: string | null;
  /** Furthest playhead seen, seconds. */
  playheadS: number | null;
  /** 0..1; 1 when fully watched. */
  progress: number;
  fullyWatched: boolean;
  firstWatchedAt: string;
  lastWatchedAt: string;
  /** Number of history entries folded into this episode. */
  plays: number;
  audioLocales: string[];
}

export interface CrSeason {
  /** Stable key: `${seriesId}:${canonicalSeasonId}` (movies: `movie:${listingId}`). */
  seasonKey: string;
  seriesId: string;
  seriesTitle: string;
  /** Canonical (original-language) season id. */
  seasonId: string;
  /** Every CR season id folded into this one (dubs). */
  foldedSeasonIds: string[];
  /** Season title without audio-version tags. */
  seasonTitle: string;
  seasonNumber: number | null;
  seasonSequenceNumber: number | null;
  audioLocales: string[];
  isMovie: boolean;
  /** CR episode number − episodeNumberOffset = number within the season. */
  episodeNumberOffset: number;
  /** How the offset was found: none, CR's own sequence numbers, the previous season, or a heuristic. */
  episodeNumberOffsetSource: 'none' | 'sequence-number' | 'previous-season' | 'heuristic';
  episodes: CrEpisode[];
  firstWatchedAt: string;
  lastWatchedAt: string;
}

export interface NormalisedHistory {
  /** TV/ONA-like seasons, movies excluded. */
  seasons: CrSeason[];
  /** Movies and compilation "seasons", kept apart. */
  movies: CrSeason[];
  /** Entries that could not be used, each with the path of the field at fault. */
  skipped: SkippedEntry[];
  warnings: string[];
  format: HistoryFormat;
}

/** `mixed`: one list holding entries of more than one shape (e.g. v1 entries next to v2 ones). */
export type HistoryFormat = 'cr-v2' | 'cr-v1' | 'compact' | 'mixed' | 'empty';

/** Why an entry was left out; every reason names a fault of the entry, never of the service. */
export type SkipReason =
  | 'NOT_AN_ENTRY'
  | 'PANEL_MISSING'
  | 'MISSING_FIELD'
  | 'INVALID_FIELD'
  | 'INVALID_ID'
  | 'ID_TOO_LONG'
  | 'TITLE_TOO_LONG'
  | 'OUT_OF_RANGE'
  | 'NO_EPISODE_NUMBER'
  | 'SPECIAL_EPISODE';

export interface SkippedEntry {
  /** JSON path of the field at fault (of the entry itself for NOT_AN_ENTRY), e.g. `data[3].panel.episode_metadata.series_id`. */
  path: string;
  reason: SkipReason;
}

/** One history entry, flattened from any input shape. */
export interface WatchEvent {
  path: string;
  episodeId: string | null;
  seriesId: string;
  seriesTitle: string;
  seasonId: string;
  seasonTitle: string;
  seasonNumber: number | null;
  seasonSequenceNumber: number | null;
  episodeNumber: number | null;
  sequenceNumber: number | null;
  durationMs: number | null;
  /** CR's `episode_air_date` (or a movie's premiere), as YYYY-MM-DD; null when absent or unreadable. */
  airDate: string | null;
  playheadS: number | null;
  fullyWatched: boolean;
  watchedAt: string;
  audioLocale: string | null;
  isDubbed: boolean | null;
  /** Audio versions of the same episode: their season ids link dub seasons to the original. */
  versions: Array<{ audioLocale: string | null; seasonId: string; episodeId: string | null; original: boolean }>;
  isMovie: boolean;
  /** The season part of CR's `identifier` ("S2" of "GDKHZEJ0K|S2|E17"), if given. */
  identifierSeason: string | null;
  /** True when CR sent no season id and the parser derived one from series id, season number/identifier and title. */
  derivedSeasonId: boolean;
}
