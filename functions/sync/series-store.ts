/**
 * The user's CR series as Query.series shows them: one item per series with its seasons and the
 * episodes watched. The worker merges each job's history into them (idempotent, so a retried or
 * resumed job may do it again).
 */
import type { CrSeason } from '../history';
import type { SeasonFacts } from '../matching/from-history';
import { MAX_ITEM_BYTES, itemSizeBytes } from '../shared/dynamo';
import { loadSeries, putSeries, seriesSk, type StoredSeason, type StoredSeries } from './store';

/** Room left under DynamoDB's item limit for the matches the worker adds to each season later. */
const SERIES_ITEM_BUDGET = MAX_ITEM_BYTES - 16 * 1024;

export interface StoreSeriesResult {
  /** Series whose episode list is too long for one item: synced to MAL, but not kept for Query.series. */
  tooLarge: Array<{ seriesId: string; title: string; episodes: number }>;
  /** Each season of the job with everything the user ever sent of it (what matching reads). */
  facts: Map<string, SeasonFacts>;
}

/** A stored season's facts for the matcher (the same canonical request as the history's own season). */
export function factsOfStoredSeason(seriesTitle: string, season: StoredSeason): SeasonFacts {
  return {
    seasonKey: season.seasonKey,
    seriesTitle,
    seasonTitle: season.title,
    seasonNumber: season.seasonNumber,
    isMovie: season.isMovie,
    numberingOffset: season.numberingOffset,
    episodes: season.episodes,
  };
}

function storedSeason(season: CrSeason): StoredSeason {
  return {
    seasonKey: season.seasonKey,
    crSeasonId: season.seasonId,
    title: season.seasonTitle,
    seasonNumber: season.seasonNumber,
    audioLocales: season.audioLocales,
    isMovie: season.isMovie,
    numberingOffset: season.episodeNumberOffset,
    episodes: season.episodes.map((e) => ({
      number: e.number,
      crEpisodeId: e.episodeIds[0] ?? `${season.seasonId}:${e.number}`,
      durationMs: e.durationMs,
      ...(e.airDate ? { airDate: e.airDate } : {}),
      progress: e.progress,
      fullyWatched: e.fullyWatched,
      firstWatchedAt: e.firstWatchedAt,
      lastWatchedAt: e.lastWatchedAt,
    })),
    match: null,
  };
}

/** Merges the history into the user's series items: episodes are unioned, matches kept. */
export async function storeSeries(userId: string, seasons: CrSeason[]): Promise<StoreSeriesResult> {
  const existing = new Map((await loadSeries(userId)).map((s) => [s.seriesId, s]));
  const now = new Date().toISOString();
  const bySeries = new Map<string, StoredSeries>();
  for (const season of seasons) {
    let series = bySeries.get(season.seriesId);
    if (!series) {
      const old = existing.get(season.seriesId);
      series = { userId, sk: seriesSk(season.seriesId), seriesId: season.seriesId, title: season.seriesTitle, updatedAt: now, seasons: old ? structuredClone(old.seasons) : [], ...(old?.rules ? { rules: old.rules } : {}) };
      bySeries.set(season.seriesId, series);
    }
    const fresh = storedSeason(season);
    const old = series.seasons.find((s) => s.seasonKey === season.seasonKey);
    if (!old) {
      series.seasons.push(fresh);
      continue;
    }
    const episodes = new Map(old.episodes.map((e) => [e.number, e]));
    for (const e of fresh.episodes) {
      const known = episodes.get(e.number);
      episodes.set(
        e.number,
        known
          ? {
              ...e,
              ...(e.airDate ?? known.airDate ? { airDate: e.airDate ?? known.airDate } : {}),
              progress: Math.max(known.progress, e.progress),
              fullyWatched: known.fullyWatched || e.fullyWatched,
              firstWatchedAt: known.firstWatchedAt < e.firstWatchedAt ? known.firstWatchedAt : e.firstWatchedAt,
              lastWatchedAt: known.lastWatchedAt > e.lastWatchedAt ? known.lastWatchedAt : e.lastWatchedAt,
            }
          : e,
      );
    }
    Object.assign(old, { ...fresh, match: old.match ?? null, episodes: [...episodes.values()].sort((a, b) => a.number - b.number) });
  }
  const facts = new Map<string, SeasonFacts>();
  for (const season of seasons) {
    const stored = bySeries.get(season.seriesId)?.seasons.find((s) => s.seasonKey === season.seasonKey);
    if (stored) facts.set(season.seasonKey, factsOfStoredSeason(season.seriesTitle, stored));
  }
  const fitting: StoredSeries[] = [];
  const tooLarge: StoreSeriesResult['tooLarge'] = [];
  for (const series of bySeries.values()) {
    if (itemSizeBytes(series) <= SERIES_ITEM_BUDGET) fitting.push(series);
    else tooLarge.push({ seriesId: series.seriesId, title: series.title, episodes: series.seasons.reduce((n, s) => n + s.episodes.length, 0) });
  }
  await putSeries(fitting);
  return { tooLarge, facts };
}
