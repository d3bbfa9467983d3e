/**
 * Helpers of the sync tests: CR v2 history entries, the list view of the sandbox, and waiting for a job.
 */
import { expect } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { gql } from '../support/stack';

export interface V2Options {
  seriesId: string;
  seriesTitle: string;
  seasonId: string;
  seasonTitle: string;
  seasonNumber?: number;
  episode: number;
  sequence?: number;
  audio?: string;
  versions?: Array<{ audio_locale: string; season_guid: string; original: boolean }>;
  played: string;
  fully?: boolean;
  playhead?: number;
  /** CR's `episode_air_date` (ISO); absent when not given. */
  airDate?: string;
}

export function v2Episode(o: V2Options) {
  return {
    id: `${o.seasonId}-e${o.episode}`,
    date_played: o.played,
    playhead: o.playhead ?? 1420,
    fully_watched: o.fully ?? true,
    panel: {
      id: `${o.seasonId}-e${o.episode}`,
      title: `Episode ${o.episode}`,
      type: 'episode',
      episode_metadata: {
        series_id: o.seriesId,
        series_title: o.seriesTitle,
        season_id: o.seasonId,
        season_title: o.seasonTitle,
        season_number: o.seasonNumber ?? 1,
        season_sequence_number: o.seasonNumber ?? 1,
        episode_number: o.episode,
        sequence_number: o.sequence ?? o.episode,
        episode: String(o.episode),
        duration_ms: 1_440_000,
        audio_locale: o.audio ?? 'ja-JP',
        is_dubbed: (o.audio ?? 'ja-JP') !== 'ja-JP',
        versions: o.versions ?? null,
        ...(o.airDate ? { episode_air_date: o.airDate } : {}),
      },
    },
  };
}

export function v2Movie(o: { listingId: string; title: string; played: string }) {
  return {
    id: `${o.listingId}-m`,
    date_played: o.played,
    playhead: 6000,
    fully_watched: true,
    panel: {
      id: `${o.listingId}-m`,
      title: o.title,
      type: 'movie',
      movie_metadata: { movie_listing_id: o.listingId, movie_listing_title: o.title, duration_ms: 6_000_000, audio_locale: 'ja-JP', is_dubbed: false },
    },
  };
}

/** `2026-01-DDT20:00:00Z` for day d (1-based, rolls into February). */
export function day(d: number, year = 2026): string {
  return new Date(Date.UTC(year, 0, d, 20)).toISOString();
}

/** The sandbox list as comparable data (updated_at and cosmetic fields dropped), by anime id. */
export function listView(entries: ReadonlyArray<{ animeId: number; listStatus: object }>) {
  const out: Record<number, Record<string, unknown>> = {};
  for (const { animeId, listStatus: raw } of entries) {
    const listStatus = raw as Record<string, unknown>;
    out[animeId] = {
      status: listStatus.status,
      episodes: listStatus.num_episodes_watched,
      rewatching: listStatus.is_rewatching,
      timesRewatched: listStatus.num_times_rewatched,
      score: listStatus.score,
      start: listStatus.start_date ?? null,
      finish: listStatus.finish_date ?? null,
    };
  }
  return out;
}

export const JOB_FIELDS = `jobId status phase dryRun receivedParts totalParts createdAt startedAt finishedAt
  counts { historyItems seasons matched needsReview planned applied failed } errors { errorType message seasonKey malId }`;

export const PROCESS_HISTORY = `mutation($input: ProcessHistoryInput!) { processHistory(input: $input) { ${JOB_FIELDS} } }`;
export const SYNC_JOB = `query($id: ID!) { syncJob(id: $id) { ${JOB_FIELDS} plan { seasonKey malId title reason before { status numEpisodesWatched } after { status numEpisodesWatched isRewatching startDate finishDate } } } }`;
export const SYNC_HISTORY = `query($jobId: ID!, $limit: Int, $next: String) { syncHistory(jobId: $jobId, limit: $limit, nextToken: $next) {
  items { jobId seq appliedAt seriesId seasonKey malId title before { status numEpisodesWatched isRewatching numTimesRewatched startDate finishDate } after { status numEpisodesWatched isRewatching numTimesRewatched startDate finishDate } }
  nextToken } }`;

const FINISHED = ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'];

/**
 * Polls a job until it finishes. The caller shares the per-user request limit (120 a minute) with the
 * rest of the test, so polling backs off to once a second and honours a LimitExceeded answer's retry time.
 */
export async function waitForJob(stack: LocalStack, headers: Record<string, string>, jobId: string, timeoutMs = 50_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  let pauseMs = 100;
  for (;;) {
    const result = await gql(stack, SYNC_JOB, { id: jobId }, headers);
    const limited = (result.errors as { errorType?: string; errorInfo?: { retryAfterSeconds?: number } }[] | undefined)?.find((e) => e.errorType === 'LimitExceeded');
    if (limited && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min((limited.errorInfo?.retryAfterSeconds ?? 1) * 1000, Math.max(deadline - Date.now(), 0))));
      continue;
    }
    expect(result.errors).toBeUndefined();
    const job = result.data!.syncJob;
    if (job && FINISHED.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish in ${timeoutMs} ms: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, pauseMs));
    pauseMs = Math.min(pauseMs * 1.5, 1000);
  }
}

export async function allHistory(stack: LocalStack, headers: Record<string, string>, jobId: string) {
  const items: Record<string, any>[] = [];
  let next: string | null = null;
  do {
    const result: { data: any; errors?: unknown } = await gql(stack, SYNC_HISTORY, { jobId, limit: 100, next }, headers);
    expect(result.errors).toBeUndefined();
    items.push(...result.data.syncHistory.items);
    next = result.data.syncHistory.nextToken;
  } while (next);
  return items;
}
