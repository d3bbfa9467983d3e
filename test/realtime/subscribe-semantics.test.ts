/**
 * `@aws_subscribe` semantics with real resolver bundles (test/realtime/fixtures/resolvers, built by the
 * product's resolver build): argument matching on the mutation's response, selection limited to what
 * the mutation selected, enhanced filters (OR of groups, AND within), invalidation, and a subscription
 * resolver's util.error refusing the start.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildResolvers } from '../../scripts/build-resolvers';
import { ResolverSet } from '../../local/appsync/executor';
import { GraphQLApi } from '../../local/appsync/graphql-api';
import { LocalHttpServer } from '../../local/http-server';
import { RealtimeServer } from '../../local/realtime/server';
import { RealtimeClient, apiKeyHeader, quiet } from './support';

const FIXTURES = resolve(import.meta.dirname, 'fixtures', 'resolvers');
const API_KEY = 'da2-realtimefixture';
let http: LocalHttpServer;
let realtime: RealtimeServer;
let graphqlUrl = '';
let realtimeUrl = '';
let outDir: string;
const clients: RealtimeClient[] = [];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'realtime-resolvers-'));
  await buildResolvers(FIXTURES, outDir);
  const resolvers = ResolverSet.fromBuild(outDir, async (_name, request) => ({ result: (request as { payload?: unknown }).payload ?? null }));
  const auth = { defaultMode: 'API_KEY' as const, apiKeys: [API_KEY] };
  const api = new GraphQLApi({
    schemaSdl: readFileSync(join(FIXTURES, 'schema.graphql'), 'utf8'),
    preludeSdl: readFileSync(resolve(import.meta.dirname, '../../local/appsync/prelude.graphql'), 'utf8'),
    resolvers,
    auth,
    endpointUrl: () => graphqlUrl,
  });
  http = new LocalHttpServer(api);
  realtime = new RealtimeServer({ api, auth, resolvers, graphqlUrl: () => graphqlUrl });
  realtime.attach(http);
  const port = await http.listen(0);
  graphqlUrl = `http://127.0.0.1:${port}/graphql`;
  realtimeUrl = `ws://127.0.0.1:${port}/graphql/realtime`;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await realtime?.close();
  await http?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

async function client() {
  const c = await RealtimeClient.connect(realtimeUrl, apiKeyHeader(graphqlUrl, API_KEY));
  clients.push(c);
  expect((await c.init()).type).toBe('connection_ack');
  return c;
}

async function mutate(query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data;
}

const auth = () => apiKeyHeader(graphqlUrl, API_KEY);
const SEND = 'mutation S($g: ID!, $u: ID!, $p: Int, $t: [String], $b: String) { sendMessage(groupId: $g, userId: $u, priority: $p, tags: $t, body: $b, lang: "en") { groupId userId priority tags body } }';
const send = (g: string, u: string, extra: { p?: number; t?: string[]; b?: string } = {}) => mutate(SEND, { g, u, ...extra });

describe('@aws_subscribe semantics', () => {
  it('matches given arguments against the mutation response; null or omitted arguments match anything', async () => {
    const c = await client();
    await c.start('g1', 'subscription { onMessage(groupId: "g1") { groupId body } }', {}, auth());
    await c.start('g1u2', 'subscription { onMessage(groupId: "g1", userId: "u2") { groupId userId body } }', {}, auth());
    await c.start('any', 'subscription($g: ID) { onMessage(groupId: $g) { body } }', { g: null }, auth());
    await send('g1', 'u1', { b: 'one' });
    await send('g2', 'u2', { b: 'two' });
    await send('g1', 'u2', { b: 'three' });
    await c.waitForCount((m) => m.id === 'any' && m.type === 'data', 3);
    await quiet(100);
    expect(c.of('g1').map((m) => m.payload.data.onMessage.body)).toEqual(['one', 'three']);
    expect(c.of('g1u2').map((m) => m.payload.data.onMessage)).toEqual([{ groupId: 'g1', userId: 'u2', body: 'three' }]);
    expect(c.of('any').map((m) => m.payload.data.onMessage.body)).toEqual(['one', 'two', 'three']);
  });

  it('returns null for fields the mutation did not select, keeps aliases and nested selections', async () => {
    const c = await client();
    await c.start('s', 'subscription { onMessage { who: userId body meta { lang } priority } }', {}, auth());
    await mutate('mutation { sendMessage(groupId: "g", userId: "u9", body: "hi", lang: "ja") { userId body meta { lang } } }');
    const data = await c.waitFor((m) => m.id === 's' && m.type === 'data');
    expect(data.payload.data.onMessage).toEqual({ who: 'u9', body: 'hi', meta: { lang: 'ja' }, priority: null });
  });

  it('applies enhanced filters: any group whose every condition holds', async () => {
    const c = await client();
    expect((await c.start('f', 'subscription { onFiltered(minPriority: 5, anyTag: ["news", "ops"]) { body priority tags } }', {}, auth())).type).toBe('start_ack');
    await send('g', 'u', { p: 7, b: '!urgent' }); // group 1
    await send('g', 'u', { p: 7, b: 'calm' }); // group 1 fails on beginsWith; group 2 fails on between
    await send('g', 'u', { p: 1, t: ['ops', 'x'], b: 'tagged' }); // group 2
    await send('g', 'u', { p: 3, t: ['ops'], b: 'too high' }); // group 2 fails on between
    await send('g', 'u', { p: 1, t: ['misc'], b: 'other tag' }); // fails containsAny
    await send('g', 'u', { b: '!no priority' }); // priority null: ge fails
    await c.waitForCount((m) => m.id === 'f' && m.type === 'data', 2);
    await quiet(150);
    expect(c.of('f').map((m) => m.payload.data.onFiltered.body)).toEqual(['!urgent', 'tagged']);
  });

  it('invalidates the subscriptions whose invalidation filter matches the mutation\'s payload (client gets complete)', async () => {
    const c1 = await client();
    const c2 = await client();
    await c1.start('mine', 'subscription { onGroup(groupId: "club") { body } }', {}, auth());
    await c2.start('theirs', 'subscription { onGroup(groupId: "chess") { body } }', {}, auth());
    await send('club', 'u3', { b: 'before' });
    await send('chess', 'u3', { b: 'before' });
    await c1.waitFor((m) => m.id === 'mine' && m.type === 'data');
    await c2.waitFor((m) => m.id === 'theirs' && m.type === 'data');

    await mutate('mutation { removeUser(userId: "u1", groupId: "club") { userId groupId } }');
    expect(await c1.waitFor((m) => m.type === 'complete')).toEqual({ type: 'complete', id: 'mine' });
    await send('club', 'u3', { b: 'after' });
    await send('chess', 'u3', { b: 'after' });
    await c2.waitForCount((m) => m.id === 'theirs' && m.type === 'data', 2);
    await quiet(150);
    expect(c1.of('mine')).toHaveLength(1);
    expect(c2.of('theirs', 'complete')).toHaveLength(0);
  });

  it('refuses a start when the subscription resolver calls util.error, and registers nothing', async () => {
    const c = await client();
    const refused = await c.start('r', 'subscription { onRefused { body } }', {}, auth());
    expect(refused).toEqual({
      type: 'error',
      id: 'r',
      payload: { errors: [{ errorType: 'Unauthorized', message: 'You are not a member of this group', errorInfo: { reason: 'membership' }, data: null, path: ['onRefused'] }] },
    });
    await send('g', 'u', { b: 'x' });
    await quiet(150);
    expect(c.of('r')).toHaveLength(0);
    expect(realtime.subscriptionCount).toBe(0);
  });

  it('forgets a connection\'s subscriptions when it closes', async () => {
    const c = await client();
    await c.start('a', 'subscription { onMessage { body } }', {}, auth());
    await c.start('b', 'subscription { onMessage(groupId: "x") { body } }', {}, auth());
    expect(realtime.subscriptionCount).toBe(2);
    await c.close();
    await quiet(50);
    expect(realtime.subscriptionCount).toBe(0);
    expect(realtime.connectionCount).toBe(0);
  });
});
