/**
 * Two edges of storing a history: a series whose episode list is too long for one DynamoDB item (the
 * sync still runs and says so), and a job whose last part was stored but never queued (retrySync runs it).
 */
import { describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { MAX_ITEM_BYTES, documents, itemSizeBytes } from '../../functions/shared/dynamo';
import { tableName } from '../../functions/shared/config';
import { getJob, newJobItem, storePart } from '../../functions/sync/store';
import { FAST_MAL_CLIENT, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { PROCESS_HISTORY, day, listView, v2Episode, waitForJob } from './support';

const stack = useTestStack({ malSandbox: { rateLimit: false }, env: FAST_MAL_CLIENT });

const SERIES = 'query { series(limit: 50) { items { seriesId title seasons { episodes { number } } } } }';

describe('storing the history', () => {
  it('counts item sizes at or above what DynamoDB counts, so an item it passes is one DynamoDB takes', async () => {
    const table = tableName('series-data');
    const element = { n: 1000, s: 'x'.repeat(80) };
    const filler = (bytes: number) => ({ userId: 'size-probe', sk: `SERIES#${bytes}`, episodes: Array.from({ length: Math.round(bytes / (1 + itemSizeBytes(element))) }, () => element) });
    const under = filler(MAX_ITEM_BYTES - 8 * 1024);
    expect(itemSizeBytes(under)).toBeLessThan(MAX_ITEM_BYTES);
    await documents().send(new PutCommand({ TableName: table, Item: under }));
    const over = filler(MAX_ITEM_BYTES * 1.1);
    expect(itemSizeBytes(over)).toBeGreaterThan(MAX_ITEM_BYTES);
    await expect(documents().send(new PutCommand({ TableName: table, Item: over }))).rejects.toThrow(/size/i);
  });

  it('syncs a series too long to keep for the series list, names it in the job errors, and keeps the others', async () => {
    const user = await signIn(stack, 'longseries');
    const long = Array.from({ length: 2600 }, (_, i) =>
      v2Episode({ seriesId: 'GLONG', seriesTitle: 'One Piece', seasonId: 'GLONG1', seasonTitle: 'One Piece', episode: i + 1, played: day(1 + Math.floor(i / 100)) }),
    );
    const short = [1, 2, 3].map((n) => v2Episode({ seriesId: 'GSG', seriesTitle: 'Steins;Gate', seasonId: 'GSG1', seasonTitle: 'Steins;Gate', episode: n, played: day(40 + n) }));
    const parts = [long.slice(0, 1300), [...long.slice(1300), ...short]];
    const first = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify({ data: parts[0] }), part: 1, totalParts: 2 } }, user.headers);
    expect(first.errors).toBeUndefined();
    const jobId = first.data!.processHistory.jobId;
    const second = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify({ data: parts[1] }), part: 2, totalParts: 2, jobId } }, user.headers);
    expect(second.errors).toBeUndefined();

    const job = await waitForJob(stack, user.headers, jobId);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.errors).toEqual([
      expect.objectContaining({ errorType: 'LimitExceeded', message: expect.stringMatching(/^"One Piece" has 2600 episodes watched, .*the sync goes ahead/) }),
    ]);
    const list = listView(stack.malSandbox!.getList('longseries'));
    // Both seasons went through matching (2,600 episodes is no MAL entry's count, so One Piece waits for review).
    expect(job.counts).toMatchObject({ seasons: 2, matched: 1, needsReview: 1 });
    expect(list[9253]).toMatchObject({ status: 'watching', episodes: 3 });
    const series = await gql(stack, SERIES, {}, user.headers);
    expect(series.errors).toBeUndefined();
    expect(series.data!.series.items.map((s: { title: string }) => s.title)).toEqual(['Steins;Gate']);
  });

  it('runs a job whose last part was stored but which was never queued, when the user retries it', async () => {
    const user = await signIn(stack, 'unqueued');
    const history = [1, 2, 3, 4].map((n) => v2Episode({ seriesId: 'GSG', seriesTitle: 'Steins;Gate', seasonId: 'GSG1', seasonTitle: 'Steins;Gate', episode: n, played: day(n) }));
    const first = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify({ data: history.slice(0, 2) }), part: 1, totalParts: 2 } }, user.headers);
    const jobId = first.data!.processHistory.jobId;
    // The call carrying part 2 stored it and then died before queueing the job.
    const receiving = await getJob(user.viewer.userId, jobId);
    await storePart({ job: receiving!, isNew: false, part: 2, items: history.slice(2), historyItems: 2 });
    const stuck = await getJob(user.viewer.userId, jobId);
    expect(stuck).toMatchObject({ status: 'RECEIVING', receivedParts: 2, totalParts: 2 });

    const retried = await gql(stack, 'mutation($j: ID!) { retrySync(jobId: $j) { status } }', { j: jobId }, user.headers);
    expect(retried.errors).toBeUndefined();
    expect(retried.data!.retrySync.status).toBe('QUEUED');
    const job = await waitForJob(stack, user.headers, jobId);
    expect(job.status).toBe('SUCCEEDED');
    expect(listView(stack.malSandbox!.getList('unqueued'))[9253]).toMatchObject({ status: 'watching', episodes: 4 });
    const series = await gql(stack, SERIES, {}, user.headers);
    expect(series.data!.series.items[0].seasons[0].episodes.map((e: { number: number }) => e.number)).toEqual([1, 2, 3, 4]);
  });

  it('still refuses to retry a job that is missing parts', async () => {
    const user = await signIn(stack, 'halfsent');
    const job = newJobItem(user.viewer.userId, `j${Date.now()}`, { dryRun: false, format: 'CR_V2', totalParts: 2, now: new Date().toISOString() });
    await storePart({ job, isNew: true, part: 1, items: [], historyItems: 0 });
    const retried = await gql(stack, 'mutation($j: ID!) { retrySync(jobId: $j) { status } }', { j: job.jobId }, user.headers);
    expect(retried.errors?.[0]).toMatchObject({ errorType: 'Conflict', message: expect.stringContaining('1 of 2 history parts') });
  });
});
