/**
 * MAL blocking us (it blocks cloud IP ranges): the sandbox answers every API call with an HTML 403 page.
 * A sync job meeting it is PAUSED with the reason and its resume time (not FAILED, not retried into the
 * block), the MalBlocked metric is emitted, and once MAL answers again the job resumes by itself and
 * finishes. A direct call gets the MalBlocked error.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FAST_MAL_CLIENT, QUICK_MAL_RETRIES, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';

/** The pause while MAL blocks us (900 s deployed; SQS's delay is in whole seconds). */
const PAUSE_SECONDS = 1;
const stack = useTestStack({ console: false, malSandbox: { rateLimit: false }, env: { ...FAST_MAL_CLIENT, ...QUICK_MAL_RETRIES, MAL_BLOCKED_PAUSE_SECONDS: String(PAUSE_SECONDS) } });
const metricLines: string[] = [];

beforeAll(() => {
  // Metrics are CloudWatch EMF lines on stdout: the MalBlocked ones are kept here (not printed).
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.includes('"MalBlocked"')) {
      metricLines.push(chunk);
      return true;
    }
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write);
});
afterEach(() => {
  stack.malSandbox!.setFaults({ failRate: 0, failStatus: 500, failBody: 'html' });
});
// Runs before the stack's stop (hooks after all run in reverse order).
afterAll(() => {
  vi.restoreAllMocks();
});

const HISTORY = JSON.stringify({
  items: [1, 2, 3].map((n) => ({
    seriesId: 'GSG',
    seriesTitle: 'Steins;Gate',
    seasonId: 'GSG1',
    seasonNumber: 1,
    episodeNumber: n,
    durationMs: 1_440_000,
    fullyWatched: true,
    watchedAt: `2026-01-0${n}T20:00:00Z`,
  })),
});

const JOB = 'query($id: ID!) { syncJob(id: $id) { status phase pausedUntil counts { applied } errors { errorType message } } }';

async function waitForJob(headers: Record<string, string>, jobId: string, done: (job: any) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await gql(stack, JOB, { id: jobId }, headers)).data?.syncJob;
    if (job && done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job not as expected in time: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('MAL blocking', () => {
  it('pauses a sync job on a block page, shows why and until when, emits MalBlocked, and resumes it once MAL answers', async () => {
    const user = await signIn(stack, 'blocked_user');
    const sandbox = stack.malSandbox!;
    const before = sandbox.requestLog.length;
    sandbox.setFaults({ failRate: 1, failStatus: 403 });

    const queued = await gql(stack, 'mutation($i: ProcessHistoryInput!) { processHistory(input: $i) { jobId } }', { i: { format: 'COMPACT', history: HISTORY } }, user.headers);
    expect(queued.errors).toBeUndefined();
    const jobId = queued.data!.processHistory.jobId as string;

    const paused = await waitForJob(user.headers, jobId, (job) => job.status === 'PAUSED', 20_000);
    expect(Date.parse(paused.pausedUntil)).toBeGreaterThan(Date.now() - 1000);
    expect(paused.errors).toEqual([expect.objectContaining({ errorType: 'MalBlocked' })]);
    expect(paused.errors[0].message).toMatch(/blocking/);
    expect(metricLines.map((line) => JSON.parse(line))).toContainEqual(expect.objectContaining({ MalBlocked: 1, _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Namespace: 'AnimeLog' })] }) }));
    // A block page is not retried into: MAL saw only a handful of requests.
    const blockedRequests = sandbox.requestLog.slice(before).filter((entry) => entry.fault === 'injected');
    expect(blockedRequests.length).toBeGreaterThan(0);
    expect(blockedRequests.length).toBeLessThanOrEqual(3);

    // Paused, the job still holds the user's one sync.
    const second = await gql(stack, 'mutation($i: ProcessHistoryInput!) { processHistory(input: $i) { jobId } }', { i: { format: 'COMPACT', history: HISTORY } }, user.headers);
    expect(second.errors?.[0]).toMatchObject({ errorType: 'LimitExceeded', errorInfo: { limit: 'concurrentSyncJobs', activeJobId: jobId } });

    sandbox.setFaults({ failRate: 0 });
    const finished = await waitForJob(user.headers, jobId, (job) => job.status === 'SUCCEEDED', 30_000);
    expect(finished).toMatchObject({ phase: 'DONE', pausedUntil: null, counts: { applied: 1 } });
    expect(sandbox.getList('blocked_user').find((e) => e.animeId === 9253)?.listStatus).toMatchObject({ num_episodes_watched: 3 });
  }, 90_000);

  it('pauses a job on a storm of 403s that the whole retry budget does not end, and resumes it', async () => {
    const user = await signIn(stack, 'storm_user');
    stack.malSandbox!.setFaults({ failRate: 1, failStatus: 403, failBody: 'json' });
    const queued = await gql(stack, 'mutation($i: ProcessHistoryInput!) { processHistory(input: $i) { jobId } }', { i: { format: 'COMPACT', history: HISTORY } }, user.headers);
    const jobId = queued.data!.processHistory.jobId as string;
    const paused = await waitForJob(user.headers, jobId, (job) => job.status === 'PAUSED' || job.status === 'FAILED', 60_000);
    expect(paused.status).toBe('PAUSED');
    expect(paused.errors.at(-1)).toMatchObject({ errorType: 'MalBlocked' });

    stack.malSandbox!.setFaults({ failRate: 0, failBody: 'html' });
    expect(await waitForJob(user.headers, jobId, (job) => job.status === 'SUCCEEDED', 30_000)).toMatchObject({ pausedUntil: null, counts: { applied: 1 } });
  }, 120_000);

  it('lets the user cancel a paused job; its delayed resumption then leaves it cancelled', async () => {
    const user = await signIn(stack, 'blocked_cancel');
    stack.malSandbox!.setFaults({ failRate: 1, failStatus: 403 });
    const queued = await gql(stack, 'mutation($i: ProcessHistoryInput!) { processHistory(input: $i) { jobId } }', { i: { format: 'COMPACT', history: HISTORY } }, user.headers);
    const jobId = queued.data!.processHistory.jobId as string;
    await waitForJob(user.headers, jobId, (job) => job.status === 'PAUSED', 20_000);
    const cancelled = await gql(stack, 'mutation($id: ID!) { cancelSync(jobId: $id) { status } }', { id: jobId }, user.headers);
    expect(cancelled.data?.cancelSync).toEqual({ status: 'CANCELLED' });
    stack.malSandbox!.setFaults({ failRate: 0 });
    await new Promise((r) => setTimeout(r, PAUSE_SECONDS * 1000 + 1000)); // past the pause: the delayed message has come
    expect((await gql(stack, JOB, { id: jobId }, user.headers)).data!.syncJob.status).toBe('CANCELLED');
  }, 60_000);

  it('answers a direct MAL call with MalBlocked while MAL blocks us', async () => {
    const user = await signIn(stack, 'blocked_direct');
    stack.malSandbox!.setFaults({ failRate: 1, failStatus: 403 });
    const result = await gql(stack, 'mutation($i: UpdateSeriesStatusInput!) { updateSeriesStatus(input: $i) { malId } }', { i: { malId: 9253, status: 'WATCHING' } }, user.headers);
    expect(result.errors?.[0]).toMatchObject({ errorType: 'MalBlocked', errorInfo: { retryAfterSeconds: 900 } });
  });
});
