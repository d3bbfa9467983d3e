/** Canonical form of a Crunchyroll watch history, whatever shape it arrived in. */

export interface CrEpisode {
  /** Episode number within its season, after continuous numbering was undone (1-based). */
  number: number;
  /** The number Crunchyroll shows (e.g. 13 for the first episode of a season numbered on from 12). */
  crEpisodeNumber: number | null;
  /** CR episode ids seen for this episode (one per audio version watched). */
  episodeIds: string[];
  durationMs: number | null;
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
  warnings: string[];
  format: HistoryFormat;
}

export type HistoryFormat = 'cr-v2' | 'cr-v1' | 'compact' | 'empty';

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
  playheadS: number | null;
  fullyWatched: boolean;
  watchedAt: string;
  audioLocale: string | null;
  isDubbed: boolean | null;
  /** Audio versions of the same episode: their season ids link dub seasons to the original. */
  versions: Array<{ audioLocale: string | null; seasonId: string; original: boolean }>;
  isMovie: boolean;
}
