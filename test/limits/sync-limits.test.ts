/**
 * Per-user sync limits through GraphQL: one active job at a time, sync starts per hour, history items
 * per day. Each crossing gives LimitExceeded with when to retry; other users are served meanwhile.
 * Limits are lowered for the test through their documented LIMIT_* overrides.
 */
import { describe, expect, it } from 'vitest';
import { createTestUser, gql, useTestStack } from '../support/stack';
import { PROCESS_HISTORY, day, v2Episode, waitForJob } from '../sync/support';

const stack = useTestStack({ env: { LIMIT_SYNC_STARTS_PER_HOUR: '3', LIMIT_HISTORY_ITEMS_PER_DAY: '40' } });

function history(items: number, series = 'GLIM') {
  return {
    data: Array.from({ length: items }, (_, i) =>
      v2Episode({ seriesId: series, seriesTitle: 'Limits Test Show', seasonId: `${series}1`, seasonTitle: 'Limits Test Show', episode: i + 1, played: day(1 + (i % 20)) }),
    ),
  };
}

async function send(headers: Record<string, string>, items: number, extra: Record<string, unknown> = {}) {
  return gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history(items)), ...extra } }, headers);
}

describe('per-user sync limits', () => {
  it('allows one active sync job per user', async () => {
    const user = await createTestUser(stack);
    const first = await send(user.headers, 2, { totalParts: 2, part: 1 });
    expect(first.errors).toBeUndefined();
    expect(first.data!.processHistory.status).toBe('RECEIVING');
    const second = await send(user.headers, 2);
    expect(second.errors?.[0]).toMatchObject({
      errorType: 'LimitExceeded',
      errorInfo: { limit: 'concurrentSyncJobs', activeJobId: first.data!.processHistory.jobId, retryAfterSeconds: expect.any(Number) },
    });
    const other = await createTestUser(stack);
    expect((await send(other.headers, 2)).errors).toBeUndefined();
  });

  it('limits sync starts per hour', async () => {
    const user = await createTestUser(stack);
    for (let i = 0; i < 3; i += 1) {
      const started = await send(user.headers, 1);
      expect(started.errors, `start ${i + 1}`).toBeUndefined();
      await waitForJob(stack, user.headers, started.data!.processHistory.jobId);
    }
    const refused = await send(user.headers, 1);
    expect(refused.errors?.[0]).toMatchObject({ errorType: 'LimitExceeded', errorInfo: { limit: 'syncStartsPerHour', max: 3 } });
    expect(refused.errors?.[0].errorInfo.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused.errors?.[0].errorInfo.retryAfterSeconds).toBeLessThanOrEqual(3600);
    const other = await createTestUser(stack);
    expect((await send(other.headers, 1)).errors).toBeUndefined();
  });

  it('limits history items per day', async () => {
    const user = await createTestUser(stack);
    const first = await send(user.headers, 30);
    expect(first.errors).toBeUndefined();
    await waitForJob(stack, user.headers, first.data!.processHistory.jobId);
    const refused = await send(user.headers, 30);
    expect(refused.errors?.[0]).toMatchObject({ errorType: 'LimitExceeded', errorInfo: { limit: 'historyItemsPerDay', max: 40 } });
    const series = await gql(stack, '{ series { items { seriesId seasons { episodes { number } } } } }', {}, user.headers);
    expect(series.data!.series.items[0].seasons[0].episodes).toHaveLength(30);
    const other = await createTestUser(stack);
    expect((await send(other.headers, 30)).errors).toBeUndefined();
  });
});
