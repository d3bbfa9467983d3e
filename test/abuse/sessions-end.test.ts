/**
 * Sessions that end take their live subscriptions with them: signOut, refreshSession (the old token)
 * and deleteAccount end the onSyncProgress subscriptions opened with that session (AppSync's
 * subscription invalidation), while other sessions' subscriptions keep receiving events. And a sign-in
 * belongs to the client that started it: a leaked `code` + `state` cannot complete it without that
 * client's secret.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestUser, gql, useTestStack } from '../support/stack';
import { createSession } from '../../functions/auth/sessions';
import { publishSyncProgress } from '../../functions/shared/progress-publisher';
import { RealtimeClient, quiet, tokenHeader } from '../realtime/support';
import { COMPLETE_LOGIN, approveAs, loginSecret, startLogin } from '../support/sign-in';

const stack = useTestStack({ console: false });
const clients: RealtimeClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

const SUBSCRIBE = 'subscription { onSyncProgress { jobId seq } }';

/** A connection and one onSyncProgress subscription opened with `token`. */
async function subscribe(token: string, id = 's1') {
  const client = await RealtimeClient.connect(stack.realtimeUrl, tokenHeader(stack.graphqlUrl, token), 'query');
  clients.push(client);
  expect((await client.init()).type).toBe('connection_ack');
  expect(await client.start(id, SUBSCRIBE, {}, tokenHeader(stack.graphqlUrl, token))).toEqual({ type: 'start_ack', id });
  return client;
}

function publish(userId: string, jobId: string, seq: number) {
  return publishSyncProgress(stack.graphqlUrl, stack.iam.region, stack.iam.credentials, { jobId, userId, seq, status: 'RUNNING', phase: 'APPLYING', processed: seq, total: 10 });
}

const dataOf = (client: RealtimeClient) => client.of('s1').map((m) => m.payload.data.onSyncProgress.seq);

describe('subscriptions end with their session', () => {
  it('signOut ends the subscriptions of that session only; a revoked token cannot subscribe again', async () => {
    const user = await createTestUser(stack);
    const other = await createSession(user.userId);
    const signingOut = await subscribe(user.token);
    const staying = await subscribe(other.token);
    const jobId = `job-${randomUUID()}`;

    await publish(user.userId, jobId, 1);
    await signingOut.waitFor((m) => m.id === 's1' && m.type === 'data');
    await staying.waitFor((m) => m.id === 's1' && m.type === 'data');

    const out = await gql(stack, 'mutation { signOut }', {}, { authorization: user.token });
    expect(out.data).toEqual({ signOut: true });
    expect(await signingOut.waitFor((m) => m.id === 's1' && m.type === 'complete')).toEqual({ type: 'complete', id: 's1' });
    expect(staying.of('s1', 'complete')).toEqual([]);

    await publish(user.userId, jobId, 2);
    await staying.waitFor((m) => m.id === 's1' && m.type === 'data' && m.payload.data.onSyncProgress.seq === 2);
    await quiet(300);
    expect(dataOf(signingOut)).toEqual([1]);
    expect(dataOf(staying)).toEqual([1, 2]);

    // The socket stays open, but a new start with the revoked token is refused — even while the
    // authorizer's cached answer for the token (up to 60 s) still accepts it: the subscription checks the
    // session itself, so no subscription can be opened that the sign-out's invalidation has passed by.
    const again = await signingOut.start('s2', SUBSCRIBE, {}, tokenHeader(stack.graphqlUrl, user.token));
    expect(again.type).toBe('error');
    expect(again.payload.errors[0].errorType).toBe('Unauthorized');
    await publish(user.userId, jobId, 3);
    await staying.waitFor((m) => m.id === 's1' && m.type === 'data' && m.payload.data.onSyncProgress.seq === 3);
    await quiet(300);
    expect(signingOut.of('s2')).toEqual([]);
  });

  it('refreshSession ends the old token\'s subscriptions; the new token subscribes and receives', async () => {
    const user = await createTestUser(stack);
    const before = await subscribe(user.token);
    const refreshed = await gql(stack, 'mutation { refreshSession { sessionToken } }', {}, { authorization: user.token });
    expect(refreshed.errors).toBeUndefined();
    const newToken = refreshed.data!.refreshSession.sessionToken as string;
    await before.waitFor((m) => m.id === 's1' && m.type === 'complete');

    const after = await subscribe(newToken);
    await publish(user.userId, `job-${randomUUID()}`, 1);
    await after.waitFor((m) => m.id === 's1' && m.type === 'data');
    await quiet(300);
    expect(dataOf(before)).toEqual([]);
    expect(after.of('s1', 'complete')).toEqual([]);
  });

  it('deleteAccount ends every subscription of the account, whichever session opened it, and no other user\'s', async () => {
    const user = await createTestUser(stack);
    const second = await createSession(user.userId);
    const bystander = await createTestUser(stack);
    const a = await subscribe(user.token);
    const b = await subscribe(second.token);
    const c = await subscribe(bystander.token);

    const deleted = await gql(stack, 'mutation { deleteAccount }', {}, { authorization: user.token });
    expect(deleted.data).toEqual({ deleteAccount: true });
    await a.waitFor((m) => m.id === 's1' && m.type === 'complete');
    await b.waitFor((m) => m.id === 's1' && m.type === 'complete');

    await publish(user.userId, `job-${randomUUID()}`, 1);
    await publish(bystander.userId, `job-${randomUUID()}`, 1);
    await c.waitFor((m) => m.id === 's1' && m.type === 'data');
    await quiet(300);
    expect(dataOf(a)).toEqual([]);
    expect(dataOf(b)).toEqual([]);
    expect(c.of('s1', 'complete')).toEqual([]);
  });
});

describe('a sign-in is bound to the client that started it', () => {
  it('refuses a leaked code and state without the starting client\'s secret, and still lets that client finish', async () => {
    const login = await startLogin(stack);
    const leaked = await approveAs(login.authorizeUrl, 'bound_user');

    // Someone who saw the redirect (code + state) but holds another secret, or none that fits.
    const thief = await gql(stack, COMPLETE_LOGIN, { c: leaked.code, s: leaked.state, k: loginSecret().secret });
    expect(thief.data).toBeNull();
    expect(thief.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', errorInfo: { reason: 'STATE_INVALID', action: 'START_LOGIN' } });
    const withoutSecret = await gql(stack, 'mutation($c: String!, $s: String!) { completeLogin(code: $c, state: $s) { sessionToken } }', { c: leaked.code, s: leaked.state });
    expect(withoutSecret.status).toBe(400);
    expect(withoutSecret.errors?.[0].errorType).toBe('ValidationError');

    // The failed attempts did not use the sign-in up: its own client completes it.
    const owner = await gql(stack, COMPLETE_LOGIN, { c: leaked.code, s: leaked.state, k: login.secret });
    expect(owner.errors).toBeUndefined();
    expect(owner.data!.completeLogin.viewer.malUserName).toBe('bound_user');
  });

  it('refuses a startLogin whose secret hash is not a SHA-256 digest', async () => {
    const result = await gql(stack, 'mutation($r: AWSURL!, $h: String!) { startLogin(redirectUri: $r, loginSecretHash: $h) { state } }', { r: stack.redirectUris.at(-1), h: 'short' });
    expect(result.errors?.[0]).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'loginSecretHash' } });
  });
});
