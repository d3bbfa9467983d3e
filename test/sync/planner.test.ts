import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '#contract/settings';
import { diffPatch, emptyState, groupByEntry, patchIsApplied, planChanges, type AnimeInfo, type CurrentEntry, type PlannerMatch, type PlannerSeason } from '../../functions/sync/planner';
import type { ListState } from '../../functions/sync/types';

const ep = (number: number, at: string, progress = 1, fullyWatched = progress >= 1) => ({ number, progress, fullyWatched, firstWatchedAt: at, lastWatchedAt: at });
const season = (seasonKey: string, episodes: PlannerSeason['episodes']): PlannerSeason => ({ seasonKey, seriesId: seasonKey.split(':')[0], episodes });
const match = (seasonKey: string, malId: number | null, options: Partial<PlannerMatch> = {}): PlannerMatch => ({
  seasonKey,
  malId,
  needsReview: false,
  segments: malId === null ? [] : [{ malId, firstEpisode: 1, lastEpisode: null, episodeOffset: 0 }],
  ...options,
});
const info = (malId: number, numEpisodes: number | null, airingStatus: AnimeInfo['airingStatus'] = 'finished_airing'): AnimeInfo => ({ malId, title: `Anime ${malId}`, numEpisodes, airingStatus });
const onList = (malId: number, state: Partial<ListState>, updatedAt: string | null = '2020-01-01T00:00:00+00:00'): CurrentEntry => ({ state: { ...emptyState(malId), ...state }, updatedAt });

function plan(seasons: PlannerSeason[], matches: PlannerMatch[], list: CurrentEntry[], anime: AnimeInfo[], settings = DEFAULT_SETTINGS) {
  return planChanges({
    jobId: 'job1',
    seasons,
    matches: new Map(matches.map((m) => [m.seasonKey, m])),
    list: new Map(list.map((e) => [e.state.malId, e])),
    anime: new Map(anime.map((a) => [a.malId, a])),
    settings,
  });
}

describe('planner rules', () => {
  it('adds a partly watched show as watching with its progress and the first watch as start date', () => {
    const [change] = plan([season('S:1', [ep(1, '2026-01-02T20:00:00Z'), ep(2, '2026-01-03T20:00:00Z'), ep(3, '2026-01-04T20:00:00Z', 0.4)])], [match('S:1', 10)], [], [info(10, 12)]);
    expect(change.patch).toEqual({ status: 'watching', numEpisodesWatched: 2, startDate: '2026-01-02' });
    expect(change.before.status).toBeNull();
    expect(change.after).toMatchObject({ status: 'WATCHING', numEpisodesWatched: 2 });
  });

  it('counts an episode past the watched threshold, not one below it', () => {
    const seasons = [season('S:1', [ep(1, '2026-01-02T20:00:00Z', 0.86, false), ep(2, '2026-01-03T20:00:00Z', 0.84, false)])];
    expect(plan(seasons, [match('S:1', 10)], [], [info(10, 12)])[0].patch.numEpisodesWatched).toBe(1);
    expect(plan(seasons, [match('S:1', 10)], [], [info(10, 12)], { ...DEFAULT_SETTINGS, watchedThreshold: 0.8 })[0].patch.numEpisodesWatched).toBe(2);
  });

  it('marks completed with a finish date when the last episode is watched and the show finished airing', () => {
    const eps = [1, 2, 3].map((n) => ep(n, `2026-01-0${n}T20:00:00Z`));
    const [change] = plan([season('S:1', eps)], [match('S:1', 10)], [], [info(10, 3)]);
    expect(change.patch).toEqual({ status: 'completed', numEpisodesWatched: 3, startDate: '2026-01-01', finishDate: '2026-01-03' });
  });

  it('keeps a show still airing at watching even when every aired episode is watched', () => {
    const [change] = plan([season('S:1', [ep(1, '2026-01-01T20:00:00Z'), ep(2, '2026-01-02T20:00:00Z')])], [match('S:1', 10)], [], [info(10, 2, 'currently_airing')]);
    expect(change.patch.status).toBe('watching');
  });

  it('never lowers progress and makes no change when MAL is already ahead', () => {
    const changes = plan([season('S:1', [ep(1, '2026-01-01T20:00:00Z')])], [match('S:1', 10)], [onList(10, { status: 'WATCHING', numEpisodesWatched: 7, startDate: '2025-12-01' })], [info(10, 12)]);
    expect(changes).toEqual([]);
  });

  it('leaves dropped and on-hold entries alone unless the settings allow it', () => {
    const seasons = [season('S:1', [ep(1, '2026-01-01T20:00:00Z'), ep(2, '2026-01-02T20:00:00Z')])];
    const list = [onList(10, { status: 'DROPPED', numEpisodesWatched: 1, startDate: '2025-01-01', score: 4 })];
    expect(plan(seasons, [match('S:1', 10)], list, [info(10, 12)])).toEqual([]);
    const [change] = plan(seasons, [match('S:1', 10)], list, [info(10, 12)], { ...DEFAULT_SETTINGS, updateDroppedAndOnHold: true });
    expect(change.patch).toEqual({ status: 'watching', numEpisodesWatched: 2 });
    expect(change.after.score).toBe(4);
  });

  it('holds back seasons that need review or that the user said are not on MAL', () => {
    const seasons = [season('A:1', [ep(1, '2026-01-01T20:00:00Z')]), season('B:1', [ep(1, '2026-01-01T20:00:00Z')])];
    expect(plan(seasons, [match('A:1', 10, { needsReview: true }), match('B:1', null)], [], [info(10, 12)])).toEqual([]);
  });

  it('starts a rewatch when a completed show is watched again from episode 1 after it was finished', () => {
    const list = [onList(10, { status: 'COMPLETED', numEpisodesWatched: 12, startDate: '2024-01-01', finishDate: '2024-02-01' }, '2024-02-01T10:00:00+00:00')];
    const [change] = plan([season('S:1', [ep(1, '2026-01-01T20:00:00Z'), ep(2, '2026-01-02T20:00:00Z')])], [match('S:1', 10)], list, [info(10, 12)]);
    expect(change.patch).toEqual({ isRewatching: true });
    expect(change.after.numEpisodesWatched).toBe(12);
  });

  it('counts a finished rewatch once, and not again on the next run', () => {
    const eps = Array.from({ length: 12 }, (_, i) => ep(i + 1, `2026-01-${String(i + 1).padStart(2, '0')}T20:00:00Z`));
    const rewatching = [onList(10, { status: 'COMPLETED', numEpisodesWatched: 12, isRewatching: true, finishDate: '2024-02-01' }, '2026-01-01T21:00:00+00:00')];
    const [change] = plan([season('S:1', eps)], [match('S:1', 10)], rewatching, [info(10, 12)]);
    expect(change.patch).toEqual({ isRewatching: false, numTimesRewatched: 1 });
    // After the PATCH MAL's updated_at is later than every watch: no new rewatch is seen.
    const after = [onList(10, { ...change.after }, '2026-02-01T00:00:00+00:00')];
    expect(plan([season('S:1', eps)], [match('S:1', 10)], after, [info(10, 12)])).toEqual([]);
  });

  it('does not take the original watch of a completed show for a rewatch', () => {
    const list = [onList(10, { status: 'COMPLETED', numEpisodesWatched: 3, finishDate: '2026-01-03' }, '2026-01-03T21:00:00+00:00')];
    expect(plan([season('S:1', [1, 2, 3].map((n) => ep(n, `2026-01-0${n}T20:00:00Z`)))], [match('S:1', 10)], list, [info(10, 3)])).toEqual([]);
  });

  it('folds several CR seasons onto one entry and splits one season across entries by segment', () => {
    const grouped = groupByEntry(
      [season('S:1', [ep(1, '2026-01-01T00:00:00Z'), ep(13, '2026-01-02T00:00:00Z')]), season('S:dub', [ep(2, '2026-01-03T00:00:00Z', 0.5, false)])],
      new Map([
        ['S:1', match('S:1', 10, { segments: [{ malId: 10, firstEpisode: 1, lastEpisode: 12, episodeOffset: 0 }, { malId: 11, firstEpisode: 13, lastEpisode: null, episodeOffset: 12 }] })],
        ['S:dub', match('S:dub', 10)],
      ]),
    );
    expect([...grouped.keys()].sort()).toEqual([10, 11]);
    expect([...grouped.get(10)!.episodes.keys()].sort()).toEqual([1, 2]);
    expect([...grouped.get(11)!.episodes.keys()]).toEqual([1]);
  });

  it('respects setDates and markCompleted switched off', () => {
    const eps = [1, 2].map((n) => ep(n, `2026-01-0${n}T20:00:00Z`));
    const [change] = plan([season('S:1', eps)], [match('S:1', 10)], [], [info(10, 2)], { ...DEFAULT_SETTINGS, setDates: false, markCompleted: false });
    expect(change.patch).toEqual({ status: 'watching', numEpisodesWatched: 2 });
  });

  it('diffs into the minimal patch and recognises an applied one', () => {
    const before = { ...emptyState(5), status: 'WATCHING' as const, numEpisodesWatched: 2, startDate: '2026-01-01' };
    const after = { ...before, numEpisodesWatched: 4 };
    expect(diffPatch(before, after)).toEqual({ numEpisodesWatched: 4 });
    expect(patchIsApplied({ numEpisodesWatched: 4 }, after)).toBe(true);
    expect(patchIsApplied({ numEpisodesWatched: 4 }, before)).toBe(false);
  });

  it('orders changes by MAL id with stable change ids', () => {
    const changes = plan(
      [season('A:1', [ep(1, '2026-01-01T00:00:00Z')]), season('B:1', [ep(1, '2026-01-01T00:00:00Z')])],
      [match('A:1', 30), match('B:1', 20)],
      [],
      [info(30, 12), info(20, 12)],
    );
    expect(changes.map((c) => [c.malId, c.seq])).toEqual([[20, 1], [30, 2]]);
    expect(plan([season('A:1', [ep(1, '2026-01-01T00:00:00Z')])], [match('A:1', 30)], [], [info(30, 12)])[0].changeId).toBe(changes[1].changeId);
  });
});
