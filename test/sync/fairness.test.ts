/**
 * The client's MAL budget is fair between users, end to end through GraphQL: with the sandbox's rate limit
 * on and the budget shared through the rate-limits table (as in AWS), a user's 3-episode sync finishes
 * within 2× its time alone while another user's backfill is matching and applying; the bucket's per-user
 * shares show that each job's calls were counted against its own user.
 */
import { describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../../functions/shared/dynamo';
import { tableName } from '../../functions/shared/config';
import { gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { PROCESS_HISTORY, SYNC_JOB, day, v2Episode, waitForJob } from './support';

/** MAL's pace for this test: fast enough to stay short, slow enough that MAL time dominates a sync. */
const RATE_PER_SECOND = 5;
const ENV = { MAL_RATE_LIMIT_PER_SECOND: String(RATE_PER_SECOND), MAL_RATE_LIMIT_BURST: '1', MAL_SHARED_RATE_LIMIT: 'true' };
// useTestStack puts process.env back after the stop: later files of this worker do not inherit ENV.
const stack = useTestStack({ malSandbox: { faults: { rateLimitPerSecond: RATE_PER_SECOND + 3 } }, env: ENV });

/**
 * The backfill: 14 TV seasons of the sandbox's catalog (not the shows of the small syncs), cold: about 50
 * MAL calls, 10 s at the test's pace, so it outlasts the small sync by several seconds.
 */
const BACKFILL: Array<{ seriesId: string; seriesTitle: string; seasonTitle: string; seasonNumber: number; episodes: number }> = [
  ['Cowboy Bebop', 'Cowboy Bebop', 1, 26],
  ['Fullmetal Alchemist: Brotherhood', 'Fullmetal Alchemist: Brotherhood', 1, 12],
  ['Steins;Gate', 'Steins;Gate', 1, 24],
  ['Attack on Titan', 'Attack on Titan', 1, 25],
  ['Attack on Titan', 'Attack on Titan Season 2', 2, 12],
  ['Attack on Titan', 'Attack on Titan Season 3', 3, 12],
  ['One-Punch Man', 'One-Punch Man', 1, 12],
  ['One-Punch Man', 'One-Punch Man Season 2', 2, 12],
  ['Steins;Gate 0', 'Steins;Gate 0', 1, 23],
  ['Re:ZERO -Starting Life in Another World-', 'Re:ZERO -Starting Life in Another World-', 1, 25],
  ['My Hero Academia', 'My Hero Academia', 1, 13],
  ['My Hero Academia', 'My Hero Academia Season 2', 2, 25],
  ['My Hero Academia', 'My Hero Academia Season 3', 3, 25],
  ['Demon Slayer: Kimetsu no Yaiba', 'Demon Slayer: Kimetsu no Yaiba', 1, 26],
].map(([seriesTitle, seasonTitle, seasonNumber, episodes], i) => ({ seriesId: `GFAIRB${i}`, seriesTitle: seriesTitle as string, seasonTitle: seasonTitle as string, seasonNumber: seasonNumber as number, episodes: episodes as number }));

function backfillHistory() {
  const data = [];
  let d = 1;
  for (const [i, show] of BACKFILL.entries()) {
    for (let e = 1; e <= Math.min(show.episodes, 6); e++) {
      data.push(v2Episode({ ...show, seasonId: `GFAIRB${i}S${show.seasonNumber}`, episode: e, played: day(1 + (d++ % 300), 2024) }));
    }
  }
  return { data };
}

/** A returning user's day: three episodes of one show. */
function smallHistory(seriesId: string, title: string) {
  return { data: [1, 2, 3].map((e) => v2Episode({ seriesId, seriesTitle: title, seasonId: `${seriesId}S1`, seasonTitle: title, episode: e, played: day(10 + e) })) };
}

async function start(headers: Record<string, string>, history: object): Promise<string> {
  const result = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history) } }, headers);
  expect(result.errors).toBeUndefined();
  return result.data!.processHistory.jobId;
}

/** Sends the history and waits for its job; returns the job, its duration and the MAL requests made for the user. */
async function timedSync(headers: Record<string, string>, malUser: string, history: object) {
  const logStart = stack.malSandbox!.requestLog.at(-1)?.seq ?? 0;
  const started = performance.now();
  const jobId = await start(headers, history);
  const job = await waitForJob(stack, headers, jobId, 60_000);
  const ms = performance.now() - started;
  const malRequests = stack.malSandbox!.requestLog.filter((r) => r.seq > logStart && r.userName === malUser && r.path.startsWith('/v2/')).length;
  return { job, ms, malRequests };
}

describe('fair MAL budget between users', () => {
  it("a 3-episode sync finishes within 2× its time alone while another user's backfill runs", async () => {
    const alone = await signIn(stack, 'fairalone');
    const heavy = await signIn(stack, 'fairheavy');
    const small = await signIn(stack, 'fairsmall');

    // Alone: a returning user's three episodes of Trigun (nothing cached yet).
    const solo = await timedSync(alone.headers, 'fairalone', smallHistory('GFAIRTRIGUN', 'Trigun'));
    expect(solo.job.status).toBe('SUCCEEDED');
    expect(solo.job.counts.applied).toBe(1);

    // The backfill starts, and is matching (one MAL call after another) when the small sync arrives.
    const backfillJob = await start(heavy.headers, backfillHistory());
    const heavyStart = stack.malSandbox!.requestLog.at(-1)?.seq ?? 0;
    for (let i = 0; i < 100; i++) {
      const busy = stack.malSandbox!.requestLog.filter((r) => r.seq > heavyStart && r.userName === 'fairheavy').length;
      if (busy >= 2 * RATE_PER_SECOND) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // Same shape of sync, another show of the same kind (one TV season, nothing cached), so the same MAL calls.
    const loaded = await timedSync(small.headers, 'fairsmall', smallHistory('GFAIRDEATHNOTE', 'Death Note'));
    const backfill = (await gql(stack, SYNC_JOB, { id: backfillJob }, heavy.headers)).data!.syncJob;

    console.log(JSON.stringify({ aloneMs: Math.round(solo.ms), aloneMalRequests: solo.malRequests, duringBackfillMs: Math.round(loaded.ms), duringBackfillMalRequests: loaded.malRequests, backfill: backfill.status }));
    expect(loaded.job.status).toBe('SUCCEEDED');
    expect(loaded.job.counts.applied).toBe(1);
    expect(loaded.malRequests).toBeLessThanOrEqual(solo.malRequests);
    // The backfill was really competing: still running when the small sync ended.
    expect(['QUEUED', 'RUNNING']).toContain(backfill.status);
    expect(loaded.ms).toBeLessThanOrEqual(2 * solo.ms);

    // Each job's calls were counted against its own user in the shared bucket.
    const bucket = (await documents().send(new GetCommand({ TableName: tableName('rate-limits'), Key: { bucket: `mal:${stack.malSandbox!.clientId}` }, ConsistentRead: true }))).Item!;
    const [heavyId, smallId] = [heavy.viewer.userId, small.viewer.userId];
    expect(Object.keys(bucket.shares)).toEqual(expect.arrayContaining([heavyId, smallId]));
    expect(bucket.shares[heavyId].u).toBeGreaterThan(bucket.shares[smallId].u);

    const done = await waitForJob(stack, heavy.headers, backfillJob, 120_000);
    expect(['SUCCEEDED', 'PARTIAL']).toContain(done.status);
  }, 240_000);
});
