import { beforeAll, describe, expect, it } from 'vitest';
import { CatalogCandidateSource, loadCatalog } from '../../functions/matching/catalog-source';
import { InMemoryMappingCache } from '../../functions/matching/cache';
import { DEFAULT_SETTINGS } from '#contract/settings';
import { DEFAULT_AUTO_ACCEPT_THRESHOLD, Matcher } from '../../functions/matching/matcher';
import { buildQueries, MAL_QUERY_MAX } from '../../functions/matching/queries';
import { CHOICE_FEATURES, CONFIDENCE_FEATURES, decide, FITTED_MODEL } from '../../functions/matching/model';
import type { CandidateSource, MalAnimeDetails, MalCandidate } from '../../functions/matching/types';

const FIXTURE = new URL('../fixtures/mal-catalog.small.jsonl', import.meta.url).pathname;

/** Wraps a source and records every query, to check what the matcher asks MAL. */
class RecordingSource implements CandidateSource {
  readonly queries: string[] = [];
  detailCalls = 0;
  constructor(private readonly inner: CandidateSource) {}
  search(query: string, limit: number): Promise<MalCandidate[]> {
    this.queries.push(query);
    return this.inner.search(query, limit);
  }
  details(ids: number[]): Promise<MalAnimeDetails[]> {
    this.detailCalls++;
    return this.inner.details(ids);
  }
}

let catalog: CatalogCandidateSource;
beforeAll(async () => {
  catalog = new CatalogCandidateSource(await loadCatalog(FIXTURE));
});

describe('Matcher', () => {
  it('matches a series title to its first TV season, auto-accepted when the season is named', async () => {
    const result = await new Matcher(catalog).match({ seriesTitle: 'Mob Psycho 100', seasonTitle: 'Mob Psycho 100', seasonNumber: 1 });
    expect(result.malId).toBe(32182);
    expect(result.needsReview).toBe(false);
    expect(result.confidence).toBeGreaterThan(0.8);
    expect(result.explanation.signals?.title).toBeGreaterThan(0.95);
    expect(result.explanation.text).toContain('Mob Psycho 100');
    expect(result.candidates.length).toBeGreaterThan(1);
  });

  it('walks the sequel chain to the requested season', async () => {
    const matcher = new Matcher(catalog);
    expect((await matcher.match({ seriesTitle: 'Mob Psycho 100', seasonTitle: 'Mob Psycho 100', seasonNumber: 3 })).malId).toBe(50172);
    expect((await matcher.match({ seriesTitle: 'Attack on Titan', seasonTitle: 'Attack on Titan', seasonNumber: 2 })).malId).toBe(25777);
  });

  it('ignores dub tags in the season title', async () => {
    const result = await new Matcher(catalog).match({
      seriesTitle: 'Attack on Titan',
      seasonTitle: 'Attack on Titan Season 2 (English Dub)',
      seasonNumber: 2,
    });
    expect(result.malId).toBe(25777);
  });

  it('splits one CR season over two MAL entries (split cour) with an episode offset', async () => {
    const result = await new Matcher(catalog).match({
      seriesTitle: 'Attack on Titan',
      seasonTitle: 'Attack on Titan Season 3',
      seasonNumber: 3,
      episodeCount: 22,
    });
    expect(result.malId).toBe(35760);
    expect(result.segments).toEqual([
      { malId: 35760, firstEpisode: 1, lastEpisode: 12, episodeOffset: 0 },
      { malId: 38524, firstEpisode: 13, lastEpisode: null, episodeOffset: 12 },
    ]);
  });

  it('matches a movie to the movie entry, not the TV series', async () => {
    const result = await new Matcher(catalog).match({ seriesTitle: 'Cowboy Bebop: The Movie', mediaType: 'movie' });
    expect(result.malId).toBe(5);
  });

  it('handles titles longer than the 64-character search limit', async () => {
    const source = new RecordingSource(catalog);
    const title = "Banished From The Hero's Party, I Decided To Live A Quiet Life In The Countryside";
    expect(title.length).toBeGreaterThan(64);
    const result = await new Matcher(source).match({ seriesTitle: title });
    expect(result.malId).toBe(44037);
    expect(source.queries.length).toBeGreaterThan(0);
    for (const query of source.queries) {
      expect(query.length).toBeLessThanOrEqual(MAL_QUERY_MAX);
      expect(query.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('matches titles that differ only in punctuation and spacing', async () => {
    const matcher = new Matcher(catalog);
    for (const title of ['steinsgate', 'Steins Gate', 'STEINS;GATE', 'Steins-Gate!']) {
      const result = await matcher.match({ seriesTitle: title });
      expect(result.malId, title).toBe(9253);
    }
  });

  it('returns no guess for a title with no good candidate', async () => {
    const result = await new Matcher(catalog).match({ seriesTitle: 'Zyxwv Quorblefrump Chronicles' });
    expect(result.malId).toBeNull();
    expect(result.needsReview).toBe(true);
    expect(result.confidence).toBe(0);
    expect(result.segments).toEqual([]);
  });

  it('returns no guess when no query can be formed (titles under 3 characters)', async () => {
    const source = new RecordingSource(catalog);
    const result = await new Matcher(source).match({ seriesTitle: 'K' });
    expect(result.malId).toBeNull();
    expect(result.needsReview).toBe(true);
    expect(source.queries).toEqual([]);
  });

  it('consults the mapping cache before searching', async () => {
    const cache = new InMemoryMappingCache();
    await cache.put({ seasonKey: 'S1:abc', malId: 9253, episodeOffset: 0, confidence: 1, source: 'user', updatedAt: '2026-01-01T00:00:00Z' });
    const source = new RecordingSource(catalog);
    const result = await new Matcher(source, { cache }).match({ seasonKey: 'S1:abc', seriesTitle: 'Mob Psycho 100' });
    expect(result.malId).toBe(9253);
    expect(result.explanation.source).toBe('cache');
    expect(source.queries).toEqual([]);
  });

  it('sends a low-confidence result to review when the threshold demands more', async () => {
    const result = await new Matcher(catalog, { autoAcceptThreshold: 1.01 }).match({ seriesTitle: 'Mob Psycho 100' });
    expect(result.malId).toBe(32182);
    expect(result.needsReview).toBe(true);
  });
});

describe('Matcher: generic signals', () => {
  it('steers by a media-type word in the title (OVA, Movie)', async () => {
    const matcher = new Matcher(catalog);
    expect((await matcher.match({ seriesTitle: 'Attack on Titan OAD' })).malId).toBe(18397);
    expect((await matcher.match({ seriesTitle: 'K-ON! The Movie' })).malId).toBe(9617);
  });

  it('separates identical-title remakes by the stated year', async () => {
    const matcher = new Matcher(catalog);
    expect((await matcher.match({ seriesTitle: 'Fruits Basket', year: 2001 })).malId).toBe(120);
    expect((await matcher.match({ seriesTitle: 'Fruits Basket', year: 2019 })).malId).toBe(38680);
  });

  it('without a year prefers the recent remake but does not auto-accept a franchise ambiguity blindly', async () => {
    const result = await new Matcher(catalog).match({ seriesTitle: 'Fruits Basket' });
    expect(result.malId).toBe(38680);
    expect(result.candidates.map((c) => c.malId)).toContain(120);
  });

  it('matches a slug abbreviation that ends a longer title', async () => {
    const result = await new Matcher(catalog).match({ seriesTitle: 'bladedance' });
    expect(result.malId).toBe(22877);
  });

  it('matches the English and romanised titles written one after the other', async () => {
    const result = await new Matcher(catalog).match({ seriesTitle: 'Desert Punk Sunabouzu' });
    expect(result.malId).toBe(25);
    expect(result.explanation.signals?.titleMatchedOn).toContain('+');
  });

  it('gives a series-level title of a multi-season franchise less confidence than the named first season', async () => {
    const matcher = new Matcher(catalog);
    const bare = await matcher.match({ seriesTitle: 'Mob Psycho 100' });
    const named = await matcher.match({ seriesTitle: 'Mob Psycho 100', seasonTitle: 'Mob Psycho 100', seasonNumber: 1 });
    expect(bare.malId).toBe(32182);
    expect(named.malId).toBe(32182);
    expect(bare.confidence).toBeLessThan(named.confidence);
    expect(bare.explanation.text).toContain('later seasons');
  });

  it('reports candidate scores as choice probabilities (0..1, best first)', async () => {
    const result = await new Matcher(catalog).match({ seriesTitle: 'Attack on Titan', seasonTitle: 'Attack on Titan Season 2', seasonNumber: 2 });
    const scores = result.candidates.map((c) => c.score);
    expect(scores.every((p) => p >= 0 && p <= 1)).toBe(true);
    expect(scores.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1.000001);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });
});

describe('Matcher: word recall and work titles (synthetic catalog)', () => {
  const entries = [
    { mal_id: 9001, title: 'Hoshikaze The Animation', type: 'tv', episodes: 13, year: 2010, season: 'winter', start_date: '2010-01-02' },
    { mal_id: 9002, title: 'Hoshikaze The Animation: The Starblade', type: 'ova', episodes: 4, year: 2008, season: 'summer', start_date: '2008-08-29' },
    { mal_id: 9011, title: 'Kumori Sketch', type: 'tv', episodes: 12, year: 2014, season: 'summer', start_date: '2014-07-07' },
    { mal_id: 9012, title: 'Kumori Sketch: Data_xx_Transitory Extra Chapter', type: 'special', episodes: 1, year: 2014, season: 'fall', start_date: '2014-12-24' },
  ];
  const source = () => new CatalogCandidateSource(entries);

  it('prefers the entry whose title has every word of the request over a closer but shorter title', async () => {
    const result = await new Matcher(source()).match({ seriesTitle: 'Hoshikaze the Starblade' });
    expect(result.malId).toBe(9002);
  });

  it('matches "X OVA" to an OVA/special titled "X: Subtitle" rather than the TV series X', async () => {
    const result = await new Matcher(source()).match({ seriesTitle: 'Kumori Sketch OVA' });
    expect(result.malId).toBe(9012);
    expect((await new Matcher(source()).match({ seriesTitle: 'Kumori Sketch' })).malId).toBe(9011);
  });
});

describe('model', () => {
  const candidate = (malId: number, title: number, franchise: number[] = [malId]) => ({
    malId,
    // CHOICE_FEATURES order; wordRecall follows the title similarity here.
    x: [title, title >= 0.97 ? 1 : 0, 0, 1, 0, 0, 1, 0, 0.5, 0, title, ...new Array(CHOICE_FEATURES.length - 11).fill(0)],
    franchise: new Set(franchise),
    title,
    laterSpread: 0,
  });

  it('the settings default auto-accept threshold is the fitted one (one truth)', () => {
    expect(DEFAULT_SETTINGS.autoAcceptThreshold).toBe(FITTED_MODEL.autoAcceptThreshold);
    expect(DEFAULT_AUTO_ACCEPT_THRESHOLD).toBe(FITTED_MODEL.autoAcceptThreshold);
  });

  it('uses the committed weights with one coefficient per feature', () => {
    expect(FITTED_MODEL.choice).toHaveLength(CHOICE_FEATURES.length);
    expect(FITTED_MODEL.confidence).toHaveLength(CONFIDENCE_FEATURES.length);
    expect(FITTED_MODEL.autoAcceptThreshold).toBeGreaterThan(0.5);
    expect(FITTED_MODEL.autoAcceptThreshold).toBeLessThan(1);
  });

  it('chooses the highest utility and is more confident the clearer the lead', () => {
    const clear = decide({ seasonIsExplicit: false, candidates: [candidate(1, 1), candidate(2, 0.6)] });
    const close = decide({ seasonIsExplicit: false, candidates: [candidate(1, 1), candidate(2, 0.95)] });
    expect(clear.best).toBe(0);
    expect(close.best).toBe(0);
    expect(clear.confidence).toBeGreaterThan(close.confidence);
    expect(clear.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  it('lowers confidence for a first season with later seasons far apart in time', () => {
    const base = { seasonIsExplicit: false, candidates: [candidate(1, 1), candidate(2, 0.7)] };
    const spread = { ...base, candidates: [{ ...candidate(1, 1), laterSpread: 1 }, candidate(2, 0.7)] };
    expect(decide(spread).confidence).toBeLessThan(decide(base).confidence);
  });
});

describe('buildQueries', () => {
  it('drops dub tags and season markers and keeps every query within 3..64 characters', () => {
    const queries = buildQueries({ seriesTitle: 'Attack on Titan', seasonTitle: 'Attack on Titan Season 3 Part 2 (English Dub)' });
    expect(queries).toContain('Attack on Titan Season 3 Part 2');
    expect(queries).toContain('attack on titan');
    expect(queries.every((q) => q.length >= 3 && q.length <= 64)).toBe(true);
    expect(queries.some((q) => /dub/i.test(q))).toBe(false);
  });
});
