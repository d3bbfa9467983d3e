/**
 * A plain first season is decided from MAL's search answer alone (no details request) only when nothing
 * the details could add might change the answer; every less clear case still asks for details.
 */
import { describe, expect, it } from 'vitest';
import { Matcher, SEARCH_ONLY_CONFIDENCE, type MatcherOptions } from '../../functions/matching/matcher';
import type { CandidateSource, MalAnimeDetails, MalCandidate, MatchRequest } from '../../functions/matching/types';

function hit(id: number, title: string, extra: Partial<MalCandidate> = {}): MalCandidate {
  return { id, title, alternative_titles: { synonyms: [], en: '', ja: '' }, media_type: 'tv', num_episodes: 12, start_season: { year: 2023, season: 'fall' }, start_date: '2023-09-29', ...extra };
}

/** Answers every search with the same hits; counts details requests. */
class StubSource implements CandidateSource {
  detailsAsked: number[] = [];
  constructor(private readonly hits: MalCandidate[]) {}
  async search(): Promise<MalCandidate[]> {
    return this.hits.map((h) => structuredClone(h));
  }
  async details(ids: number[]): Promise<MalAnimeDetails[]> {
    this.detailsAsked.push(...ids);
    return this.hits.filter((h) => ids.includes(h.id)).map((h) => ({ ...structuredClone(h), related_anime: [] }));
  }
}

const FIRST = hit(100, 'Sousou no Frieren', { alternative_titles: { synonyms: ['Frieren'], en: "Frieren: Beyond Journey's End", ja: '葬送のフリーレン' }, num_episodes: 28 });
// A sequel whose synonyms include the franchise's name, and a short film of the same name: not rivals.
const SECOND = hit(101, 'Sousou no Frieren 2nd Season', { alternative_titles: { synonyms: ["Frieren: Beyond Journey's End"], en: "Frieren: Beyond Journey's End Season 2", ja: '' }, start_season: { year: 2026, season: 'winter' }, start_date: '2026-01-16' });
const FILM = hit(102, 'Sousou no Frieren: Mini', { alternative_titles: { synonyms: ["Frieren: Beyond Journey's End"], en: '', ja: '' }, media_type: 'movie', num_episodes: 1 });

/** The request takes the full path: details are asked and the explanation is not a search-only one. */
async function expectFullPath(request: MatchRequest, hits: MalCandidate[] = [FIRST, SECOND, FILM], options: MatcherOptions = {}) {
  const source = new StubSource(hits);
  const result = await new Matcher(source, options).match(request);
  expect(source.detailsAsked.length, JSON.stringify(request)).toBeGreaterThan(0);
  expect(result.explanation.text).not.toContain('decided from the search answer');
}

const firstSeason: MatchRequest = { seriesTitle: "Frieren: Beyond Journey's End", seasonTitle: "Frieren: Beyond Journey's End", seasonNumber: 1, episodeNumbers: [1, 28], episodeCount: 28 };

describe('decisions from the search answer alone', () => {
  it('decides a plain first season with one TV entry of that name without asking for details', async () => {
    const source = new StubSource([FIRST, SECOND, FILM]);
    const result = await new Matcher(source).match(firstSeason);
    expect(source.detailsAsked).toEqual([]);
    expect(result.malId).toBe(100);
    expect(result.needsReview).toBe(false);
    expect(result.confidence).toBe(SEARCH_ONLY_CONFIDENCE);
    expect(result.segments).toEqual([{ malId: 100, firstEpisode: 1, lastEpisode: null, episodeOffset: 0 }]);
    expect(result.explanation.text).toContain('decided from the search answer');
    // The candidates a reviewer sees agree with the decision: the chosen one first, the others below it.
    expect(result.candidates[0].malId).toBe(100);
    for (const other of result.candidates.slice(1)) expect(other.score).toBeLessThan(result.candidates[0].score);
  });

  it('asks for details when two TV entries carry the name (a remake)', async () => {
    const remake = hit(200, "Frieren: Beyond Journey's End (2031)", { alternative_titles: { synonyms: [], en: "Frieren: Beyond Journey's End", ja: '' }, num_episodes: 28 });
    await expectFullPath(firstSeason, [FIRST, remake]);
  });

  it('asks for details when the season is not plainly the first', async () => {
    const cases: MatchRequest[] = [
      { ...firstSeason, seasonNumber: 2 },
      { ...firstSeason, seasonTitle: "Frieren: Beyond Journey's End Part 2" },
      { ...firstSeason, seasonTitle: "Frieren: Beyond Journey's End Recap" },
      // Numbers running on from an earlier season, or more episodes than the entry has (a split season).
      { ...firstSeason, episodeNumbers: [29, 40] },
      { ...firstSeason, seasonNumber: null, episodeNumbers: [13, 20] },
      { ...firstSeason, episodeNumbers: [1, 40], episodeCount: 40 },
      // Aired months after the entry started: possibly a later cour that CR counts as the same season.
      { ...firstSeason, airDates: ['2024-07-05'] },
      { ...firstSeason, mediaType: 'movie', episodeNumbers: null, episodeCount: null },
    ];
    for (const request of cases) await expectFullPath(request);
  });

  it('decides a first season watched from a later episode on when CR says season 1', async () => {
    const source = new StubSource([FIRST, SECOND, FILM]);
    const result = await new Matcher(source).match({ ...firstSeason, episodeNumbers: [5, 7], airDates: ['2023-10-27', '2023-11-10'] });
    expect(source.detailsAsked).toEqual([]);
    expect(result.segments).toEqual([{ malId: 100, firstEpisode: 5, lastEpisode: null, episodeOffset: 0 }]);
  });

  it('decides a later season its own title names, with CR agreeing and episodes from 1', async () => {
    const second: MatchRequest = { seriesTitle: "Frieren: Beyond Journey's End", seasonTitle: "Frieren: Beyond Journey's End Season 2", seasonNumber: 2, episodeNumbers: [1, 10], episodeCount: 10 };
    const source = new StubSource([FIRST, SECOND, FILM]);
    const result = await new Matcher(source).match(second);
    expect(source.detailsAsked).toEqual([]);
    expect(result.malId).toBe(101);
    expect(result.explanation.text).toContain('season 2 as its title says');
    // CR counting otherwise, or numbers running on from the first season: the chain must decide.
    for (const request of [{ ...second, seasonNumber: 3 }, { ...second, episodeNumbers: [29, 38] }, { ...second, seasonTitle: "Frieren: Beyond Journey's End" }]) await expectFullPath(request);
  });

  it('accepts air dates that fit a simulcast or an early dub', async () => {
    const source = new StubSource([FIRST, SECOND, FILM]);
    const result = await new Matcher(source).match({ ...firstSeason, airDates: ['2023-11-10', '2024-03-22'] });
    expect(source.detailsAsked).toEqual([]);
    expect(result.malId).toBe(100);
  });

  it('takes the full path for every case when decideFromSearch is off (what the models are fitted on)', async () => {
    await expectFullPath(firstSeason, undefined, { decideFromSearch: false });
  });
});
