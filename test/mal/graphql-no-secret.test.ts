/** A MAL app without a client secret (MAL's app type "other") behind the whole stack: refreshes work. */
import { describe, expect, it } from 'vitest';
import { FAST_MAL_CLIENT, createTestUser, gql, useTestStack } from '../support/stack';
import { loadMalTokens, saveMalTokens } from '../../functions/auth/mal-tokens';
import { parseTokenResponse } from '../../functions/mal';
import { signIn as signInAtMal } from './helpers';

const stack = useTestStack({ malSandbox: { appType: 'other', rateLimit: false }, env: FAST_MAL_CLIENT });

describe('a MAL client without a secret', () => {
  it('refreshes an expired token with the client id alone and completes the call', async () => {
    expect(stack.malSandbox!.clientSecret).toBe('');
    const user = await createTestUser(stack, 'nosecret');
    const tokens = parseTokenResponse(await signInAtMal(stack.malSandbox!, 'nosecret'));
    await saveMalTokens(user.userId, { ...tokens, expiresAt: Date.now() - 1000 });
    const since = stack.malSandbox!.requestLog.at(-1)?.seq ?? 0;
    const result = await gql(stack, 'mutation { updateSeriesStatus(input: { malId: 1, status: WATCHING }) { malId status } }', {}, user.headers);
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    expect(result.data!.updateSeriesStatus).toEqual({ malId: 1, status: 'WATCHING' });
    expect(stack.malSandbox!.requestLog.filter((e) => e.seq > since && e.path === '/v1/oauth2/token').map((e) => e.status)).toEqual([200]);
    expect((await loadMalTokens(user.userId)).accessToken).not.toBe(tokens.accessToken);
  });
});
