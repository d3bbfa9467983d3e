/**
 * The per-user request rate: crossing it gives LimitExceeded with when to retry, and other users are
 * served meanwhile. The limit is lowered for the test through its documented override.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { createTestUser, gql, startTestStack } from '../support/stack';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ env: { LIMIT_REQUESTS_PER_MINUTE: '5' } });
});
afterAll(async () => {
  await stack?.stop();
  delete process.env.LIMIT_REQUESTS_PER_MINUTE;
});

describe('requests per user per minute', () => {
  it('refuses the request past the limit with LimitExceeded and retryAfterSeconds, while another user is served', async () => {
    const busy = await createTestUser(stack);
    const other = await createTestUser(stack);
    // Stay clear of a minute boundary so all requests fall in one window.
    const secondsLeft = 60 - (Math.floor(Date.now() / 1000) % 60);
    if (secondsLeft < 5) await new Promise((r) => setTimeout(r, secondsLeft * 1000 + 200));
    for (let i = 0; i < 5; i += 1) {
      const ok = await gql(stack, '{ settings { watchedThreshold } }', {}, busy.headers);
      expect(ok.errors, `request ${i + 1}`).toBeUndefined();
    }
    const refused = await gql(stack, '{ settings { watchedThreshold } }', {}, busy.headers);
    expect(refused.status).toBe(200);
    expect(refused.errors?.[0]).toMatchObject({ errorType: 'LimitExceeded', errorInfo: { limit: 'requestsPerMinute' } });
    expect(refused.errors?.[0].errorInfo.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused.errors?.[0].errorInfo.retryAfterSeconds).toBeLessThanOrEqual(60);

    const served = await gql(stack, '{ settings { watchedThreshold } }', {}, other.headers);
    expect(served.errors).toBeUndefined();
    expect(served.data?.settings.watchedThreshold).toBe(0.85);
  });
});
