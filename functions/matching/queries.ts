/**
 * Search queries for one Crunchyroll season. MAL's search only takes 3–64 character queries and is
 * word-based, so we try several phrasings: as written, without audio-version tags, without season
 * markers, without a subtitle after ":" or " - ", and normalised (punctuation dropped).
 */
import { baseTitle, normaliseTitle, stripVersionTags, truncateAtWord } from './text';
import type { MatchRequest } from './types';

/**
 * The season title read as a subtitle of the series title: "Entertainment District Arc" under
 * "Demon Slayer: Kimetsu no Yaiba" names "Demon Slayer: Kimetsu no Yaiba Entertainment District Arc".
 * A season title that already carries most of the series title's words stands alone (undefined).
 */
export function combinedTitle(seriesTitle: string | undefined, seasonTitle: string | undefined): string | undefined {
  if (!seriesTitle || !seasonTitle) return undefined;
  const seriesWords = new Set(baseTitle(seriesTitle).split(' ').filter((w) => w.length > 0));
  const seasonWords = new Set(baseTitle(seasonTitle).split(' ').filter((w) => w.length > 0));
  if (seriesWords.size === 0) return undefined;
  let shared = 0;
  for (const w of seriesWords) if (seasonWords.has(w)) shared++;
  if (shared / seriesWords.size >= 0.6) return undefined;
  return `${stripVersionTags(seriesTitle)} ${stripVersionTags(seasonTitle)}`.replace(/\s+/g, ' ').trim();
}

export const MAL_QUERY_MIN = 3;
export const MAL_QUERY_MAX = 64;

function subtitleLess(title: string): string | undefined {
  // "Re:ZERO -Starting Life in Another World-" → "Re:ZERO"; "Show: The Subtitle" → "Show".
  const m = title.match(/^(.{3,}?)\s*(?::|\s-\s|\s–\s|\s-(?=\S))/u);
  return m ? m[1].trim() : undefined;
}

/** Distinct queries, most specific first, each 3–64 characters (longer ones cut at a word boundary). */
export function buildQueries(request: MatchRequest, maxQueries = 6): string[] {
  const sources = [request.seasonTitle, request.seriesTitle].filter((t): t is string => typeof t === 'string' && t.trim().length > 0);
  const phrasings: string[] = [];
  // A season title that is only a subtitle ("Entertainment District Arc") is searched under its series.
  const combined = combinedTitle(request.seriesTitle, request.seasonTitle);
  if (combined) phrasings.push(combined);
  for (const title of sources) {
    const clean = stripVersionTags(title).replace(/\s+/g, ' ').trim();
    phrasings.push(clean);
    phrasings.push(baseTitle(clean));
    phrasings.push(normaliseTitle(clean));
  }
  for (const title of sources) {
    const short = subtitleLess(stripVersionTags(title));
    if (short) phrasings.push(short);
  }

  const seen = new Set<string>();
  const queries: string[] = [];
  for (const phrasing of phrasings) {
    const query = truncateAtWord(phrasing.trim(), MAL_QUERY_MAX);
    if ([...query].length < MAL_QUERY_MIN) continue;
    const key = normaliseTitle(query);
    if (key.length === 0 || seen.has(key)) continue;
    seen.add(key);
    queries.push(query);
    if (queries.length >= maxQueries) break;
  }
  return queries;
}
