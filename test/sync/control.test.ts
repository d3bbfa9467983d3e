/** Dry run, cancel/retry and confirmMatch through GraphQL. */
import { describe, expect, it } from 'vitest';
import { FAST_MAL_CLIENT, createTestUser, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { PROCESS_HISTORY, SYNC_JOB, day, v2Episode, waitForJob } from './support';

const stack = useTestStack({ malSandbox: { rateLimit: false }, env: FAST_MAL_CLIENT });

const history = { data: [1, 2, 3].map((n) => v2Episode({ seriesId: 'GSG', seriesTitle: 'Steins;Gate', seasonId: 'GSG1', seasonTitle: 'Steins;Gate', episode: n, played: day(n) })) };

describe('sync control', () => {
  it('plans a dry run without writing to MAL', async () => {
    const user = await signIn(stack, 'dryrunner');
    const sent = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history), dryRun: true } }, user.headers);
    const job = await waitForJob(stack, user.headers, sent.data!.processHistory.jobId);
    expect(job.status).toBe('SUCCEEDED');
    const full = await gql(stack, SYNC_JOB, { id: job.jobId }, user.headers);
    expect(full.data!.syncJob.plan).toEqual([
      expect.objectContaining({ malId: 9253, before: { status: null, numEpisodesWatched: 0 }, after: expect.objectContaining({ status: 'WATCHING', numEpisodesWatched: 3, startDate: '2026-01-01' }) }),
    ]);
    expect(stack.malSandbox!.getList('dryrunner')).toEqual([]);
  });

  it('cancels a job, refuses to retry one missing parts, and keeps jobs to their owner', async () => {
    const user = await createTestUser(stack);
    const first = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history), part: 1, totalParts: 2 } }, user.headers);
    const jobId = first.data!.processHistory.jobId;
    const other = await createTestUser(stack);
    expect((await gql(stack, 'mutation($j: ID!) { cancelSync(jobId: $j) { status } }', { j: jobId }, other.headers)).errors?.[0]?.errorType).toBe('NotFound');
    const cancelled = await gql(stack, 'mutation($j: ID!) { cancelSync(jobId: $j) { status finishedAt } }', { j: jobId }, user.headers);
    expect(cancelled.data!.cancelSync.status).toBe('CANCELLED');
    expect((await gql(stack, 'mutation($j: ID!) { cancelSync(jobId: $j) { status } }', { j: jobId }, user.headers)).errors?.[0]?.errorType).toBe('Conflict');
    expect((await gql(stack, 'mutation($j: ID!) { retrySync(jobId: $j) { status } }', { j: jobId }, user.headers)).errors?.[0]?.errorType).toBe('Conflict');
  });

  it('confirms a match for the caller\'s own season only, and the next sync uses it', async () => {
    const user = await signIn(stack, 'confirmer');
    const sent = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history), dryRun: true } }, user.headers);
    await waitForJob(stack, user.headers, sent.data!.processHistory.jobId);
    const series = await gql(stack, 'query { series { items { seasons { seasonKey } } } }', {}, user.headers);
    const seasonKey = series.data!.series.items[0].seasons[0].seasonKey;
    const stranger = await createTestUser(stack);
    const refused = await gql(stack, 'mutation($i: ConfirmMatchInput!) { confirmMatch(input: $i) { malId } }', { i: { seasonKey, malId: 30484 } }, stranger.headers);
    expect(refused.errors?.[0]?.errorType).toBe('NotFound');
    const confirmed = await gql(stack, 'mutation($i: ConfirmMatchInput!) { confirmMatch(input: $i) { seasonKey malId source needsReview } }', { i: { seasonKey, malId: 30484 } }, user.headers);
    expect(confirmed.data!.confirmMatch).toEqual({ seasonKey, malId: 30484, source: 'USER', needsReview: false });
    const candidates = await gql(stack, 'query($k: ID!) { matchCandidates(seasonKey: $k) { malId title confidence } }', { k: seasonKey }, user.headers);
    expect(candidates.errors).toBeUndefined();
    expect(candidates.data!.matchCandidates[0].malId).toBe(9253);
    const again = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history) } }, user.headers);
    expect((await waitForJob(stack, user.headers, again.data!.processHistory.jobId)).status).toBe('SUCCEEDED');
    expect(stack.malSandbox!.getList('confirmer').map((e) => e.animeId)).toEqual([30484]);
  });
});
