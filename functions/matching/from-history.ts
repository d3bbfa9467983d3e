/** Turns a normalised CR season into the matcher's request. */
import type { CrSeason } from '../history/types';
import type { MatchRequest } from './types';

export function matchRequestForSeason(season: CrSeason): MatchRequest {
  const highestEpisode = season.episodes.reduce((max, e) => Math.max(max, e.number), 0);
  return {
    seasonKey: season.seasonKey,
    seriesTitle: season.seriesTitle,
    seasonTitle: season.seasonTitle,
    seasonNumber: season.isMovie ? null : season.seasonNumber,
    // The highest episode watched bounds the season's length from below; it drives split-cour segments.
    episodeCount: highestEpisode > 0 ? highestEpisode : null,
    // The watch date says nothing reliable about the air date, so no year is passed.
    year: null,
    mediaType: season.isMovie ? 'movie' : null,
  };
}
