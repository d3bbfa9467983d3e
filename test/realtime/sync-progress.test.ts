/**
 * Live sync progress end to end on the local stack: real WebSocket clients speaking AppSync's real-time
 * protocol (both auth styles), the real onSyncProgress / publishSyncProgress resolvers, and the sync
 * worker's IAM publisher over HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestUser, useTestStack } from '../support/stack';
import { publishSyncProgress, ProgressPublishError, type ProgressEventInput } from '../../functions/shared/progress-publisher';
import { signGraphQLRequest } from '../../functions/shared/iam-signer';
import { RealtimeClient, apiKeyHeader, iamHeader, quiet, tokenHeader } from './support';

const stack = useTestStack({ keepAliveMs: 150, console: false });
const clients: RealtimeClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function connect(header: Record<string, unknown>, style: 'query' | 'subprotocol' = 'query') {
  const client = await RealtimeClient.connect(stack.realtimeUrl, header, style);
  clients.push(client);
  return client;
}

const SUBSCRIBE = /* GraphQL */ `
  subscription Progress($jobId: ID) {
    onSyncProgress(jobId: $jobId) { jobId seq status processed }
  }
`;

function event(userId: string, jobId: string, seq: number, extra: Partial<ProgressEventInput> = {}): ProgressEventInput {
  return { jobId, userId, seq, status: 'RUNNING', phase: 'APPLYING', processed: seq, total: 10, currentSeries: 'Frieren', ...extra };
}

const publish = (e: ProgressEventInput) => publishSyncProgress(stack.graphqlUrl, stack.iam.region, stack.iam.credentials, e);

describe('AppSync real-time protocol on the local stack', () => {
  it('acknowledges connection_init with connectionTimeoutMs and keeps the connection alive with ka', async () => {
    const user = await createTestUser(stack);
    const client = await connect(tokenHeader(stack.graphqlUrl, user.token), 'query');
    expect(client.socket.protocol).toBe('graphql-ws');
    const ack = await client.init();
    expect(ack).toEqual({ type: 'connection_ack', payload: { connectionTimeoutMs: 300000 } });
    await client.waitForCount((m) => m.type === 'ka', 3, 3000);
  });

  it('delivers exactly the selected fields of the caller\'s own events; another user gets nothing; stop ends delivery', async () => {
    const alice = await createTestUser(stack);
    const bob = await createTestUser(stack);
    const aliceJob = `job-${randomUUID()}`;
    const bobJob = `job-${randomUUID()}`;

    // Alice authenticates with the header-<base64url> subprotocol, Bob with the header/payload query string.
    const aliceWs = await connect(tokenHeader(stack.graphqlUrl, alice.token), 'subprotocol');
    const bobWs = await connect(tokenHeader(stack.graphqlUrl, bob.token), 'query');
    expect((await aliceWs.init()).type).toBe('connection_ack');
    expect((await bobWs.init()).type).toBe('connection_ack');

    expect(await aliceWs.start('a1', SUBSCRIBE, { jobId: aliceJob }, tokenHeader(stack.graphqlUrl, alice.token))).toEqual({ type: 'start_ack', id: 'a1' });
    // Bob asks for everything (no jobId), and even names Alice's job: the server's filter still holds.
    expect((await bobWs.start('b1', SUBSCRIBE, {}, tokenHeader(stack.graphqlUrl, bob.token))).type).toBe('start_ack');
    expect((await bobWs.start('b2', SUBSCRIBE, { jobId: aliceJob }, tokenHeader(stack.graphqlUrl, bob.token))).type).toBe('start_ack');

    const published = await publish(event(alice.userId, aliceJob, 1, { change: { malId: 52991, episodes: 3 } }));
    expect(published).toMatchObject({ jobId: aliceJob, userId: alice.userId, seq: 1, change: JSON.stringify({ malId: 52991, episodes: 3 }) });
    expect(published.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);

    const data = await aliceWs.waitFor((m) => m.id === 'a1' && m.type === 'data');
    expect(data).toEqual({ id: 'a1', type: 'data', payload: { data: { onSyncProgress: { jobId: aliceJob, seq: 1, status: 'RUNNING', processed: 1 } } } });

    // Bob's own job reaches Bob's unfiltered subscription only.
    await publish(event(bob.userId, bobJob, 1));
    const bobsData = await bobWs.waitFor((m) => m.id === 'b1' && m.type === 'data');
    expect(bobsData.payload.data.onSyncProgress).toEqual({ jobId: bobJob, seq: 1, status: 'RUNNING', processed: 1 });
    await quiet(200);
    expect(bobWs.of('b1')).toHaveLength(1);
    expect(bobWs.of('b2')).toHaveLength(0);
    expect(aliceWs.of('a1')).toHaveLength(1);

    // stop → complete, and nothing after it.
    aliceWs.send({ type: 'stop', id: 'a1' });
    expect(await aliceWs.waitFor((m) => m.type === 'complete')).toEqual({ type: 'complete', id: 'a1' });
    await publish(event(alice.userId, aliceJob, 2));
    await quiet(300);
    expect(aliceWs.of('a1')).toHaveLength(1);
    expect(bobWs.messages.filter((m) => m.type === 'data' && m.payload.data.onSyncProgress.jobId === aliceJob)).toHaveLength(0);
  });

  it('runs many subscriptions on one connection, each with its own selection and aliases', async () => {
    const user = await createTestUser(stack);
    const job = `job-${randomUUID()}`;
    const ws = await connect(tokenHeader(stack.graphqlUrl, user.token));
    await ws.init();
    const auth = tokenHeader(stack.graphqlUrl, user.token);
    expect((await ws.start('s1', 'subscription { onSyncProgress { seq phase } }', {}, auth)).type).toBe('start_ack');
    expect((await ws.start('s2', 'subscription S($j: ID) { p: onSyncProgress(jobId: $j) { job: jobId total __typename } }', { j: job }, auth)).type).toBe('start_ack');
    await publish(event(user.userId, job, 1));
    expect((await ws.waitFor((m) => m.id === 's1' && m.type === 'data')).payload).toEqual({ data: { onSyncProgress: { seq: 1, phase: 'APPLYING' } } });
    expect((await ws.waitFor((m) => m.id === 's2' && m.type === 'data')).payload).toEqual({ data: { p: { job, total: 10, __typename: 'SyncProgressEvent' } } });
  });

  it('gives subscribers only what the mutation selected: fields it did not select are null', async () => {
    const user = await createTestUser(stack);
    const job = `job-${randomUUID()}`;
    const ws = await connect(tokenHeader(stack.graphqlUrl, user.token));
    await ws.init();
    await ws.start('s', 'subscription { onSyncProgress { jobId seq phase currentSeries } }', {}, tokenHeader(stack.graphqlUrl, user.token));
    // A publisher selecting only jobId, userId and seq (userId is what the server-side filter needs).
    const body = JSON.stringify({
      query: 'mutation P($e: SyncProgressInput!) { publishSyncProgress(event: $e) { jobId userId seq } }',
      variables: { e: event(user.userId, job, 7) },
    });
    const { host: _host, ...headers } = await signGraphQLRequest(stack.graphqlUrl, body, stack.iam.region, stack.iam.credentials);
    const response = await fetch(stack.graphqlUrl, { method: 'POST', headers, body });
    expect(response.status).toBe(200);
    const data = await ws.waitFor((m) => m.id === 's' && m.type === 'data');
    expect(data.payload.data.onSyncProgress).toEqual({ jobId: job, seq: 7, phase: null, currentSeries: null });
  });

  it('accepts IAM connections signed the way Amplify signs them, and refuses IAM on the session-only subscription', async () => {
    const connectHeaders = await iamHeader(`${stack.graphqlUrl}/connect`, '{}', stack.iam.region, stack.iam.credentials);
    const ws = await connect(connectHeaders, 'subprotocol');
    expect((await ws.init()).type).toBe('connection_ack');
    const data = JSON.stringify({ query: SUBSCRIBE, variables: {} });
    const startHeaders = await iamHeader(stack.graphqlUrl, data, stack.iam.region, stack.iam.credentials);
    ws.send({ id: 'iam', type: 'start', payload: { data, extensions: { authorization: startHeaders } } });
    const error = await ws.waitFor((m) => m.id === 'iam');
    expect(error).toMatchObject({ type: 'error', id: 'iam', payload: { errors: [{ errorType: 'Unauthorized', message: 'Not Authorized to access onSyncProgress on type Subscription' }] } });

    // A signature over other content does not authorise this start.
    ws.send({ id: 'forged', type: 'start', payload: { data: JSON.stringify({ query: SUBSCRIBE, variables: { jobId: 'x' } }), extensions: { authorization: startHeaders } } });
    expect(await ws.waitFor((m) => m.id === 'forged')).toMatchObject({ type: 'error', payload: { errors: [{ errorType: 'UnauthorizedException' }] } });
  });

  it('answers a bad API key or token with connection_error and closes the connection', async () => {
    const badKey = await connect(apiKeyHeader(stack.graphqlUrl, 'da2-not-the-key'), 'query');
    badKey.send({ type: 'connection_init' });
    const error = await badKey.waitFor((m) => m.type === 'connection_error');
    expect(error.payload.errors[0]).toMatchObject({ errorType: 'UnauthorizedException', errorCode: 401 });
    await badKey.waitClosed();

    const badToken = await connect(tokenHeader(stack.graphqlUrl, 'als_forged'), 'subprotocol');
    badToken.send({ type: 'connection_init' });
    expect((await badToken.waitFor((m) => m.type === 'connection_error')).payload.errors[0].errorType).toBe('UnauthorizedException');
    await badToken.waitClosed();

    // Without graphql-ws among the offered subprotocols AppSync refuses the protocol itself.
    const noProtocol = await RealtimeClient.connect(stack.realtimeUrl, apiKeyHeader(stack.graphqlUrl, stack.apiKey), 'query', { protocols: [] });
    clients.push(noProtocol);
    expect((await noProtocol.waitFor((m) => m.type === 'connection_error')).payload.errors[0]).toEqual({ message: 'SubProtocolNotSupportedError', errorCode: 400 });
  });

  it('answers invalid starts with AppSync-shaped errors and keeps the connection usable', async () => {
    const user = await createTestUser(stack);
    const auth = tokenHeader(stack.graphqlUrl, user.token);
    const ws = await connect(auth);
    await ws.init();

    const unknownField = await ws.start('e1', 'subscription { onSyncProgress { nope } }', {}, auth);
    expect(unknownField).toMatchObject({ type: 'error', id: 'e1', payload: { errors: [{ errorType: 'ValidationError' }] } });
    expect(unknownField.payload.errors[0].message).toContain('nope');

    const syntax = await ws.start('e2', 'subscription { onSyncProgress { ', {}, auth);
    expect(syntax.payload.errors[0].errorType).toBe('ValidationError');

    const query = await ws.start('e3', 'query { me { userId } }', {}, auth);
    expect(query.payload.errors[0]).toMatchObject({ errorType: 'UnsupportedOperation' });

    const badVariable = await ws.start('e4', SUBSCRIBE, { jobId: { not: 'an id' } }, auth);
    expect(badVariable.payload.errors[0].errorType).toBe('ValidationError');

    // API key is a valid credential, but the subscription field is session-only.
    const apiKey = await ws.start('e5', SUBSCRIBE, {}, apiKeyHeader(stack.graphqlUrl, stack.apiKey));
    expect(apiKey.payload.errors[0]).toEqual({ errorType: 'Unauthorized', message: 'Not Authorized to access onSyncProgress on type Subscription' });

    const noAuth = await ws.start('e6', SUBSCRIBE, {}, { host: auth.host });
    expect(noAuth.payload.errors[0].errorType).toBe('UnauthorizedException');

    ws.send({ type: 'nonsense' });
    expect((await ws.waitFor((m) => m.type === 'error' && !m.id)).payload.errors[0].errorType).toBe('UnsupportedOperation');

    // Still usable: a valid start after all that, and a duplicate id is refused.
    expect((await ws.start('ok', SUBSCRIBE, {}, auth)).type).toBe('start_ack');
    ws.send({ id: 'ok', type: 'start', payload: { data: JSON.stringify({ query: SUBSCRIBE, variables: {} }), extensions: { authorization: auth } } });
    expect((await ws.waitFor((m) => m.id === 'ok' && m.type === 'error')).payload.errors[0].errorType).toBe('DuplicatedOperationError');
  });

  it('only IAM may publish progress', async () => {
    const user = await createTestUser(stack);
    const response = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: user.token },
      body: JSON.stringify({ query: 'mutation($e: SyncProgressInput!) { publishSyncProgress(event: $e) { jobId } }', variables: { e: event(user.userId, 'j', 1) } }),
    });
    const body = (await response.json()) as { errors?: { errorType: string }[] };
    expect(body.errors?.[0].errorType).toBe('Unauthorized');
    await expect(publishSyncProgress(stack.graphqlUrl, stack.iam.region, { accessKeyId: 'LOCALINTERNAL', secretAccessKey: 'wrong' }, event(user.userId, 'j', 1))).rejects.toBeInstanceOf(ProgressPublishError);
  });
});
