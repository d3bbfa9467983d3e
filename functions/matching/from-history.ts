/**
 * Turns a CR season (as normalised from a history, or as stored on the user's series) into the matcher's
 * request, in one canonical form, and fingerprints that form.
 *
 * The request carries only season-level facts, summarised the same way whoever sends them (titles with
 * Unicode and spacing normalised, the CR episode range rather than each episode, one typical duration),
 * so two users with the same season get the same request. The fingerprint is a hash of exactly that
 * request: an automatic match is a pure function of it (and of MAL's data), which is what makes it safe
 * to share a cached match between users with the same fingerprint, and useless to forge one.
 */
import { createHash } from 'node:crypto';
import type { CrSeason } from '../history/types';
import { CURRENT_MATCHER } from './revision';
import type { MatchRequest, MatchSegment } from './types';

/** The season facts both the history and the stored series can give. */
export interface SeasonFacts {
  seasonKey: string;
  seriesTitle: string;
  seasonTitle: string;
  seasonNumber: number | null;
  isMovie: boolean;
  /** CR episode number − numberingOffset = the season's own episode number. */
  numberingOffset: number;
  episodes: ReadonlyArray<{ number: number; durationMs: number | null; airDate?: string | null }>;
}

/** Bump when the canonical request changes shape: old cached matches then simply stop matching. */
const FINGERPRINT_VERSION = 3;

function cleanTitle(title: string | null | undefined): string {
  return (title ?? '').normalize('NFKC').replace(/\s+/g, ' ').trim();
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export function factsOfSeason(season: CrSeason): SeasonFacts {
  return {
    seasonKey: season.seasonKey,
    seriesTitle: season.seriesTitle,
    seasonTitle: season.seasonTitle,
    seasonNumber: season.seasonNumber,
    isMovie: season.isMovie,
    numberingOffset: season.episodeNumberOffset,
    episodes: season.episodes,
  };
}

export function matchRequestForFacts(facts: SeasonFacts): MatchRequest {
  const numbers = facts.episodes.map((e) => e.number).filter((n) => Number.isFinite(n) && n > 0 && Number.isInteger(n));
  const highest = numbers.length > 0 ? Math.max(...numbers) : 0;
  const lowest = numbers.length > 0 ? Math.min(...numbers) : 0;
  const durations = facts.episodes.map((e) => e.durationMs).filter((d): d is number => typeof d === 'number' && d > 0);
  const typical = median(durations);
  const airDates = facts.episodes.map((e) => e.airDate).filter((d): d is string => typeof d === 'string' && d.length > 0).sort();
  return {
    seasonKey: facts.seasonKey,
    seriesTitle: cleanTitle(facts.seriesTitle),
    seasonTitle: cleanTitle(facts.seasonTitle),
    seasonNumber: facts.isMovie ? null : facts.seasonNumber,
    // The highest episode watched bounds the season's length from below; it drives split-cour segments.
    episodeCount: facts.isMovie || highest === 0 ? null : highest,
    // The watch date says nothing reliable about the air date, so no year is passed.
    year: null,
    mediaType: facts.isMovie ? 'movie' : null,
    // CR's own numbers (continuous numbering kept), as a range: the matcher reads the ends only.
    episodeNumbers: facts.isMovie || highest === 0 ? null : [...new Set([lowest, highest])].map((n) => n + facts.numberingOffset),
    // Rounded to the minute: CR's durations of one season differ by seconds.
    durationMs: typical === null ? null : Math.round(typical / 60_000) * 60_000,
    // CR's air dates of the episodes watched, first and last: the year, and which cour of a split season.
    airDates: airDates.length > 0 ? [...new Set([airDates[0], airDates[airDates.length - 1]])] : null,
  };
}

export function matchRequestForSeason(season: CrSeason): MatchRequest {
  return matchRequestForFacts(factsOfSeason(season));
}

/**
 * The matcher's segments are in CR's numbers (the request's `episodeNumbers`); the planner and the API
 * use the season's own numbers. MAL episode = CR − offset = own + numberingOffset − offset.
 */
export function segmentsInSeasonNumbers(segments: readonly MatchSegment[], numberingOffset: number): MatchSegment[] {
  if (numberingOffset === 0) return segments.map((s) => ({ ...s }));
  return segments.map((s) => ({
    malId: s.malId,
    firstEpisode: Math.max(1, s.firstEpisode - numberingOffset),
    lastEpisode: s.lastEpisode === null ? null : s.lastEpisode - numberingOffset,
    episodeOffset: s.episodeOffset - numberingOffset,
  }));
}

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 32);
}

/**
 * Hash of every fact of the request the matcher reads (the season key aside: the key is stored beside
 * it), and of the matcher that reads them (revision.ts). Requests with equal fingerprints get the same
 * automatic match.
 */
export function requestFingerprint(request: MatchRequest, matcher: string = CURRENT_MATCHER): string {
  return digest([
    FINGERPRINT_VERSION,
    matcher,
    request.seriesTitle,
    request.seasonTitle ?? '',
    request.seasonNumber ?? null,
    request.episodeCount ?? null,
    request.year ?? null,
    request.mediaType ?? null,
    request.episodeNumbers ?? null,
    request.airDates ?? null,
    request.durationMs ?? null,
    request.identifier ?? null,
  ]);
}

/**
 * The coarser fingerprint votes are grouped by: the season's identity as the user's history states it
 * (titles, number, movie or not, CR's continuous-numbering offset), without how far the user watched.
 * Only users whose history says the same thing about a season confirm "the same season".
 */
export function identityFingerprint(facts: SeasonFacts): string {
  return digest([FINGERPRINT_VERSION, cleanTitle(facts.seriesTitle), cleanTitle(facts.seasonTitle), facts.isMovie ? null : facts.seasonNumber, facts.isMovie, facts.numberingOffset]);
}
