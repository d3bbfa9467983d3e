/**
 * Types of the matcher, named after MyAnimeList API v2 fields so a MAL-backed CandidateSource can pass
 * the API's objects through unchanged.
 */

export type MalMediaType = 'tv' | 'ova' | 'movie' | 'special' | 'ona' | 'music' | 'tv_special' | 'cm' | 'pv' | 'unknown';
export type MalAiringStatus = 'finished_airing' | 'currently_airing' | 'not_yet_aired';
export type MalSeasonName = 'winter' | 'spring' | 'summer' | 'fall';
export type MalRelationType =
  | 'sequel'
  | 'prequel'
  | 'alternative_setting'
  | 'alternative_version'
  | 'side_story'
  | 'parent_story'
  | 'summary'
  | 'full_story'
  | 'spin_off'
  | 'other'
  | 'character';

export interface MalAlternativeTitles {
  synonyms?: string[];
  en?: string;
  ja?: string;
}

/** A search hit: `GET /v2/anime?q=` with `fields=alternative_titles,media_type,num_episodes,start_season,start_date,end_date,status`. */
export interface MalCandidate {
  id: number;
  title: string;
  alternative_titles?: MalAlternativeTitles;
  media_type?: MalMediaType;
  num_episodes?: number;
  start_season?: { year: number; season: MalSeasonName };
  start_date?: string;
  /** Airing status: a season decided from the search answer alone still gets its "completed" right. */
  status?: MalAiringStatus;
  end_date?: string;
}

export interface MalRelatedAnime {
  node: { id: number; title: string };
  relation_type: MalRelationType;
}

/** `GET /v2/anime/{id}` with the fields the matcher reads. */
export interface MalAnimeDetails extends MalCandidate {
  status?: MalAiringStatus;
  end_date?: string;
  related_anime: MalRelatedAnime[];
}

/** Where candidates come from: MAL's API in production, a catalog in tests and the CLI. */
export interface CandidateSource {
  /** Like `GET /v2/anime?q=…&limit=…`: `query` must be 3–64 characters, `limit` ≤ 100. */
  search(query: string, limit: number): Promise<MalCandidate[]>;
  /** Details for each id that exists; unknown ids are left out. */
  details(ids: number[]): Promise<MalAnimeDetails[]>;
}

/** What the matcher needs to know about one Crunchyroll season. */
export interface MatchRequest {
  /** Stable key of the CR season (for the mapping cache). */
  seasonKey?: string;
  seriesTitle: string;
  seasonTitle?: string;
  /** Position of the season on Crunchyroll (1 = first TV season); unknown → null. */
  seasonNumber?: number | null;
  /** Episodes the CR season has (or the highest episode number watched). */
  episodeCount?: number | null;
  year?: number | null;
  /** Expected MAL media type when known (a CR movie → 'movie'). */
  mediaType?: MalMediaType | null;
  /**
   * The season's episode numbers as Crunchyroll shows them (`episode_number`, e.g. 13…24 when the
   * numbering runs on from an earlier season). When given, the result's segments are in these numbers.
   */
  episodeNumbers?: number[] | null;
  /** Air dates of the season's episodes on Crunchyroll (ISO dates; `episode_air_date`). */
  airDates?: string[] | null;
  /** Typical episode duration in milliseconds (`duration_ms`): a movie runs far longer than an episode. */
  durationMs?: number | null;
  /** CR's episode `identifier` ("GDKHZEJ0K|S2|E17"): its season part stands in when seasonNumber is missing. */
  identifier?: string | null;
}

export interface ScoredCandidate {
  malId: number;
  title: string;
  mediaType?: MalMediaType;
  /**
   * Estimated probability that this candidate is the right entry, consistent with the decision: the
   * chosen one carries the result's confidence, the others share what is left (by choice probability)
   * and never exceed it; 0 for every candidate when the matcher chose none.
   */
  score: number;
  /** Choice probability among the candidates the matcher weighed (softmax of `utility`). */
  choiceProbability?: number;
  /** The choice model's utility (log-odds scale); higher is better. */
  utility?: number;
  signals: MatchSignals;
}

/** The individual signals behind a candidate's score, each 0..1 unless stated. */
export interface MatchSignals {
  /** Best similarity between a query form and any of the candidate's titles. */
  title: number;
  /** Which of the candidate's titles gave `title`. */
  titleMatchedOn: string;
  /** Agreement of the candidate's position on the sequel chain (or stated season) with the request. */
  season: number;
  /** Position on the TV sequel chain, 1-based; null when unknown. */
  chainPosition: number | null;
  mediaType: number;
  /** Fit to the request's year when it gives one; otherwise the recency prior (−1..1). */
  year: number;
  episodes: number;
}

/**
 * One CR episode range mapped to one MAL entry: MAL episode = CR episode − episodeOffset. The CR
 * episode numbers are the request's `episodeNumbers` when it gives them, else 1…episodeCount.
 */
export interface MatchSegment {
  malId: number;
  firstEpisode: number;
  lastEpisode: number | null;
  episodeOffset: number;
}

export interface MatchResult {
  seasonKey?: string;
  /** null: no trustworthy candidate; needs a human. */
  malId: number | null;
  /** MAL episode = CR episode − episodeOffset for episodes in the first segment. */
  episodeOffset: number;
  /** More than one entry when one CR season spans several MAL entries (split cours). */
  segments: MatchSegment[];
  /** Estimated probability that malId is right, 0..1. */
  confidence: number;
  needsReview: boolean;
  /** Top candidates with their scores, best first. */
  candidates: ScoredCandidate[];
  explanation: { text: string; signals: MatchSignals | null; margin: number; source: 'cache' | 'search' };
}
