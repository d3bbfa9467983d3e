/**
 * CR's real responses and what CR clients store, one fixture per quirk (test/fixtures/cr): each is read
 * leniently, unusable entries are skipped with a path and a reason, and what is kept is bounded.
 */
import { describe, expect, it } from 'vitest';
import { mergeSkipReports, normaliseHistory, parseHistory, skipReport, type CrSeason } from '../../functions/history';
import { crFixture } from './fixtures';

const NOW = Date.UTC(2026, 11, 1);

const read = (name: string) => normaliseHistory(crFixture(name), { now: NOW });
const numbers = (season: CrSeason) => season.episodes.map((e) => e.number);

describe('CR shapes', () => {
  it('v2 root {total, data, meta} without season_id: stable season keys from series id, identifier/season number and title', () => {
    const history = read('v2-no-season-id.json');
    expect(history.format).toBe('cr-v2');
    expect(history.skipped).toEqual([]);
    expect(history.seasons.map((s) => [s.seriesId, s.seasonTitle, s.seasonNumber, numbers(s)])).toEqual([
      ['GG5H5XQ7D', "Frieren: Beyond Journey's End", 1, [1, 2, 3, 4]],
      ['GRDV0019R', 'JUJUTSU KAISEN', 1, [1, 2, 3]],
      ['GRDV0019R', 'JUJUTSU KAISEN Season 2', 2, [1, 2]],
    ]);
    const keys = history.seasons.map((s) => s.seasonKey);
    expect(new Set(keys).size).toBe(3);
    expect(keys[0]).toMatch(/^GG5H5XQ7D:S1~[0-9a-f]{12}$/);
    // Stable: the same season from another document (entries reversed, extra fields) gets the same key.
    const doc = crFixture('v2-no-season-id.json');
    doc.data.reverse();
    doc.data.forEach((e: any) => (e.panel.episode_metadata.extra_field = { nested: [1, 2] }));
    expect(normaliseHistory(doc, { now: NOW }).seasons.map((s) => s.seasonKey)).toEqual(keys);
    expect(history.seasons.every((s) => Buffer.byteLength(`MATCH#${s.seasonKey}`) < 300)).toBe(true);
  });

  it('v1 root {items, next_page}: both fullywatched and the later fully_watched spelling', () => {
    const history = read('v1-items.json');
    expect(history.format).toBe('cr-v1');
    const [season] = history.seasons;
    expect(season.episodes.map((e) => [e.number, e.fullyWatched])).toEqual([[1, true], [2, true], [3, true], [4, true], [5, false]]);
  });

  it('v1 fully_watched is read (playhead alone would say not watched)', () => {
    const history = read('quirk-fully-watched-v1.json');
    expect(history.seasons[0].episodes.every((e) => e.fullyWatched && e.progress === 1)).toBe(true);
  });

  it('v1 and v2 entries in one file: a v1 entry inside data[] and an items[] list beside it', () => {
    const history = read('mixed-v1-v2.json');
    expect(history.format).toBe('mixed');
    expect(history.skipped).toEqual([]);
    expect(history.seasons.map((s) => [s.seriesTitle, numbers(s), s.episodes.every((e) => e.fullyWatched)])).toEqual([
      ['Demon Slayer: Kimetsu no Yaiba', [1, 2], true],
      ["Frieren: Beyond Journey's End", [1, 2, 3], true],
    ]);
    expect(parseHistory(crFixture('mixed-v1-v2.json'), { now: NOW }).entries).toHaveLength(5);
  });

  it('movies from movie_metadata (listing id from parent_id when absent) and from an identifier "SERIES|M"', () => {
    const movies = read('movies.json');
    expect(movies.seasons).toEqual([]);
    expect(movies.movies.map((m) => [m.seasonKey, m.seriesTitle])).toEqual([
      ['movie:GMNOLISTID', 'Cowboy Bebop: The Movie'],
      ['movie:GMDSMUGEN', 'Demon Slayer: Kimetsu no Yaiba - The Movie: Mugen Train'],
      ['movie:GZJH3D719', 'Jujutsu Kaisen 0'],
    ]);
    const spy = read('quirk-dub-season-number.json');
    expect(spy.movies).toHaveLength(1);
    expect(spy.movies[0]).toMatchObject({ isMovie: true, seriesId: 'G4PH0WXVJ', seasonTitle: 'SPY x FAMILY CODE: White' });
    expect(spy.movies[0].seasonKey).toMatch(/^movie:G4PH0WXVJ~M~/);
  });
});

describe('CR quirks', () => {
  it('a special with episode_number null (sequence_number 6.5, or an "SP" label) is skipped as a special, never episode 6.5', () => {
    const history = read('quirk-special-null-episode.json');
    expect(numbers(history.seasons[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(history.skipped).toEqual([
      { path: 'data[6].panel.episode_metadata.sequence_number', reason: 'SPECIAL_EPISODE' },
      { path: 'data[7].panel.episode_metadata.episode', reason: 'SPECIAL_EPISODE' },
    ]);
  });

  it('a v2 entry without panel is recovered through its id (a replay, or another audio version); the rest are skipped', () => {
    const history = read('quirk-panel-null-v2.json');
    expect(history.seasons).toHaveLength(1);
    const [season] = history.seasons;
    expect(season.foldedSeasonIds).toEqual(['GYE5CQNJ2', 'GYE5EN001']);
    expect(season.episodes.map((e) => [e.number, e.plays])).toEqual([[1, 1], [2, 2], [3, 2]]);
    expect(season.episodes[1].lastWatchedAt).toBe('2026-01-11T20:00:00.000Z');
    expect(history.skipped).toEqual([
      { path: 'data[4].panel', reason: 'PANEL_MISSING' },
      { path: 'data[6].panel', reason: 'PANEL_MISSING' },
    ]);
  });

  it('a v1 entry without panel does not refuse the upload: it is skipped, the others are read', () => {
    const history = read('quirk-panel-null-v1.json');
    expect(numbers(history.seasons[0])).toEqual([1, 2]);
    expect(history.skipped).toEqual([{ path: 'items[1].panel', reason: 'PANEL_MISSING' }]);
  });

  it('a dub with its own season number and versions null is folded by identifier or tagged title', () => {
    const history = read('quirk-dub-season-number.json');
    expect(history.seasons).toHaveLength(1);
    expect(history.seasons[0]).toMatchObject({ seasonId: 'GRGGCV1ZY', seasonNumber: 1, seasonTitle: 'SPY x FAMILY', foldedSeasonIds: ['GR2XCVP3Z', 'GRDUBDE01', 'GRGGCV1ZY'] });
    expect(numbers(history.seasons[0])).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('season_sequence_number does not order seasons; distinct seasons share a number; seasons titled as the series stay apart', () => {
    const history = read('quirk-season-order.json');
    const byId = new Map(history.seasons.map((s) => [s.seasonId, s]));
    expect([...byId.keys()].sort()).toEqual(['GRZRECAP', 'GRZS1', 'GRZS2', 'GRZS3']);
    // Season 3 starts at 3 right after the recap's 2: the recap is no evidence of continuous numbering.
    expect(byId.get('GRZS3')).toMatchObject({ episodeNumberOffset: 0, episodeNumberOffsetSource: 'none' });
    expect(numbers(byId.get('GRZS3')!)).toEqual([3, 4]);
    // Season 2 numbered 26.. with CR's sequence numbers 1..: undone by them.
    expect(byId.get('GRZS2')).toMatchObject({ episodeNumberOffset: 25, episodeNumberOffsetSource: 'sequence-number' });
    expect(numbers(byId.get('GRZS1')!)).toEqual([24, 25]);
  });

  it('previous-season evidence needs exactly one season numbered one less', () => {
    const item = (seasonId: string, seasonNumber: number, seasonTitle: string, episodeNumber: number) => ({
      seriesId: 'GSHOW', seriesTitle: 'Show', seasonId, seasonTitle, seasonNumber, episodeNumber, fullyWatched: true, watchedAt: '2026-03-01T00:00:00Z',
    });
    const single = normaliseHistory({ items: [item('S1', 1, 'Show', 12), item('S2', 2, 'Show Season 2', 13)] }, { now: NOW });
    expect(single.seasons.find((s) => s.seasonId === 'S2')).toMatchObject({ episodeNumberOffset: 12, episodeNumberOffsetSource: 'previous-season' });
    const shared = normaliseHistory({ items: [item('S1', 1, 'Show', 8), item('S1B', 1, 'Show: Side Story', 4), item('S2', 2, 'Show Season 2', 5)] }, { now: NOW });
    expect(shared.seasons.find((s) => s.seasonId === 'S2')).toMatchObject({ episodeNumberOffset: 0 });
  });

  it('is_dubbed true on the original and empty audio_locale do not make the dub canonical', () => {
    const history = read('quirk-is-dubbed.json');
    expect(history.seasons).toHaveLength(1);
    expect(history.seasons[0]).toMatchObject({ seasonId: 'GDSORIG', seasonKey: 'GY5P48XEY:GDSORIG', seasonTitle: 'Demon Slayer: Kimetsu no Yaiba', audioLocales: [] });
    expect(numbers(history.seasons[0])).toEqual([1, 2, 3]);
  });

  it('the canonical season does not depend on entry order', () => {
    const doc = crFixture('quirk-is-dubbed.json');
    doc.data.reverse();
    expect(normaliseHistory(doc, { now: NOW }).seasons[0].seasonKey).toBe('GY5P48XEY:GDSORIG');
  });
});

describe('bounds', () => {
  it('skips over-long ids, out-of-range numbers and dates, long titles, bad types and junk, each with its path; keeps the rest', () => {
    const history = read('bounds.json');
    expect(history.skipped).toEqual([
      { path: 'data[1].panel.episode_metadata.season_id', reason: 'ID_TOO_LONG' },
      { path: 'data[2].panel.episode_metadata.episode_number', reason: 'OUT_OF_RANGE' },
      { path: 'data[3].date_played', reason: 'OUT_OF_RANGE' },
      { path: 'data[5].panel.episode_metadata.season_title', reason: 'TITLE_TOO_LONG' },
      { path: 'data[6].panel.episode_metadata.series_id', reason: 'INVALID_ID' },
      { path: 'data[7].panel.episode_metadata.episode_number', reason: 'INVALID_FIELD' },
      { path: 'data[8].date_played', reason: 'INVALID_FIELD' },
      { path: 'data[9]', reason: 'NOT_AN_ENTRY' },
      { path: 'data[10]', reason: 'NOT_AN_ENTRY' },
      { path: 'data[11].playhead', reason: 'OUT_OF_RANGE' },
    ]);
    // Control characters are removed from titles; the entry is kept.
    expect(history.seasons).toHaveLength(1);
    expect(history.seasons[0].seriesTitle).toBe("Frieren: Beyond Journey's End");
    expect(numbers(history.seasons[0])).toEqual([1, 5]);
  });

  it('dates: epoch milliseconds accepted, the future and before 2000 not', () => {
    const entry = (date: unknown) => ({ seriesId: 'G', seriesTitle: 'Show', seasonId: 'S', episodeNumber: 1, watchedAt: date });
    const history = normaliseHistory({ items: [entry(Date.UTC(2026, 0, 2)), entry('2031-01-01T00:00:00Z'), entry('1999-12-31T00:00:00Z'), entry(1e20)] }, { now: NOW });
    expect(history.seasons[0].episodes[0].firstWatchedAt).toBe('2026-01-02T00:00:00.000Z');
    expect(history.skipped.map((s) => s.reason)).toEqual(['OUT_OF_RANGE', 'OUT_OF_RANGE', 'OUT_OF_RANGE']);
  });
});

describe('the skipped-entries report', () => {
  it('counts per reason, most frequent first, with at most 10 paths each; parts merge in order', () => {
    const skipped = Array.from({ length: 12 }, (_, i) => ({ path: `data[${i}].panel`, reason: 'PANEL_MISSING' as const }));
    const report = skipReport([...skipped, { path: 'data[20]', reason: 'NOT_AN_ENTRY' }]);
    expect(report.total).toBe(13);
    expect(report.reasons.map((r) => [r.reason, r.count, r.paths.length])).toEqual([['PANEL_MISSING', 12, 10], ['NOT_AN_ENTRY', 1, 1]]);
    expect(report.reasons[0].message).toMatch(/no panel/);
    const merged = mergeSkipReports([skipReport([{ path: 'data[1]', reason: 'NOT_AN_ENTRY' }], 'part 1: '), null, skipReport([{ path: 'data[0]', reason: 'NOT_AN_ENTRY' }], 'part 2: ')]);
    expect(merged).toMatchObject({ total: 2, reasons: [{ reason: 'NOT_AN_ENTRY', count: 2, paths: ['part 1: data[1]', 'part 2: data[0]'] }] });
  });
});
