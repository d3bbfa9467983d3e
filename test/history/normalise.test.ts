import { describe, expect, it } from 'vitest';
import { HistoryFormatError, normaliseHistory } from '../../functions/history';

const JA_S1 = 'GRJAS1';
const EN_S1 = 'GRENS1';

function v2Entry(overrides: {
  seasonId?: string;
  seasonTitle?: string;
  seasonNumber?: number;
  episodeNumber?: number | null;
  episode?: string;
  sequenceNumber?: number;
  audio?: string;
  dubbed?: boolean;
  versions?: unknown[];
  played?: string;
  playhead?: number;
  fully?: boolean;
  seriesId?: string;
  seriesTitle?: string;
}) {
  const episodeNumber = overrides.episodeNumber === undefined ? 1 : overrides.episodeNumber;
  return {
    id: `ep-${overrides.seasonId ?? JA_S1}-${episodeNumber}`,
    date_played: overrides.played ?? '2026-01-10T20:00:00Z',
    playhead: overrides.playhead ?? 1400,
    fully_watched: overrides.fully ?? true,
    panel: {
      id: `ep-${overrides.seasonId ?? JA_S1}-${episodeNumber}`,
      title: 'An episode',
      type: 'episode',
      episode_metadata: {
        series_id: overrides.seriesId ?? 'GSERIES',
        series_title: overrides.seriesTitle ?? 'Frieren: Beyond Journey’s End',
        season_id: overrides.seasonId ?? JA_S1,
        season_title: overrides.seasonTitle ?? 'Frieren: Beyond Journey’s End',
        season_number: overrides.seasonNumber ?? 1,
        season_sequence_number: overrides.seasonNumber ?? 1,
        episode_number: episodeNumber,
        sequence_number: overrides.sequenceNumber ?? episodeNumber ?? 0,
        episode: overrides.episode ?? String(episodeNumber ?? ''),
        duration_ms: 1_440_000,
        audio_locale: overrides.audio ?? 'ja-JP',
        is_dubbed: overrides.dubbed ?? false,
        versions: overrides.versions ?? null,
      },
    },
  };
}

const versions = [
  { audio_locale: 'ja-JP', guid: 'g-ja', season_guid: JA_S1, original: true },
  { audio_locale: 'en-US', guid: 'g-en', season_guid: EN_S1, original: false },
];

describe('normaliseHistory: CR v2', () => {
  it('folds a dub season into its original through versions[] and merges the episodes', () => {
    const history = normaliseHistory({
      data: [
        v2Entry({ episodeNumber: 1, versions, played: '2026-01-01T10:00:00Z' }),
        v2Entry({ seasonId: EN_S1, seasonTitle: 'Frieren (English Dub)', audio: 'en-US', dubbed: true, episodeNumber: 1, versions, played: '2026-01-05T10:00:00Z' }),
        v2Entry({ seasonId: EN_S1, seasonTitle: 'Frieren (English Dub)', audio: 'en-US', dubbed: true, episodeNumber: 2, versions, fully: false, playhead: 720 }),
      ],
    });
    expect(history.format).toBe('cr-v2');
    expect(history.seasons).toHaveLength(1);
    const [season] = history.seasons;
    expect(season.seasonId).toBe(JA_S1);
    expect(season.seasonKey).toBe(`GSERIES:${JA_S1}`);
    expect(season.foldedSeasonIds).toEqual([EN_S1, JA_S1].sort());
    expect(season.audioLocales).toEqual(['en-US', 'ja-JP']);
    expect(season.episodes.map((e) => e.number)).toEqual([1, 2]);
    expect(season.episodes[0]).toMatchObject({ plays: 2, fullyWatched: true, firstWatchedAt: '2026-01-01T10:00:00.000Z', lastWatchedAt: '2026-01-05T10:00:00.000Z' });
    expect(season.episodes[1]).toMatchObject({ fullyWatched: false, progress: 0.5 });
  });

  it('folds dub seasons without version links by their "(… Dub)" title and season number', () => {
    const history = normaliseHistory({
      data: [
        v2Entry({ seasonId: 'S-JA', seasonTitle: 'Spy x Family', episodeNumber: 1 }),
        v2Entry({ seasonId: 'S-DE', seasonTitle: 'Spy x Family (German Dub)', audio: 'de-DE', dubbed: true, episodeNumber: 2 }),
        v2Entry({ seasonId: 'S2-JA', seasonTitle: 'Spy x Family Season 2', seasonNumber: 2, episodeNumber: 1 }),
      ],
    });
    expect(history.seasons).toHaveLength(2);
    expect(history.seasons[0]).toMatchObject({ seasonId: 'S-JA', seasonTitle: 'Spy x Family', foldedSeasonIds: ['S-DE', 'S-JA'] });
    expect(history.seasons[0].episodes.map((e) => e.number)).toEqual([1, 2]);
  });

  it('skips entries whose panel is null and that appear nowhere else, naming the path', () => {
    const history = normaliseHistory({ data: [v2Entry({}), { id: 'x', date_played: '2026-01-01T00:00:00Z', playhead: 0, fully_watched: false, panel: null }] });
    expect(history.seasons).toHaveLength(1);
    expect(history.skipped).toEqual([{ path: 'data[1].panel', reason: 'PANEL_MISSING' }]);
  });

  it('undoes continuous numbering using CR sequence numbers (season 2 starts at 13)', () => {
    const history = normaliseHistory({
      data: [13, 14, 15].map((n) =>
        v2Entry({ seasonId: 'S2', seasonTitle: 'Show Season 2', seasonNumber: 2, episodeNumber: n, sequenceNumber: n - 12 }),
      ),
    });
    const [season] = history.seasons;
    expect(season.episodeNumberOffset).toBe(12);
    expect(season.episodeNumberOffsetSource).toBe('sequence-number');
    expect(season.episodes.map((e) => [e.number, e.crEpisodeNumber])).toEqual([[1, 13], [2, 14], [3, 15]]);
  });

  it('reads the episode number from the label when episode_number is null', () => {
    const history = normaliseHistory({ data: [v2Entry({ episodeNumber: null, episode: 'Episode 7', sequenceNumber: 7 })] });
    expect(history.seasons[0].episodes[0].number).toBe(7);
  });

  it('keeps movies apart', () => {
    const history = normaliseHistory({
      data: [
        v2Entry({}),
        {
          id: 'm1',
          date_played: '2026-02-01T00:00:00Z',
          playhead: 5000,
          fully_watched: true,
          panel: { id: 'GMOVIE', title: 'Jujutsu Kaisen 0', type: 'movie', movie_metadata: { movie_listing_id: 'GLIST', movie_listing_title: 'Jujutsu Kaisen 0', duration_ms: 6_000_000 } },
        },
      ],
    });
    expect(history.seasons).toHaveLength(1);
    expect(history.movies).toHaveLength(1);
    expect(history.movies[0]).toMatchObject({ isMovie: true, seasonKey: 'movie:GLIST', seriesTitle: 'Jujutsu Kaisen 0' });
  });
});

describe('normaliseHistory: CR v1 and compact', () => {
  it('reads the v1 items/fullywatched shape', () => {
    const entry = v2Entry({ episodeNumber: 3, fully: false, playhead: 1440 }) as Record<string, unknown>;
    const v1 = { items: [{ fullywatched: false, playhead: entry.playhead, date_played: entry.date_played, panel: entry.panel }] };
    const history = normaliseHistory(v1);
    expect(history.format).toBe('cr-v1');
    expect(history.seasons[0].episodes[0]).toMatchObject({ number: 3, progress: 1, fullyWatched: true });
  });

  it('reads the compact form, undoes numbering from the previous season and keeps movies apart', () => {
    const item = (seasonId: string, seasonNumber: number, episodeNumber: number, extra: object = {}) => ({
      seriesId: 'GSHOW',
      seriesTitle: 'Show',
      seasonId,
      seasonTitle: seasonNumber === 1 ? 'Show' : `Show Season ${seasonNumber}`,
      seasonNumber,
      episodeNumber,
      fullyWatched: true,
      watchedAt: '2026-03-01T00:00:00Z',
      ...extra,
    });
    const history = normaliseHistory({
      items: [
        item('S1', 1, 11),
        item('S1', 1, 12),
        item('S2', 2, 13),
        item('S2', 2, 14, { fullyWatched: false, playheadS: 300, durationMs: 1_200_000 }),
        { ...item('M', 1, 1), seasonId: 'M', seasonTitle: 'Show: The Movie', isMovie: true },
      ],
    });
    expect(history.format).toBe('compact');
    const season2 = history.seasons.find((s) => s.seasonId === 'S2')!;
    expect(season2.episodeNumberOffset).toBe(12);
    expect(season2.episodeNumberOffsetSource).toBe('previous-season');
    expect(season2.episodes.map((e) => e.number)).toEqual([1, 2]);
    expect(season2.episodes[1].progress).toBe(0.25);
    expect(history.seasons.find((s) => s.seasonId === 'S1')!.episodeNumberOffset).toBe(0);
    expect(history.movies.map((m) => m.seasonId)).toEqual(['M']);
  });
});

describe('normaliseHistory: malformed input', () => {
  const expectFormatError = (input: unknown, message: string) => {
    let thrown: unknown;
    try {
      normaliseHistory(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HistoryFormatError);
    expect(thrown).not.toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toBe(message);
  };

  it('skips a bad entry with the path of the bad field and keeps the others', () => {
    const bad = v2Entry({});
    (bad.panel.episode_metadata as Record<string, unknown>).season_id = 42;
    const history = normaliseHistory({ data: [v2Entry({}), v2Entry({ episodeNumber: 2 }), v2Entry({ episodeNumber: 3 }), bad] });
    expect(history.skipped).toEqual([{ path: 'data[3].panel.episode_metadata.season_id', reason: 'INVALID_FIELD' }]);
    expect(history.seasons[0].episodes.map((e) => e.number)).toEqual([1, 2, 3]);
  });

  it('refuses only documents that are not a history', () => {
    expectFormatError(null, '$: expected object');
    expectFormatError('history', '$: expected object');
    expectFormatError({ something: [] }, '$: expected object with a "data" (CR v2) or "items" (CR v1 / compact) array');
    expectFormatError({ data: {} }, 'data: expected array');
  });

  it('skips entries that are not objects, bad timestamps, bad metadata and bad types, each with a reason', () => {
    const history = normaliseHistory({
      data: [1, { ...v2Entry({}), date_played: 'yesterday' }, { ...v2Entry({}), panel: { episode_metadata: 'x' } }, v2Entry({ episodeNumber: 4 })],
    });
    expect(history.skipped).toEqual([
      { path: 'data[0]', reason: 'NOT_AN_ENTRY' },
      { path: 'data[1].date_played', reason: 'INVALID_FIELD' },
      { path: 'data[2].panel.episode_metadata', reason: 'INVALID_FIELD' },
    ]);
    expect(history.seasons[0].episodes.map((e) => e.number)).toEqual([4]);
    const compact = normaliseHistory({ items: [{ seriesId: 'a', seriesTitle: 'A', seasonId: 's', episodeNumber: '3', watchedAt: '2026-01-01' }] });
    expect(compact.skipped).toEqual([{ path: 'items[0].episodeNumber', reason: 'INVALID_FIELD' }]);
  });

  it('treats an empty list as an empty history', () => {
    expect(normaliseHistory({ data: [] })).toEqual({ seasons: [], movies: [], skipped: [], warnings: [], format: 'empty' });
  });
});

describe('normaliseHistory: air dates', () => {
  it("keeps CR's episode_air_date as the episode's day, and ignores one it cannot read without refusing the entry", () => {
    const dated = v2Entry({ episodeNumber: 1 });
    Object.assign(dated.panel.episode_metadata as Record<string, unknown>, { episode_air_date: '2020-10-03T01:25:00+09:00' });
    const odd = v2Entry({ episodeNumber: 2 });
    Object.assign(odd.panel.episode_metadata as Record<string, unknown>, { episode_air_date: 'soon' });
    const history = normaliseHistory({ data: [dated, odd] });
    const episodes = history.seasons[0].episodes;
    expect(episodes.map((e) => [e.number, e.airDate])).toEqual([
      [1, '2020-10-02'],
      [2, null],
    ]);
    expect(history.skipped).toEqual([]);
  });
});
