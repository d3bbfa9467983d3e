/**
 * Season-level matching: every fact of a CR season counts (season title as a subtitle, the words that
 * tell two entries apart, CR's own season counting, parts/cours, episode numbers, air dates, durations,
 * the identifier). The catalog here is synthetic — invented shows laid out the way MAL and TVDB lay out
 * real ones — so the tests exercise the generic signals, not remembered titles.
 */
import { describe, expect, it } from 'vitest';
import { CatalogCandidateSource, type CatalogEntry } from '../../functions/matching/catalog-source';
import { Matcher } from '../../functions/matching/matcher';
import { titleSimilarity } from '../../functions/matching/text';
import type { MatchRequest, MatchResult } from '../../functions/matching/types';

let nextTvdb = 900_000;
interface Part {
  id: number;
  title: string;
  en?: string;
  type?: string;
  episodes?: number;
  start: string;
  /** TVDB season (0: side story) and episode offset within it. */
  season: number;
  offset?: number;
  synonyms?: string[];
}
function show(parts: Part[]): CatalogEntry[] {
  const tvdb = nextTvdb++;
  return parts.map((p) => ({
    mal_id: p.id,
    title: p.title,
    title_english: p.en ?? null,
    synonyms: p.synonyms ?? [],
    type: p.type ?? 'tv',
    episodes: p.episodes ?? 12,
    year: Number(p.start.slice(0, 4)),
    start_date: p.start,
    status: 'Finished Airing',
    tvdb: { id: tvdb, season: p.season, epoffset: p.offset ?? 0 },
  }));
}

const catalog: CatalogEntry[] = [
  // A show whose later seasons are known by arc names, one of them also as a film.
  ...show([
    { id: 7001, title: 'Tsurugi no Kiba', en: 'Blade Fang: Tsurugi no Kiba', episodes: 26, start: '2019-04-06', season: 1 },
    { id: 7002, title: 'Tsurugi no Kiba: Minato-machi-hen', en: 'Blade Fang: Tsurugi no Kiba Harbor Town Arc', episodes: 7, start: '2021-10-10', season: 2, synonyms: ['Blade Fang: Tsurugi no Kiba Season 2'] },
    { id: 7003, title: 'Tsurugi no Kiba: Tetsu no Shiro-hen', en: 'Blade Fang: Tsurugi no Kiba Iron Fortress Arc', episodes: 11, start: '2022-01-09', season: 3, synonyms: ['Blade Fang: Tsurugi no Kiba Season 2'] },
    { id: 7004, title: 'Tsurugi no Kiba: Kaze no Mura-hen', en: 'Blade Fang: Tsurugi no Kiba Wind Village Arc', episodes: 11, start: '2023-04-09', season: 4 },
    { id: 7005, title: 'Tsurugi no Kiba Movie: Minato-machi-hen', en: 'Blade Fang: Tsurugi no Kiba - The Movie: Harbor Town', type: 'movie', episodes: 1, start: '2020-10-16', season: 0, offset: 1 },
  ]),
  // A second season split into two cours, each its own MAL entry.
  ...show([
    { id: 7101, title: 'Nebaneba Tensei', en: 'Reborn as a Puddle', episodes: 24, start: '2018-10-02', season: 1 },
    { id: 7102, title: 'Nebaneba Tensei 2nd Season', en: 'Reborn as a Puddle Season 2', episodes: 12, start: '2021-01-12', season: 2 },
    { id: 7103, title: 'Nebaneba Tensei 2nd Season Part 2', en: 'Reborn as a Puddle Season 2 Part 2', episodes: 12, start: '2021-07-06', season: 2, offset: 12, synonyms: ['Reborn as a Puddle Season 2'] },
    { id: 7104, title: 'Nebaneba Tensei 3rd Season', en: 'Reborn as a Puddle Season 3', episodes: 24, start: '2024-04-02', season: 3 },
  ]),
  // Two halves of one story whose titles differ in one word.
  { mal_id: 7201, title: 'Kagami no Kuni: Side Omote', title_english: 'Mirror Country Side A', type: 'ona', episodes: 6, year: 2022, start_date: '2022-03-01', status: 'Finished Airing' },
  { mal_id: 7202, title: 'Kagami no Kuni: Side Ura', title_english: 'Mirror Country Side B', type: 'ona', episodes: 6, year: 2022, start_date: '2022-03-01', status: 'Finished Airing' },
  // A long first run, then a new TVDB show for what MAL lists as its sequels: CR numbers on from it.
  ...show([{ id: 7401, title: 'Kinpika Gakuen', en: 'Golden Academy', episodes: 50, start: '2006-04-04', season: 1 }]),
  // Its remake, years later, and the remake's short spin-off (no TVDB place, no episode count).
  ...show([{ id: 7405, title: 'Kinpika Gakuen (2019)', en: 'Golden Academy (2019)', episodes: 50, start: '2019-10-01', season: 1 }]),
  { mal_id: 7406, title: 'Kinpika Gakuen (2019): Hoshuu Jikan', title_english: 'Golden Academy (2019): Extra Lessons', type: 'ona', year: 2020, start_date: '2020-02-20', status: 'Finished Airing' },
  ...show([
    { id: 7402, title: 'Kinpika Gakuen Returns', en: 'Golden Academy Returns', episodes: 12, start: '2011-04-04', season: 1 },
    { id: 7403, title: 'Kinpika Gakuen Returns: Encore', en: 'Golden Academy Returns: Encore', episodes: 13, start: '2012-10-04', season: 2 },
    { id: 7404, title: 'Kinpika Gakuen Returns: Finale', en: 'Golden Academy Returns: Finale', episodes: 12, start: '2015-04-08', season: 3 },
  ]),
  // A first season in two cours whose special (no TVDB place) is listed as its sequel, as MAL lists a
  // film or special that continues the story.
  ...show([
    { id: 7501, title: 'Ookami Tensei', en: 'Wolf Rebirth', episodes: 11, start: '2021-01-11', season: 1 },
    { id: 7502, title: 'Ookami Tensei Part 2', en: 'Wolf Rebirth Part 2', episodes: 12, start: '2021-10-04', season: 1, offset: 11 },
    { id: 7503, title: 'Ookami Tensei II', en: 'Wolf Rebirth Season 2', episodes: 12, start: '2023-07-10', season: 2 },
  ]).map((entry) => (entry.mal_id === 7501 ? { ...entry, relations: { episode_redirects: [['24', 7504, '1']] as Array<[string, number, string]> } } : entry)),
  { mal_id: 7504, title: 'Ookami Tensei: Kobold Taiji', title_english: 'Wolf Rebirth: Kobold Hunt', type: 'special', episodes: 1, year: 2022, start_date: '2022-07-01', status: 'Finished Airing' },
  // A recap special between two seasons, and a show whose episodes run on across seasons.
  ...show([
    { id: 7301, title: 'Hoshi no Umi', en: 'Sea of Stars', episodes: 12, start: '2016-01-08', season: 1 },
    { id: 7303, title: 'Hoshi no Umi 2', en: 'Sea of Stars Season 2', episodes: 12, start: '2018-01-12', season: 2 },
    { id: 7304, title: 'Hoshi no Umi 3', en: 'Sea of Stars Season 3', episodes: 13, start: '2020-01-10', season: 3 },
    { id: 7302, title: 'Hoshi no Umi: Recap', en: 'Sea of Stars Recap', type: 'special', episodes: 1, start: '2017-12-28', season: 0, offset: 1 },
  ]),
];

const matcher = () => new Matcher(new CatalogCandidateSource(catalog));
const match = (request: MatchRequest): Promise<MatchResult> => matcher().match(request);

describe('season title as a subtitle of the series title', () => {
  it('finds an arc-named season under its series, not the first season', async () => {
    const result = await match({ seriesTitle: 'Blade Fang: Tsurugi no Kiba', seasonTitle: 'Iron Fortress Arc', seasonNumber: 3 });
    expect(result.malId).toBe(7003);
    expect(result.explanation.text).toContain('season-title words');
  });

  it('tells two arcs apart by their names even when CR counts differently and a synonym says otherwise', async () => {
    // The Iron Fortress entry carries the western "Season 2" synonym; the arc name decides.
    expect((await match({ seriesTitle: 'Blade Fang: Tsurugi no Kiba', seasonTitle: 'Harbor Town Arc', seasonNumber: 2 })).malId).toBe(7002);
    expect((await match({ seriesTitle: 'Blade Fang: Tsurugi no Kiba', seasonTitle: 'Harbor Town Arc', seasonNumber: null })).malId).toBe(7002);
    expect((await match({ seriesTitle: 'Blade Fang: Tsurugi no Kiba', seasonTitle: 'Wind Village Arc (English Dub)', seasonNumber: 5 })).malId).toBe(7004);
  });

  it('keeps the first season for the series title itself', async () => {
    const result = await match({ seriesTitle: 'Blade Fang: Tsurugi no Kiba', seasonTitle: 'Blade Fang: Tsurugi no Kiba', seasonNumber: 1 });
    expect(result.malId).toBe(7001);
    expect(result.needsReview).toBe(false);
  });

  it('takes the film for a long single episode and the TV arc for episodes', async () => {
    const film = await match({ seriesTitle: 'Blade Fang: Tsurugi no Kiba', seasonTitle: 'The Movie: Harbor Town', episodeNumbers: [1], durationMs: 117 * 60_000 });
    expect(film.malId).toBe(7005);
    const tv = await match({ seriesTitle: 'Blade Fang: Tsurugi no Kiba', seasonTitle: 'Harbor Town Arc', episodeNumbers: [1, 2, 3, 4, 5, 6, 7], durationMs: 24 * 60_000 });
    expect(tv.malId).toBe(7002);
  });
});

describe('split cours', () => {
  it('matches "Season 2 (Part 2)" to the second cour, and "Season 2" to the first', async () => {
    const part2 = await match({ seriesTitle: 'Reborn as a Puddle', seasonTitle: 'Reborn as a Puddle Season 2 (Part 2)', seasonNumber: 3 });
    expect(part2.malId).toBe(7103);
    const part1 = await match({ seriesTitle: 'Reborn as a Puddle', seasonTitle: 'Reborn as a Puddle Season 2', seasonNumber: 2 });
    expect(part1.malId).toBe(7102);
  });

  it('reads the cour from the air dates when the title names no part', async () => {
    const airDates = Array.from({ length: 12 }, (_, k) => new Date(Date.UTC(2021, 6, 6 + 7 * k)).toISOString().slice(0, 10));
    const result = await match({ seriesTitle: 'Reborn as a Puddle', seasonTitle: 'Reborn as a Puddle Season 2', seasonNumber: null, airDates });
    expect(result.malId).toBe(7103);
  });

  it('maps episode numbers that run on within the season to the second cour with its offset', async () => {
    const episodeNumbers = Array.from({ length: 12 }, (_, k) => 13 + k);
    const result = await match({ seriesTitle: 'Reborn as a Puddle', seasonTitle: 'Reborn as a Puddle Season 2', seasonNumber: 2, episodeNumbers });
    // Either reading (the second cour, or the whole season watched from its 13th episode) lands there.
    expect(result.malId).toBe(7103);
    expect(result.segments[0]).toEqual({ malId: 7103, firstEpisode: 13, lastEpisode: null, episodeOffset: 12 });
  });

  it('splits one CR season over both cours when its episodes run past the first', async () => {
    const episodeNumbers = Array.from({ length: 24 }, (_, k) => 1 + k);
    const result = await match({ seriesTitle: 'Reborn as a Puddle', seasonTitle: 'Reborn as a Puddle Season 2', seasonNumber: 2, episodeNumbers });
    expect(result.malId).toBe(7102);
    expect(result.segments).toEqual([
      { malId: 7102, firstEpisode: 1, lastEpisode: 12, episodeOffset: 0 },
      { malId: 7103, firstEpisode: 13, lastEpisode: null, episodeOffset: 12 },
    ]);
  });

  it('uses the identifier when CR gives no season number', async () => {
    const result = await match({ seriesTitle: 'Sea of Stars', seasonTitle: 'Sea of Stars', seasonNumber: null, identifier: 'GSTARS|S3|E1' });
    expect(result.malId).toBe(7304);
  });
});

describe('distinguishing words', () => {
  it('one differing word decides between two near-identical titles, and the wrong half is never auto-accepted', async () => {
    // The two titles are nearly identical as strings: overall similarity alone cannot separate them.
    expect(titleSimilarity('Mirror Country Side A', 'Mirror Country Side B')).toBeGreaterThan(0.75);
    for (const [title, id, other] of [
      ['Mirror Country Side A', 7201, 7202],
      ['Mirror Country Side B', 7202, 7201],
    ] as const) {
      const result = await match({ seriesTitle: 'Mirror Country', seasonTitle: title, seasonNumber: null });
      expect(result.malId, title).toBe(id);
      const wrong = result.candidates.find((c) => c.malId === other);
      expect(wrong === undefined || wrong.score < result.confidence, title).toBe(true);
    }
  });

  it('a recap is matched only when the season says recap, even when CR counts it as a season', async () => {
    const recap = await match({ seriesTitle: 'Sea of Stars', seasonTitle: 'Sea of Stars Recap', seasonNumber: 2 });
    expect(recap.malId).toBe(7302);
    // CR counted the recap as season 2, so the real second season arrives as CR season 3.
    const second = await match({ seriesTitle: 'Sea of Stars', seasonTitle: 'Sea of Stars Season 2', seasonNumber: 3 });
    expect(second.malId).toBe(7303);
    const first = await match({ seriesTitle: 'Sea of Stars', seasonTitle: 'Sea of Stars', seasonNumber: 1 });
    expect(first.malId).toBe(7301);
  });

  it('maps numbering that runs on across the show to the right season and offset', async () => {
    const episodeNumbers = Array.from({ length: 12 }, (_, k) => 13 + k);
    const result = await match({ seriesTitle: 'Sea of Stars', seasonTitle: 'Sea of Stars', seasonNumber: null, episodeNumbers });
    expect(result.malId).toBe(7303);
    expect(result.segments[0].episodeOffset).toBe(12);
  });
});

describe('episode numbers past the chosen entry', () => {
  const weekly = (start: string, count: number) => Array.from({ length: count }, (_, k) => new Date(Date.parse(start) + k * 7 * 86_400_000).toISOString().slice(0, 10));
  const numbers = (first: number, count: number) => Array.from({ length: count }, (_, k) => first + k);

  it('stay on the chosen entry when they run on from a run outside its chain (no walk to a later sequel)', async () => {
    const result = await match({ seriesTitle: 'Golden Academy', seasonTitle: 'Golden Academy Returns', seasonNumber: 2, episodeNumbers: numbers(51, 12), airDates: weekly('2011-04-04', 12) });
    expect(result.malId).toBe(7402);
    expect(result.segments).toEqual([{ malId: 7402, firstEpisode: 51, lastEpisode: null, episodeOffset: 50 }]);
  });

  it('place the second cour on its chain even when a side story of the first season is also its sequel', async () => {
    const result = await match({ seriesTitle: 'Wolf Rebirth', seasonTitle: 'Wolf Rebirth Cour 2', seasonNumber: 2, episodeNumbers: numbers(12, 12), airDates: weekly('2021-10-04', 12) });
    expect(result.malId).toBe(7502);
    expect(result.segments).toEqual([{ malId: 7502, firstEpisode: 12, lastEpisode: null, episodeOffset: 11 }]);
  });

  it('count from the entry\'s first episode when they start inside its count, end past it and began when it did', async () => {
    // 12 numbers from 12 on for a 12-episode entry that began the day the first of them aired.
    const result = await match({ seriesTitle: 'Golden Academy', seasonTitle: 'Golden Academy Returns: Finale', seasonNumber: 4, episodeNumbers: numbers(12, 12), airDates: weekly('2015-04-08', 12) });
    expect(result.malId).toBe(7404);
    expect(result.segments).toEqual([{ malId: 7404, firstEpisode: 12, lastEpisode: null, episodeOffset: 11 }]);
    // Episodes 10–14 of a season whose first cour has 12, aired weeks into it: the end of that cour, then the next.
    const across = await match({ seriesTitle: 'Reborn as a Puddle', seasonTitle: 'Reborn as a Puddle Season 2', seasonNumber: 2, episodeNumbers: numbers(10, 5), airDates: weekly('2021-03-16', 5) });
    expect(across.segments).toEqual([
      { malId: 7102, firstEpisode: 10, lastEpisode: 12, episodeOffset: 0 },
      { malId: 7103, firstEpisode: 13, lastEpisode: null, episodeOffset: 12 },
    ]);
  });

  it('watched from mid-season, numbers that run on across the show stay in their season', async () => {
    // Season 2 numbered on from season 1's 12 (13…24); episodes 17–19 only, with and without dates.
    for (const airDates of [weekly('2018-02-16', 3), undefined]) {
      const result = await match({ seriesTitle: 'Sea of Stars', seasonTitle: 'Sea of Stars Season 2', seasonNumber: 2, episodeNumbers: numbers(17, 3), airDates });
      expect(result.segments, String(airDates)).toEqual([{ malId: 7303, firstEpisode: 17, lastEpisode: null, episodeOffset: 12 }]);
    }
  });

  it('watched from mid-way through a second cour numbered on within its season, choose that cour and accept it', async () => {
    // Season 2 is MAL's 7102 (1–12) and 7103 (13–24); 18–20 are 7103's episodes 6–8.
    const result = await match({ seriesTitle: 'Reborn as a Puddle', seasonTitle: 'Reborn as a Puddle Season 2', seasonNumber: 2, episodeNumbers: numbers(18, 3), airDates: weekly('2021-08-10', 3) });
    expect(result.malId).toBe(7103);
    expect(result.segments).toEqual([{ malId: 7103, firstEpisode: 18, lastEpisode: null, episodeOffset: 12 }]);
    expect(result.needsReview, result.explanation.text).toBe(false);
  });

  it('move to the sequel only when it had started by the time they aired', async () => {
    // Numbered one past the chain's count (14… for a season that follows 12 episodes), aired when season 2 began.
    const early = await match({ seriesTitle: 'Sea of Stars', seasonTitle: 'Sea of Stars Season 2', seasonNumber: 2, episodeNumbers: numbers(14, 12), airDates: weekly('2018-01-12', 12) });
    expect(early.segments).toEqual([{ malId: 7303, firstEpisode: 14, lastEpisode: null, episodeOffset: 13 }]);
    // The second cour's numbers, aired when the second cour began: its entry, as without dates.
    const later = await match({ seriesTitle: 'Reborn as a Puddle', seasonTitle: 'Reborn as a Puddle Season 2', seasonNumber: 2, episodeNumbers: numbers(13, 12), airDates: weekly('2021-07-06', 12) });
    expect(later.segments).toEqual([{ malId: 7103, firstEpisode: 13, lastEpisode: null, episodeOffset: 12 }]);
  });
});

describe('air dates', () => {
  it('a catalog upload (every episode dated the same day) does not count as the broadcast of whatever began shortly before', async () => {
    const episodeNumbers = Array.from({ length: 50 }, (_, k) => k + 1);
    const uploaded = await match({ seriesTitle: 'Golden Academy', seasonTitle: 'Golden Academy', seasonNumber: 1, episodeNumbers, airDates: episodeNumbers.map(() => '2020-03-01') });
    expect(uploaded.malId === 7405 && !uploaded.needsReview, uploaded.explanation.text).toBe(false);
    // As the sync sends it (from-history.ts: the first and last numbers and air dates only).
    const sent = await match({ seriesTitle: 'Golden Academy', seasonTitle: 'Golden Academy', seasonNumber: 1, episodeNumbers: [1, 50], airDates: ['2020-03-01'] });
    expect(sent.malId === 7405 && !sent.needsReview, sent.explanation.text).toBe(false);
    // Weekly dates from the remake's start are its broadcast: they decide.
    const broadcast = await match({ seriesTitle: 'Golden Academy', seasonTitle: 'Golden Academy', seasonNumber: 1, episodeNumbers, airDates: episodeNumbers.map((_, k) => new Date(Date.parse('2019-10-01') + k * 7 * 86_400_000).toISOString().slice(0, 10)) });
    expect(broadcast.malId).toBe(7405);
    expect(broadcast.needsReview).toBe(false);
  });
});

describe('air dates before the entry began', () => {
  it('are never auto-accepted, however sure the rest is', async () => {
    const request = { seriesTitle: 'Mirror Country', seasonTitle: 'Mirror Country Side A', seasonNumber: null, episodeNumbers: [1, 6] };
    const sure = await match({ ...request, airDates: ['2022-03-01', '2022-04-05'] });
    expect(sure.malId).toBe(7201);
    expect(sure.needsReview).toBe(false);
    // The same season dated a year before MAL's start of 7201 (2022-03-01).
    const early = await match({ ...request, airDates: ['2021-03-01', '2021-04-05'] });
    expect(early.malId).toBe(7201);
    expect(early.needsReview, early.explanation.text).toBe(true);
    expect(early.explanation.text).toContain('aired it before the entry began');
  });
});

describe('a year after the name', () => {
  it('"(2019)" in CR\'s title is read as MAL writes it, not as a word a spin-off shares', async () => {
    const episodeNumbers = Array.from({ length: 50 }, (_, k) => k + 1);
    const airDates = episodeNumbers.map((_, k) => new Date(Date.parse('2020-03-01') + k * 7 * 86_400_000).toISOString().slice(0, 10));
    const result = await match({ seriesTitle: 'Golden Academy (2019)', seasonTitle: 'Golden Academy (2019) (Portuguese Dub)', seasonNumber: 1, episodeNumbers, airDates });
    expect(result.malId, result.explanation.text).toBe(7405);
  });
});

describe('candidates for review agree with the decision', () => {
  it('the chosen candidate carries the confidence; no other candidate scores above it', async () => {
    const result = await match({ seriesTitle: 'Reborn as a Puddle', seasonTitle: 'Reborn as a Puddle Season 2', seasonNumber: null });
    expect(result.candidates[0].malId).toBe(result.malId);
    expect(result.candidates[0].score).toBeCloseTo(result.confidence, 3);
    for (const candidate of result.candidates.slice(1)) expect(candidate.score).toBeLessThanOrEqual(result.confidence);
    expect(result.candidates.reduce((sum, c) => sum + c.score, 0)).toBeLessThanOrEqual(1.0001);
  });

  it('when the matcher rejects every candidate, none is offered with a score', async () => {
    // Shares a word with the catalog's titles but names none of them.
    const result = await match({ seriesTitle: 'Sea Punch Warriors' });
    expect(result.malId).toBeNull();
    expect(result.candidates.length).toBeGreaterThan(0);
    for (const candidate of result.candidates) expect(candidate.score).toBe(0);
  });
});
