/**
 * The caller's statistics (Query.stats), kept up to date by the worker after every job that could change
 * the MAL list, so reading them is one DynamoDB GetItem. Computed from the user's series (what CR says
 * was watched, with CR's durations) and from the jobs' applied changes.
 *
 * "MAL requests saved" compares with a per-episode updater, which sends MAL one update per watched
 * episode of a matched season; AnimeLog sends one change per MAL entry per sync.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { STATS_SK } from '#contract/keys';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';
import { loadSeries, type StoredSeries } from './store';

/** How many series `bySeries` keeps (most hours first), so the item stays small. */
export const STATS_TOP_SERIES = 50;

export interface WatchStats {
  episodesWatched: number;
  hoursWatched: number;
  /** Episodes watched whose duration CR did not send (not in the hours). */
  episodesWithoutDuration: number;
  byMonth: Array<{ month: string; episodes: number; hours: number }>;
  bySeries: Array<{ seriesId: string; title: string; episodes: number; hours: number }>;
  seasonsSynced: number;
  seasonsPendingReview: number;
  seasonsNeverSynced: number;
  /** Watched episodes of seasons matched to MAL: what a per-episode updater would send. */
  episodesSynced: number;
}

const hours = (ms: number) => Math.round((ms / 3_600_000) * 100) / 100;

/** Statistics of the user's series; an episode counts when CR marks it fully watched or its progress reaches the threshold. */
export function computeStats(series: StoredSeries[], watchedThreshold: number): WatchStats {
  const months = new Map<string, { episodes: number; ms: number }>();
  const perSeries: Array<{ seriesId: string; title: string; episodes: number; ms: number }> = [];
  const out = { episodesWatched: 0, ms: 0, episodesWithoutDuration: 0, seasonsSynced: 0, seasonsPendingReview: 0, seasonsNeverSynced: 0, episodesSynced: 0 };
  for (const item of series) {
    let seriesEpisodes = 0;
    let seriesMs = 0;
    for (const season of item.seasons) {
      const watched = season.episodes.filter((e) => e.fullyWatched || e.progress >= watchedThreshold);
      const match = season.match;
      if (match?.needsReview) out.seasonsPendingReview += 1;
      else if (match && match.malId !== null) {
        out.seasonsSynced += 1;
        out.episodesSynced += watched.length;
      } else if (match && match.malId === null) out.seasonsNeverSynced += 1;
      for (const episode of watched) {
        seriesEpisodes += 1;
        const month = episode.firstWatchedAt.slice(0, 7);
        const bucket = months.get(month) ?? { episodes: 0, ms: 0 };
        bucket.episodes += 1;
        if (episode.durationMs) {
          bucket.ms += episode.durationMs;
          seriesMs += episode.durationMs;
        } else out.episodesWithoutDuration += 1;
        months.set(month, bucket);
      }
    }
    out.episodesWatched += seriesEpisodes;
    out.ms += seriesMs;
    if (seriesEpisodes > 0) perSeries.push({ seriesId: item.seriesId, title: item.title, episodes: seriesEpisodes, ms: seriesMs });
  }
  return {
    episodesWatched: out.episodesWatched,
    hoursWatched: hours(out.ms),
    episodesWithoutDuration: out.episodesWithoutDuration,
    byMonth: [...months.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([month, b]) => ({ month, episodes: b.episodes, hours: hours(b.ms) })),
    bySeries: perSeries
      .sort((a, b) => b.ms - a.ms || b.episodes - a.episodes || a.seriesId.localeCompare(b.seriesId))
      .slice(0, STATS_TOP_SERIES)
      .map((s) => ({ seriesId: s.seriesId, title: s.title, episodes: s.episodes, hours: hours(s.ms) })),
    seasonsSynced: out.seasonsSynced,
    seasonsPendingReview: out.seasonsPendingReview,
    seasonsNeverSynced: out.seasonsNeverSynced,
    episodesSynced: out.episodesSynced,
  };
}

/**
 * Rewrites the user's statistics after a job: the watch figures anew, and the job's applied changes
 * added as a delta over what this job already added (`countedJobs` maps job id → changes counted), so a
 * job that finishes again after a retry adds only its new changes. One worker runs a user's jobs at a
 * time (the sync lock); the condition still refuses a lost update.
 */
export async function refreshStats(userId: string, job: { jobId: string; applied: number }, watchedThreshold: number, now = new Date().toISOString()): Promise<void> {
  const stats = computeStats(await loadSeries(userId), watchedThreshold);
  const key = { userId, sk: STATS_SK };
  const current = (await documents().send(new GetCommand({ TableName: tableName('users'), Key: key, ConsistentRead: true }))).Item as
    | { countedJobs?: Record<string, number> }
    | undefined;
  const counted = current?.countedJobs;
  const previous = counted?.[job.jobId] ?? 0;
  const names: Record<string, string> = { '#w': 'watch', '#counted': 'countedJobs' };
  const values: Record<string, unknown> = { ':w': stats, ':now': now, ':delta': Math.max(0, job.applied - previous) };
  let update: string;
  let condition: string;
  if (!counted) {
    update = 'SET #w = :w, updatedAt = :now, #counted = :map ADD malChanges :delta';
    condition = 'attribute_not_exists(#counted)';
    values[':map'] = { [job.jobId]: job.applied };
  } else {
    names['#job'] = job.jobId;
    update = 'SET #w = :w, updatedAt = :now, #counted.#job = :applied ADD malChanges :delta';
    values[':applied'] = Math.max(job.applied, previous);
    if (counted[job.jobId] === undefined) condition = 'attribute_not_exists(#counted.#job)';
    else {
      condition = '#counted.#job = :previous';
      values[':previous'] = previous;
    }
  }
  await documents().send(
    new UpdateCommand({ TableName: tableName('users'), Key: key, UpdateExpression: update, ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values }),
  );
}
