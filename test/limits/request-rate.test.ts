/**
 * The per-user request rate: crossing it gives LimitExceeded with the limit, its max and when to retry,
 * and other users are served meanwhile — with the authorizer's answers cached as in AWS, so the count
 * cannot live in the authorizer. The limit is lowered for the test through its documented override.
 */
import { describe, expect, it } from 'vitest';
import { createTestUser, gql, useTestStack } from '../support/stack';

const stack = useTestStack({ env: { LIMIT_REQUESTS_PER_MINUTE: '5' } });

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
    expect(refused.errors?.[0]).toMatchObject({ errorType: 'LimitExceeded', errorInfo: { limit: 'requestsPerMinute', max: 5 } });
    // The session check was answered from the authorizer cache meanwhile.
    expect(stack.authorizerCache.size).toBeGreaterThan(0);
    expect(refused.errors?.[0].errorInfo.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused.errors?.[0].errorInfo.retryAfterSeconds).toBeLessThanOrEqual(60);

    const served = await gql(stack, '{ settings { watchedThreshold } }', {}, other.headers);
    expect(served.errors).toBeUndefined();
    expect(served.data?.settings.watchedThreshold).toBe(0.85);
  });

  it('counts every root field (aliases too), so one request cannot carry more than the limit', async () => {
    const user = await createTestUser(stack);
    const secondsLeft = 60 - (Math.floor(Date.now() / 1000) % 60);
    if (secondsLeft < 5) await new Promise((r) => setTimeout(r, secondsLeft * 1000 + 200));
    // syncJob is nullable: each field answers on its own (an unknown job is null).
    const aliased = await gql(stack, `{ ${Array.from({ length: 7 }, (_, i) => `a${i}: syncJob(id: "none") { jobId }`).join(' ')} }`, {}, user.headers);
    // Five fields fit the window, the sixth and seventh do not.
    expect(aliased.errors?.map((e) => e.errorType)).toEqual(['LimitExceeded', 'LimitExceeded']);
    expect(aliased.errors?.[0].errorInfo).toMatchObject({ limit: 'requestsPerMinute', max: 5 });
  });

  it('does not count API-key callers against anyone', async () => {
    for (let i = 0; i < 7; i += 1) {
      const r = await gql(stack, 'mutation($r: AWSURL!, $h: String!) { startLogin(redirectUri: $r, loginSecretHash: $h) { state } }', { r: stack.redirectUris.at(-1), h: 'A'.repeat(43) });
      expect(r.errors, `request ${i + 1}`).toBeUndefined();
      expect(r.errors?.find((e) => e.errorType === 'LimitExceeded'), `request ${i + 1}`).toBeUndefined();
    }
  });
});
