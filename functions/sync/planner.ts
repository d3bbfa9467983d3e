/**
 * The plan: from matched CR seasons and the user's MAL list to the minimal set of list changes.
 * Pure (no I/O): the worker feeds it what it read, and tests feed it cases.
 *
 * Rules (per MAL entry, settings from the users table):
 * - an episode counts as watched when CR marks it fully watched or its progress ≥ watchedThreshold;
 * - progress is never lowered (MAL's count only goes up, whatever an older history says);
 * - `watching` once anything is played; `completed` (with finish date) when the last episode is
 *   watched and the show has finished airing (`markCompleted`);
 * - start date from the first watch, finish date from the last episode's watch, only when MAL has none
 *   (`setDates`); dates are UTC calendar days;
 * - a completed entry whose episode 1 was played again after it was finished (and after the entry last
 *   changed) is a rewatch (`trackRewatches`): `is_rewatching` while under way, `num_times_rewatched + 1`
 *   once the last episode is watched again; the episode count is not lowered for a rewatch;
 * - dropped / on-hold entries are left alone unless `updateDroppedAndOnHold`; scores are never touched;
 * - seasons that need review (or that the user said are not on MAL) are never planned.
 */
import { createHash } from 'node:crypto';
import type { SyncSettings } from '#contract/settings';
import type { MalListStatusName } from '../mal/types';
import type { ListPatch, ListState, PlannedChange } from './types';

/** A season as the planner needs it: episodes numbered within the season. */
export interface PlannerSeason {
  seasonKey: string;
  seriesId: string;
  episodes: PlannerEpisode[];
  /** The series' or season's own rules over the account settings (rules.ts). */
  overrides?: Partial<SyncSettings>;
}

export interface PlannerEpisode {
  /** Episode number within the CR season. */
  number: number;
  progress: number;
  fullyWatched: boolean;
  firstWatchedAt: string;
  lastWatchedAt: string;
}

/** The accepted MAL entry (or entries, for split cours) of a season. */
export interface PlannerMatch {
  seasonKey: string;
  /** null = not on MAL (user said so) or not decided. */
  malId: number | null;
  needsReview: boolean;
  /** MAL episode = season episode − episodeOffset, per range. */
  segments: Array<{ malId: number; firstEpisode: number; lastEpisode: number | null; episodeOffset: number }>;
}

export interface AnimeInfo {
  malId: number;
  title: string | null;
  /** null or 0: unknown (still airing, not announced). */
  numEpisodes: number | null;
  airingStatus: 'finished_airing' | 'currently_airing' | 'not_yet_aired' | null;
}

/** An entry of the user's MAL list as read, with MAL's `updated_at`. */
export interface CurrentEntry {
  state: ListState;
  updatedAt: string | null;
}

/** All watched facts that land on one MAL entry. */
export interface EntryWatch {
  malId: number;
  seasonKey: string;
  seriesId: string;
  /** By MAL episode number. */
  episodes: Map<number, PlannerEpisode>;
  /** Rules of the first season that feeds the entry, over the account settings. */
  overrides?: Partial<SyncSettings>;
}

export const STATUS_TO_MAL: Record<NonNullable<ListState['status']>, MalListStatusName> = {
  WATCHING: 'watching',
  COMPLETED: 'completed',
  ON_HOLD: 'on_hold',
  DROPPED: 'dropped',
  PLAN_TO_WATCH: 'plan_to_watch',
};

export function emptyState(malId: number): ListState {
  return { malId, status: null, score: 0, numEpisodesWatched: 0, isRewatching: false, numTimesRewatched: 0, startDate: null, finishDate: null };
}

const dateOf = (iso: string) => iso.slice(0, 10);

function mergeEpisode(a: PlannerEpisode, b: PlannerEpisode): PlannerEpisode {
  return {
    number: a.number,
    progress: Math.max(a.progress, b.progress),
    fullyWatched: a.fullyWatched || b.fullyWatched,
    firstWatchedAt: a.firstWatchedAt < b.firstWatchedAt ? a.firstWatchedAt : b.firstWatchedAt,
    lastWatchedAt: a.lastWatchedAt > b.lastWatchedAt ? a.lastWatchedAt : b.lastWatchedAt,
  };
}

/**
 * Folds seasons onto MAL entries through their matches: several CR seasons may feed one entry, and one
 * season may feed several (split cours). Seasons needing review or without a MAL id are left out.
 */
export function groupByEntry(seasons: PlannerSeason[], matches: Map<string, PlannerMatch>): Map<number, EntryWatch> {
  const entries = new Map<number, EntryWatch>();
  for (const season of seasons) {
    const match = matches.get(season.seasonKey);
    if (!match || match.needsReview || match.malId === null) continue;
    const segments = match.segments.length > 0 ? match.segments : [{ malId: match.malId, firstEpisode: 1, lastEpisode: null, episodeOffset: 0 }];
    for (const episode of season.episodes) {
      const segment = segments.find((s) => episode.number >= s.firstEpisode && (s.lastEpisode === null || episode.number <= s.lastEpisode));
      if (!segment) continue;
      const malEpisode = episode.number - segment.episodeOffset;
      if (!(malEpisode >= 1)) continue;
      let entry = entries.get(segment.malId);
      if (!entry) {
        entry = { malId: segment.malId, seasonKey: season.seasonKey, seriesId: season.seriesId, episodes: new Map(), overrides: season.overrides };
        entries.set(segment.malId, entry);
      }
      const known = entry.episodes.get(malEpisode);
      const mapped = { ...episode, number: malEpisode };
      entry.episodes.set(malEpisode, known ? mergeEpisode(known, mapped) : mapped);
    }
  }
  return entries;
}

export interface EntryPlan {
  after: ListState;
  reason: string;
}

/** The target state of one entry, or null when nothing should change. */
export function planEntry(watch: EntryWatch, current: CurrentEntry | undefined, info: AnimeInfo | undefined, settings: SyncSettings): EntryPlan | null {
  const before = current?.state ?? emptyState(watch.malId);
  const played = [...watch.episodes.values()];
  if (played.length === 0) return null;
  const isWatched = (e: PlannerEpisode) => e.fullyWatched || e.progress >= settings.watchedThreshold;
  const total = info?.numEpisodes && info.numEpisodes > 0 ? info.numEpisodes : null;
  const finishedAiring = info?.airingStatus === 'finished_airing';
  const clamp = (n: number) => (total !== null ? Math.min(n, total) : n);

  if ((before.status === 'DROPPED' || before.status === 'ON_HOLD') && !settings.updateDroppedAndOnHold) return null;
  if (before.status === 'COMPLETED') return settings.trackRewatches ? planRewatch(watch, current, before, total, finishedAiring, isWatched) : null;

  const watched = played.filter(isWatched);
  const highest = clamp(watched.reduce((max, e) => Math.max(max, e.number), 0));
  const after: ListState = { ...before, numEpisodesWatched: Math.max(before.numEpisodesWatched, highest) };
  const reasons: string[] = [];
  if (settings.markCompleted && total !== null && finishedAiring && after.numEpisodesWatched >= total) {
    after.status = 'COMPLETED';
    after.numEpisodesWatched = total;
    reasons.push(`last episode (${total}) watched and the show has finished airing`);
    if (settings.setDates && !before.finishDate) {
      const last = watch.episodes.get(total) ?? watched.reduce((a, b) => (a.number > b.number ? a : b));
      after.finishDate = dateOf(last.firstWatchedAt);
    }
  } else {
    after.status = 'WATCHING';
    reasons.push(highest > 0 ? `episodes up to ${highest} watched` : 'partly seen');
  }
  if (settings.setDates && !before.startDate) {
    after.startDate = dateOf(played.reduce((min, e) => (e.firstWatchedAt < min ? e.firstWatchedAt : min), played[0].firstWatchedAt));
  }
  if (after.numEpisodesWatched > before.numEpisodesWatched) reasons.push(`progress ${before.numEpisodesWatched} → ${after.numEpisodesWatched}`);
  return { after, reason: reasons.join('; ') };
}

function planRewatch(
  watch: EntryWatch,
  current: CurrentEntry | undefined,
  before: ListState,
  total: number | null,
  finishedAiring: boolean,
  isWatched: (e: PlannerEpisode) => boolean,
): EntryPlan | null {
  const first = watch.episodes.get(1);
  if (!first) return null;
  const restartedAt = first.lastWatchedAt;
  const changedAt = current?.updatedAt ?? null;
  const last = total !== null ? watch.episodes.get(total) : undefined;
  // The last episode watched again after episode 1 was replayed, and after MAL's entry last changed.
  const finishedAgain = !!last && isWatched(last) && last.lastWatchedAt >= restartedAt && (changedAt === null || last.lastWatchedAt > changedAt) && finishedAiring;
  if (before.isRewatching) {
    if (!finishedAgain) return null;
    return {
      after: { ...before, isRewatching: false, numTimesRewatched: before.numTimesRewatched + 1, numEpisodesWatched: Math.max(before.numEpisodesWatched, total ?? 0) },
      reason: `rewatch finished (last episode ${total} watched again)`,
    };
  }
  // Episode 1 played after the finish date and after the entry's last change: watched again from the start.
  const startedAgain = (before.finishDate === null || dateOf(restartedAt) > before.finishDate) && (changedAt === null || restartedAt > changedAt);
  if (!startedAgain) return null;
  if (finishedAgain) {
    return { after: { ...before, numTimesRewatched: before.numTimesRewatched + 1 }, reason: 'watched again from episode 1 to the last: one more rewatch' };
  }
  return { after: { ...before, isRewatching: true }, reason: 'completed show watched again from episode 1: rewatching' };
}

/** The PATCH that turns `before` into `after`: only fields that differ (status always for a new entry). */
export function diffPatch(before: ListState, after: ListState): ListPatch {
  const patch: ListPatch = {};
  if (after.status !== null && (after.status !== before.status || before.status === null)) patch.status = STATUS_TO_MAL[after.status];
  if (after.numEpisodesWatched !== before.numEpisodesWatched || before.status === null) patch.numEpisodesWatched = after.numEpisodesWatched;
  if (after.isRewatching !== before.isRewatching) patch.isRewatching = after.isRewatching;
  if (after.numTimesRewatched !== before.numTimesRewatched) patch.numTimesRewatched = after.numTimesRewatched;
  if (after.startDate && after.startDate !== before.startDate) patch.startDate = after.startDate;
  if (after.finishDate && after.finishDate !== before.finishDate) patch.finishDate = after.finishDate;
  return patch;
}

/** Deterministic id of a job's change to one MAL entry (a job changes an entry at most once). */
export function changeIdFor(jobId: string, malId: number): string {
  return createHash('sha256').update(`${jobId}\u0000${malId}`).digest('base64url').slice(0, 22);
}

export interface PlanInput {
  jobId: string;
  seasons: PlannerSeason[];
  matches: Map<string, PlannerMatch>;
  list: Map<number, CurrentEntry>;
  anime: Map<number, AnimeInfo>;
  settings: SyncSettings;
}

/** The job's changes, ordered by MAL id (stable across re-planning), `seq` from 1. */
export function planChanges(input: PlanInput): PlannedChange[] {
  const changes: PlannedChange[] = [];
  const entries = [...groupByEntry(input.seasons, input.matches).values()].sort((a, b) => a.malId - b.malId);
  for (const watch of entries) {
    const current = input.list.get(watch.malId);
    const info = input.anime.get(watch.malId);
    const planned = planEntry(watch, current, info, watch.overrides ? { ...input.settings, ...watch.overrides } : input.settings);
    if (!planned) continue;
    const before = current?.state ?? emptyState(watch.malId);
    const patch = diffPatch(before, planned.after);
    if (Object.keys(patch).length === 0) continue;
    changes.push({
      changeId: changeIdFor(input.jobId, watch.malId),
      seq: changes.length + 1,
      seasonKey: watch.seasonKey,
      seriesId: watch.seriesId,
      malId: watch.malId,
      title: info?.title ?? null,
      before,
      after: planned.after,
      patch,
      reason: planned.reason,
    });
  }
  return changes;
}

/** True when MAL's entry already shows every field the patch sets (the PATCH landed, or is not needed). */
export function patchIsApplied(patch: ListPatch, state: ListState): boolean {
  if (patch.status !== undefined && (state.status === null || STATUS_TO_MAL[state.status] !== patch.status)) return false;
  if (patch.numEpisodesWatched !== undefined && state.numEpisodesWatched !== patch.numEpisodesWatched) return false;
  if (patch.isRewatching !== undefined && state.isRewatching !== patch.isRewatching) return false;
  if (patch.numTimesRewatched !== undefined && state.numTimesRewatched !== patch.numTimesRewatched) return false;
  if (patch.startDate !== undefined && state.startDate !== patch.startDate) return false;
  if (patch.finishDate !== undefined && state.finishDate !== patch.finishDate) return false;
  return true;
}
