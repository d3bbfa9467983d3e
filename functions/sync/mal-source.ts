/**
 * The matcher's CandidateSource over MAL's API (search and details through a user's MAL session), and
 * conversions between the MAL client's shapes and the sync's. Every anime seen on the way is remembered,
 * so the planner gets episode counts and airing status without asking MAL again.
 */
import type { MalAnime, MalListStatus } from '../mal/types';
import { MalNotFoundError } from '../mal/errors';
import type { CandidateSource, MalAiringStatus, MalAnimeDetails, MalCandidate, MalMediaType, MalRelationType, MalSeasonName } from '../matching/types';
import type { AnimeInfo } from './planner';
import type { ListState } from './types';

/** The part of MalUserSession the sync uses (tests and the bench may pass their own). */
export interface MalSessionLike {
  searchAnime(request: { q: string; limit?: number }): Promise<MalAnime[]>;
  getAnimeDetails(animeId: number, fields?: string): Promise<MalAnime>;
  getAnimeList(request?: { pageSize?: number }): Promise<Array<{ anime: { id: number; title: string }; listStatus: MalListStatus }>>;
  updateListStatus(animeId: number, update: Record<string, unknown>): Promise<MalListStatus>;
  deleteListStatus(animeId: number): Promise<void>;
}

const AIRING: readonly string[] = ['finished_airing', 'currently_airing', 'not_yet_aired'];

export function animeInfoOf(anime: MalAnime): AnimeInfo {
  return {
    malId: anime.id,
    title: anime.title,
    numEpisodes: anime.numEpisodes && anime.numEpisodes > 0 ? anime.numEpisodes : null,
    airingStatus: anime.status && AIRING.includes(anime.status) ? (anime.status as AnimeInfo['airingStatus']) : null,
  };
}

export function candidateOf(anime: MalAnime): MalCandidate {
  return {
    id: anime.id,
    title: anime.title,
    alternative_titles: anime.alternativeTitles ? { synonyms: anime.alternativeTitles.synonyms, en: anime.alternativeTitles.en, ja: anime.alternativeTitles.ja } : undefined,
    media_type: anime.mediaType as MalMediaType | undefined,
    num_episodes: anime.numEpisodes,
    start_season: anime.startSeason ? { year: anime.startSeason.year, season: anime.startSeason.season as MalSeasonName } : undefined,
    start_date: anime.startDate,
    ...(anime.status && AIRING.includes(anime.status) ? { status: anime.status as MalAiringStatus } : {}),
    ...(anime.endDate ? { end_date: anime.endDate } : {}),
  };
}

export function detailsOf(anime: MalAnime): MalAnimeDetails {
  return {
    ...candidateOf(anime),
    status: anime.status as MalAiringStatus | undefined,
    end_date: anime.endDate,
    related_anime: (anime.relatedAnime ?? []).map((r) => ({ node: { id: r.id, title: r.title }, relation_type: r.relationType as MalRelationType })),
  };
}

export class MalCandidateSource implements CandidateSource {
  /** Every anime this source saw, by id. */
  readonly seen = new Map<number, AnimeInfo>();
  /** Start year of each anime seen, when MAL gave one. */
  readonly years = new Map<number, number>();

  private remember(anime: MalAnime): void {
    this.seen.set(anime.id, animeInfoOf(anime));
    const year = anime.startSeason?.year ?? (anime.startDate ? Number(anime.startDate.slice(0, 4)) : NaN);
    if (Number.isFinite(year)) this.years.set(anime.id, year);
  }

  constructor(private readonly session: MalSessionLike) {}

  async search(query: string, limit: number): Promise<MalCandidate[]> {
    const found = await this.session.searchAnime({ q: query, limit });
    for (const anime of found) this.remember(anime);
    return found.map(candidateOf);
  }

  async details(ids: number[]): Promise<MalAnimeDetails[]> {
    const out: MalAnimeDetails[] = [];
    for (const id of ids) {
      let anime: MalAnime;
      try {
        anime = await this.session.getAnimeDetails(id);
      } catch (error) {
        if (error instanceof MalNotFoundError) continue;
        throw error;
      }
      this.remember(anime);
      out.push(detailsOf(anime));
    }
    return out;
  }
}

const UPPER: Record<string, ListState['status']> = {
  watching: 'WATCHING',
  completed: 'COMPLETED',
  on_hold: 'ON_HOLD',
  dropped: 'DROPPED',
  plan_to_watch: 'PLAN_TO_WATCH',
};

export function listStateOf(malId: number, status: MalListStatus | undefined): ListState {
  if (!status) return { malId, status: null, score: 0, numEpisodesWatched: 0, isRewatching: false, numTimesRewatched: 0, startDate: null, finishDate: null };
  return {
    malId,
    status: UPPER[status.status] ?? null,
    score: status.score,
    numEpisodesWatched: status.numEpisodesWatched,
    isRewatching: status.isRewatching,
    numTimesRewatched: status.numTimesRewatched ?? 0,
    startDate: status.startDate ?? null,
    finishDate: status.finishDate ?? null,
  };
}
