/**
 * Bad input leaves no stranded state: importData checks every item as the live mutations check their
 * input (settings ranges, ids, index keys, item sizes, the daily history limit) and restores only the
 * caller's data; a sync job whose run keeps failing ends FAILED with a reason and frees the user's sync
 * slot; the per-minute request limit says its max.
 */
import { describe, expect, it } from 'vitest';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createTestUser, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { documents } from '../../functions/shared/dynamo';
import { tableName } from '../../functions/shared/config';

const DAILY_ITEMS = 200;

const stack = useTestStack({
  console: false,
  malSandbox: { rateLimit: false },
  env: { LIMIT_HISTORY_ITEMS_PER_DAY: String(DAILY_ITEMS), LIMIT_REQUESTS_PER_MINUTE: '40', SYNC_LEASE_MS: '1000' },
});

const IMPORT = 'mutation($d: AWSJSON!) { importData(data: $d) { series matches historyEntries settings } }';
const SERIES_HISTORY = 'query($s: ID!) { seriesHistory(seriesId: $s) { items { malId jobId } } }';

function exportDoc(tables: Record<string, unknown[]>) {
  return JSON.stringify({ format: 'animelog-export', version: 1, exportedAt: new Date().toISOString(), userId: 'u-someone', tables: { users: [], 'series-data': [], 'sync-jobs': [], 'sync-history': [], 'mal-mappings': [], ...tables } });
}

function historyEntry(overrides: Record<string, unknown> = {}) {
  return {
    sk: 'JOB#job-imported#00001',
    jobId: 'job-imported',
    seq: 1,
    changeId: 'c1',
    appliedAt: '2026-01-05T20:00:00.000Z',
    seriesId: 'GSG',
    seasonKey: 'GSG:GSG1',
    malId: 9253,
    title: 'Steins;Gate',
    before: null,
    after: { status: 'WATCHING', numEpisodesWatched: 3 },
    ...overrides,
  };
}

function series(seriesId: string, episodes: number) {
  return {
    sk: `SERIES#${seriesId}`,
    seriesId,
    title: `Series ${seriesId}`,
    updatedAt: '2026-01-05T20:00:00.000Z',
    seasons: [
      {
        seasonKey: `${seriesId}:${seriesId}1`,
        crSeasonId: `${seriesId}1`,
        title: 'Season 1',
        seasonNumber: 1,
        audioLocales: ['ja-JP'],
        isMovie: false,
        numberingOffset: 0,
        episodes: Array.from({ length: episodes }, (_, i) => ({
          number: i + 1,
          crEpisodeId: `${seriesId}-e${i + 1}`,
          durationMs: 1_440_000,
          progress: 1,
          fullyWatched: true,
          firstWatchedAt: '2026-01-05T20:00:00.000Z',
          lastWatchedAt: '2026-01-05T20:00:00.000Z',
        })),
        match: null,
      },
    ],
  };
}

describe('importData validates like the live mutations', () => {
  it('never writes into another user\'s series index: a forged userSeries is refused or rebuilt for the caller', async () => {
    const victim = await createTestUser(stack);
    const attacker = await createTestUser(stack);

    // No usable seriesId, and the index key of the victim's series: refused, nothing written.
    const forged = await gql(stack, IMPORT, { d: exportDoc({ 'sync-history': [historyEntry({ seriesId: 42, userSeries: `${victim.userId}#GSG` })] }) }, attacker.headers);
    expect(forged.data).toBeNull();
    expect(forged.errors?.[0]).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'data.tables.sync-history[0].seriesId' } });

    // A valid entry carrying the victim's index key: restored as the attacker's own, never the victim's.
    const rebuilt = await gql(stack, IMPORT, { d: exportDoc({ 'sync-history': [historyEntry({ userSeries: `${victim.userId}#GSG` })] }) }, attacker.headers);
    expect(rebuilt.errors).toBeUndefined();
    expect(rebuilt.data!.importData.historyEntries).toBe(1);

    expect((await gql(stack, SERIES_HISTORY, { s: 'GSG' }, victim.headers)).data!.seriesHistory.items).toEqual([]);
    expect((await gql(stack, SERIES_HISTORY, { s: 'GSG' }, attacker.headers)).data!.seriesHistory.items).toEqual([{ malId: 9253, jobId: 'job-imported' }]);
  });

  it('refuses settings updateSettings would refuse, and the settings query keeps working', async () => {
    const user = await createTestUser(stack);
    const outOfRange = await gql(stack, IMPORT, { d: exportDoc({ users: [{ sk: 'SETTINGS', watchedThreshold: 5 }] }) }, user.headers);
    expect(outOfRange.errors?.[0]).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'data.tables.users[0].watchedThreshold', min: 0.5, max: 1 } });
    const wrongType = await gql(stack, IMPORT, { d: exportDoc({ users: [{ sk: 'SETTINGS', markCompleted: 'yes', malUserId: 1 }] }) }, user.headers);
    expect(wrongType.errors?.[0]).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'data.tables.users[0].markCompleted' } });

    const settings = await gql(stack, '{ settings { watchedThreshold markCompleted } }', {}, user.headers);
    expect(settings).toMatchObject({ status: 200, data: { settings: { watchedThreshold: 0.85, markCompleted: true } } });
    expect(settings.errors).toBeUndefined();

    const good = await gql(stack, IMPORT, { d: exportDoc({ users: [{ sk: 'SETTINGS', watchedThreshold: 0.7, markCompleted: false }] }) }, user.headers);
    expect(good.errors).toBeUndefined();
    expect((await gql(stack, '{ settings { watchedThreshold markCompleted } }', {}, user.headers)).data!.settings).toEqual({ watchedThreshold: 0.7, markCompleted: false });
  });

  it('refuses bad keys and over-long ids, restores no unfinished job, and counts restored episodes against the daily limit', async () => {
    const user = await createTestUser(stack);
    const wrongKey = await gql(stack, IMPORT, { d: exportDoc({ 'series-data': [{ ...series('GSG', 1), sk: 'SERIES#SOMEONE-ELSE' }] }) }, user.headers);
    expect(wrongKey.errors?.[0]).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'data.tables.series-data[0].sk' } });
    const longId = await gql(stack, IMPORT, { d: exportDoc({ 'series-data': [series('X'.repeat(1500), 1)] }) }, user.headers);
    expect(longId.errors?.[0]).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'data.tables.series-data[0].seriesId', max: 128 } });

    // A job exported while running: not restored, so it cannot hold the user's one sync slot.
    const running = { sk: 'JOB#job-stale', jobId: 'job-stale', status: 'RUNNING', phase: 'MATCHING', createdAt: '2026-01-05T20:00:00.000Z', counts: {} };
    const done = { sk: 'JOB#job-done', jobId: 'job-done', status: 'SUCCEEDED', phase: 'DONE', createdAt: '2026-01-05T20:00:00.000Z', finishedAt: '2026-01-05T20:01:00.000Z', counts: {} };
    const restored = await gql(stack, IMPORT, { d: exportDoc({ 'series-data': [series('GSG', 3)], 'sync-jobs': [running, done] }) }, user.headers);
    expect(restored.errors).toBeUndefined();
    const jobs = await documents().send(new QueryCommand({ TableName: tableName('sync-jobs'), KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': user.userId } }));
    expect(jobs.Items!.map((i) => i.sk)).toEqual(['JOB#job-done']);
    const sync = await gql(stack, 'mutation($i: ProcessHistoryInput!) { processHistory(input: $i) { status } }', { i: { format: 'COMPACT', history: JSON.stringify({ items: [{ seriesId: 'GSG', seriesTitle: 'Steins;Gate', seasonId: 'GSG1', episodeNumber: 1, watchedAt: '2026-01-01T20:00:00Z' }] }) } }, user.headers);
    expect(sync.errors).toBeUndefined();

    // More episodes than the day's history allowance left: refused as processHistory would be.
    const tooMany = await gql(stack, IMPORT, { d: exportDoc({ 'series-data': [series('GBIG', DAILY_ITEMS)] }) }, user.headers);
    expect(tooMany.errors?.[0]).toMatchObject({ errorType: 'LimitExceeded', errorInfo: { limit: 'historyItemsPerDay' } });
  });
});

describe('a sync job whose run keeps failing', () => {
  it('ends FAILED with a reason and releases the user\'s lock, so the next sync is accepted', async () => {
    const user = await signIn(stack, 'poisoned_user');
    // The user's stored MAL tokens become unreadable: every run of the user's job fails the same way.
    await documents().send(new UpdateCommand({ TableName: tableName('user-tokens'), Key: { userId: user.viewer.userId }, UpdateExpression: 'SET sealedTokens = :bad', ExpressionAttributeValues: { ':bad': 'v1.not-a-sealed-token' } }));
    const item = { seriesId: 'GSG', seriesTitle: 'Steins;Gate', seasonId: 'GSG1', episodeNumber: 1, watchedAt: '2026-01-01T20:00:00Z' };
    const PROCESS = 'mutation($i: ProcessHistoryInput!) { processHistory(input: $i) { jobId status } }';
    const queued = await gql(stack, PROCESS, { i: { format: 'COMPACT', history: JSON.stringify({ items: [item] }) } }, user.headers);
    expect(queued.errors).toBeUndefined();
    const jobId = queued.data!.processHistory.jobId as string;

    const deadline = Date.now() + 30_000;
    let job: any;
    for (;;) {
      job = (await gql(stack, 'query($id: ID!) { syncJob(id: $id) { status errors { errorType message } } }', { id: jobId }, user.headers)).data?.syncJob;
      if (job?.status === 'FAILED' || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(job.status).toBe('FAILED');
    const reason = job.errors.at(-1);
    expect(reason.errorType).toBe('InternalError');
    expect(reason.message).toMatch(/failed 3 times in a row .*reference [0-9a-f-]{36}/);

    const lock = await documents().send(new QueryCommand({ TableName: tableName('sync-jobs'), KeyConditionExpression: 'userId = :u AND sk = :l', ExpressionAttributeValues: { ':u': user.viewer.userId, ':l': 'LOCK' } }));
    expect(lock.Items?.filter((i) => i.owner) ?? []).toEqual([]);
    const next = await gql(stack, PROCESS, { i: { format: 'COMPACT', history: JSON.stringify({ items: [item] }) } }, user.headers);
    expect(next.errors).toBeUndefined();
    expect(next.data!.processHistory.status).toBe('QUEUED');
  }, 60_000);
});

describe('the per-minute request limit', () => {
  it('answers LimitExceeded with the limit, its max and when to retry', async () => {
    const user = await createTestUser(stack);
    let refused: any;
    for (let i = 0; i < 45 && !refused; i++) {
      const out = await gql(stack, '{ me { userId } }', {}, user.headers);
      refused = out.errors?.find((e) => e.errorType === 'LimitExceeded');
    }
    expect(refused).toBeDefined();
    expect(refused.errorInfo).toMatchObject({ limit: 'requestsPerMinute', max: 40 });
    expect(refused.errorInfo.retryAfterSeconds).toBeGreaterThan(0);
  });
});

describe('extreme input', () => {
  it('answers a 100,000-deep JSON argument with a validation error naming the limit, and keeps serving', async () => {
    const user = await createTestUser(stack);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const history = await gql(stack, 'mutation($i: ProcessHistoryInput!) { processHistory(input: $i) { jobId } }', { i: { history: deep } }, user.headers);
    expect(history.errors?.[0]?.message).toMatch(/nested deeper than 512 levels/);
    expect(history.errors?.[0]?.errorType).not.toBe('InternalError');
    const imported = await gql(stack, 'mutation($d: AWSJSON!) { importData(data: $d) { series } }', { d: deep }, user.headers);
    expect(imported.errors?.[0]?.message).toMatch(/nested deeper than 512 levels/);
    // A string full of brackets is not nesting.
    const text = JSON.stringify({ data: [], note: '['.repeat(1000) });
    const fine = await gql(stack, 'mutation($i: ProcessHistoryInput!) { processHistory(input: $i) { jobId } }', { i: { history: text, dryRun: true } }, user.headers);
    expect(fine.errors?.[0]?.message ?? '').not.toMatch(/nested deeper/);
    const after = await gql(stack, 'query { settings { watchedThreshold } }', {}, user.headers);
    expect(after.errors).toBeUndefined();
  });
});
