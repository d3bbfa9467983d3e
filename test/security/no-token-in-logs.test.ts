/**
 * A full sign-in + sync (with MAL throttling, failures and a token refresh on the way) + sign-out writes
 * no token or client secret to the logs: everything the process prints is captured and searched.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FAST_MAL_CLIENT, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { loadMalTokens } from '../../functions/auth/mal-tokens';
import { PROCESS_HISTORY, day, v2Episode, waitForJob } from '../sync/support';

const stack = useTestStack({ env: { ...FAST_MAL_CLIENT, MAL_MAX_RETRIES: '6' } });
const printed: string[] = [];
const originals = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
const consoleOriginals = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };

function capture() {
  const keep = (chunk: unknown) => {
    printed.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
    return true;
  };
  process.stdout.write = ((chunk: unknown) => keep(chunk)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown) => keep(chunk)) as typeof process.stderr.write;
  for (const level of Object.keys(consoleOriginals) as (keyof typeof consoleOriginals)[]) {
    console[level] = (...args: unknown[]) => {
      keep(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a, Object.getOwnPropertyNames(a ?? {})))).join(' '));
    };
  }
}

function release() {
  process.stdout.write = originals.out;
  process.stderr.write = originals.err;
  Object.assign(console, consoleOriginals);
}

// Runs before the stack's stop (hooks after all run in reverse order), as it did.
afterAll(() => {
  release();
});

describe('no secret in the logs', () => {
  it('prints no session token, MAL token or client secret during sign-in, a troubled sync and sign-out', async () => {
    capture();
    const secrets: string[] = [stack.malSandbox!.clientSecret];
    let session: Awaited<ReturnType<typeof signIn>> | undefined;
    try {
      session = await signIn(stack, 'logwatcher');
      secrets.push(session.sessionToken);
      const before = await loadMalTokens(session.viewer.userId);
      secrets.push(before.accessToken, before.refreshToken);

      // MAL misbehaves: throttling, 5xx, and the access token revoked so that the worker must refresh.
      stack.malSandbox!.setFaults({ failNextRequests: 2, failStatus: 503, revokeAccessTokens: 'logwatcher', rateLimitPerSecond: 5 });
      const history = {
        data: Array.from({ length: 4 }, (_, i) =>
          v2Episode({ seriesId: 'GFRIEREN', seriesTitle: "Frieren: Beyond Journey's End", seasonId: 'GFR1', seasonTitle: "Frieren: Beyond Journey's End", episode: i + 1, played: day(3 + i) }),
        ),
      };
      const sent = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history) } }, session.headers);
      expect(sent.errors).toBeUndefined();
      const job = await waitForJob(stack, session.headers, sent.data!.processHistory.jobId);
      expect(job.status).toBe('SUCCEEDED');

      const after = await loadMalTokens(session.viewer.userId);
      expect(after.accessToken).not.toBe(before.accessToken);
      secrets.push(after.accessToken, after.refreshToken);

      // A failing call with a token in hand, then sign-out.
      await gql(stack, '{ me { userId } }', {}, { authorization: `${session.sessionToken}x` });
      expect((await gql(stack, 'mutation { signOut }', {}, session.headers)).data).toEqual({ signOut: true });
    } finally {
      release();
    }
    const log = printed.join('\n');
    // The flow did log (MAL retries), so the search below has something to search.
    expect(log).toContain('mal-client');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(10);
      expect(log.includes(secret), `a secret (${secret.slice(0, 4)}…) appears in the logs`).toBe(false);
    }
    // The sandbox's own request log holds no token either.
    expect(JSON.stringify(stack.malSandbox!.requestLog).includes(secrets[2]!)).toBe(false);
  });
});
