/**
 * Query.stats through GraphQL: zeros before the first sync, then exactly the figures of a known history
 * (episodes, hours from CR's durations, by month and by series, seasons by state, MAL changes and the
 * requests a per-episode updater would have sent); a dry run leaves them as they were.
 */
import { describe, expect, it } from 'vitest';
import { FAST_MAL_CLIENT, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { PROCESS_HISTORY, v2Episode, waitForJob } from './support';

const stack = useTestStack({ malSandbox: { rateLimit: false }, env: FAST_MAL_CLIENT });

const STATS = `query { stats { episodesWatched hoursWatched episodesWithoutDuration byMonth { month episodes hours } bySeries { seriesId title episodes hours }
  seasonsSynced seasonsPendingReview seasonsNeverSynced malChanges perEpisodeRequests malRequestsSaved updatedAt } }`;

const FRIEREN = { seriesId: 'GFRIEREN', seriesTitle: "Frieren: Beyond Journey's End", seasonId: 'GFR1', seasonTitle: "Frieren: Beyond Journey's End" };
const JJK = { seriesId: 'GJJK', seriesTitle: 'JUJUTSU KAISEN', seasonId: 'GJJK1', seasonTitle: 'JUJUTSU KAISEN' };
const UNKNOWN = { seriesId: 'GZZQ', seriesTitle: 'Zzyzx Quantum Bakery Chronicles', seasonId: 'GZZQ1', seasonTitle: 'Zzyzx Quantum Bakery Chronicles' };
const at = (month: number, day: number) => new Date(Date.UTC(2026, month - 1, day, 20)).toISOString();

describe('stats', () => {
  it('reports a known history exactly, kept up to date by the sync', async () => {
    const user = await signIn(stack, 'statsfan');
    const empty = await gql(stack, STATS, {}, user.headers);
    expect(empty.errors).toBeUndefined();
    expect(empty.data!.stats).toEqual({
      episodesWatched: 0, hoursWatched: 0, episodesWithoutDuration: 0, byMonth: [], bySeries: [],
      seasonsSynced: 0, seasonsPendingReview: 0, seasonsNeverSynced: 0, malChanges: 0, perEpisodeRequests: 0, malRequestsSaved: 0, updatedAt: null,
    });

    // 24-minute episodes (CR's duration_ms 1,440,000): Frieren 1–4 in January, JJK 1–2 in January and 3 in
    // February, an unknown show (review) 1–2 in February, and a half-watched JJK 4 that does not count.
    const history = {
      data: [
        ...[1, 2, 3, 4].map((n) => v2Episode({ ...FRIEREN, episode: n, played: at(1, 2 + n) })),
        v2Episode({ ...JJK, episode: 1, played: at(1, 20) }),
        v2Episode({ ...JJK, episode: 2, played: at(1, 21) }),
        v2Episode({ ...JJK, episode: 3, played: at(2, 1) }),
        v2Episode({ ...JJK, episode: 4, played: at(2, 2), fully: false, playhead: 300 }),
        ...[1, 2].map((n) => v2Episode({ ...UNKNOWN, episode: n, played: at(2, 10 + n) })),
      ],
    };
    const dry = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history), dryRun: true } }, user.headers);
    expect(dry.errors).toBeUndefined();
    await waitForJob(stack, user.headers, dry.data!.processHistory.jobId);
    expect((await gql(stack, STATS, {}, user.headers)).data!.stats.updatedAt).toBeNull();

    const sent = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history) } }, user.headers);
    const job = await waitForJob(stack, user.headers, sent.data!.processHistory.jobId);
    expect(job.counts).toMatchObject({ applied: 2, needsReview: 1 });

    const { stats } = (await gql(stack, STATS, {}, user.headers)).data!;
    expect(stats).toEqual({
      episodesWatched: 9,
      hoursWatched: 3.6,
      episodesWithoutDuration: 0,
      byMonth: [
        { month: '2026-01', episodes: 6, hours: 2.4 },
        { month: '2026-02', episodes: 3, hours: 1.2 },
      ],
      bySeries: [
        { seriesId: 'GFRIEREN', title: "Frieren: Beyond Journey's End", episodes: 4, hours: 1.6 },
        { seriesId: 'GJJK', title: 'JUJUTSU KAISEN', episodes: 3, hours: 1.2 },
        { seriesId: 'GZZQ', title: 'Zzyzx Quantum Bakery Chronicles', episodes: 2, hours: 0.8 },
      ],
      seasonsSynced: 2,
      seasonsPendingReview: 1,
      seasonsNeverSynced: 0,
      malChanges: 2,
      perEpisodeRequests: 7,
      malRequestsSaved: 5,
      updatedAt: expect.any(String),
    });
  });
});
