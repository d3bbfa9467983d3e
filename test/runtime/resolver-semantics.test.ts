/**
 * The local runtime's AppSync semantics, through GraphQL over HTTP, with fixture resolvers built by the
 * same resolver build as the product's: util.error, appendError, earlyReturn, pipelines, DynamoDB
 * request objects, and rejection of code APPSYNC_JS would not run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildResolvers } from '../../scripts/build-resolvers';
import { ResolverSet } from '../../local/appsync/executor';
import { GraphQLApi } from '../../local/appsync/graphql-api';
import { createDataSourceInvoker } from '../../local/appsync/datasources';
import { DynamoDBJsonClient } from '../../local/appsync/dynamodb-json-client';
import { LocalHttpServer } from '../../local/http-server';
import { createTables } from '../../local/tables';
import { dynamodbEndpoint, uniquePrefix } from '../support/dynamo';

const FIXTURES = resolve(import.meta.dirname, '../fixtures');
const API_KEY = 'da2-fixturekey';
let server: LocalHttpServer;
let url: string;
let outDir: string;
let source: DynamoDBJsonClient;

async function call(query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data: Record<string, any> | null; errors?: Record<string, any>[] };
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'resolvers-'));
  const stage = uniquePrefix('rt');
  source = new DynamoDBJsonClient(dynamodbEndpoint());
  await createTables(source, stage);
  await buildResolvers(join(FIXTURES, 'runtime-resolvers'), outDir);
  const resolvers = ResolverSet.fromBuild(outDir, createDataSourceInvoker({ dynamodb: source, stage, lambdas: {} }));
  const api = new GraphQLApi({
    schemaSdl: readFileSync(join(FIXTURES, 'runtime-resolvers', 'schema.graphql'), 'utf8'),
    preludeSdl: readFileSync(resolve(import.meta.dirname, '../../local/appsync/prelude.graphql'), 'utf8'),
    resolvers,
    auth: { defaultMode: 'API_KEY', apiKeys: [API_KEY] },
    endpointUrl: () => url,
  });
  server = new LocalHttpServer(api);
  const port = await server.listen(0);
  url = `http://127.0.0.1:${port}/graphql`;
});

afterAll(async () => {
  await server?.close();
  source?.destroy();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('APPSYNC_JS semantics', () => {
  it('util.error stops the resolver and yields an AppSync-shaped error', async () => {
    const result = await call('{ stopped }');
    expect(result.data).toEqual({ stopped: null });
    expect(result.errors).toEqual([
      { path: ['stopped'], data: { partial: 1 }, errorType: 'FixtureError', errorInfo: { hint: 'fixture' }, locations: [{ line: 1, column: 3 }], message: 'stopped on purpose' },
    ]);
  });

  it('util.appendError returns data plus errors', async () => {
    const result = await call('{ appended }');
    expect(result.data).toEqual({ appended: 'data despite errors' });
    expect(result.errors?.map((e) => [e.message, e.errorType, e.path])).toEqual([
      ['first appended', 'Appended', ['appended']],
      ['second appended', 'Appended', ['appended']],
    ]);
    expect(result.errors?.[1].errorInfo).toEqual({ n: 2 });
  });

  it('runtime.earlyReturn skips the data source and the response handler', async () => {
    const result = await call('{ early }');
    expect(result).toEqual({ data: { early: 'returned early' } });
  });

  it('runs pipelines with a shared stash and prev.result', async () => {
    await call('mutation { putItem(id: "pipe", name: "Piped") { id } }');
    expect((await call('{ pipelined(id: "pipe") }')).data).toEqual({ pipelined: 'yes:Piped' });
    expect((await call('{ pipelined(id: "absent") }')).data).toEqual({ pipelined: 'yes:missing' });
  });
});

describe('DynamoDB request objects give what AppSync gives', () => {
  it('PutItem returns the item and GetItem reads it back; a missing item is null', async () => {
    const put = await call('mutation { putItem(id: "a1", name: "First") { id name version } }');
    expect(put).toEqual({ data: { putItem: { id: 'a1', name: 'First', version: 1 } } });
    expect((await call('{ item(id: "a1") { id name version } }')).data).toEqual({ item: { id: 'a1', name: 'First', version: 1 } });
    expect((await call('{ item(id: "nope") { id } }')).data).toEqual({ item: null });
  });

  it('UpdateItem with a condition: a matching version updates, a stale one is ConditionalCheckFailed', async () => {
    await call('mutation { putItem(id: "c1", name: "Before") { id } }');
    const ok = await call('mutation { renameIfVersion(id: "c1", version: 1, name: "After") { name version } }');
    expect(ok.data).toEqual({ renameIfVersion: { name: 'After', version: 2 } });
    const stale = await call('mutation { renameIfVersion(id: "c1", version: 1, name: "Lost") { name } }');
    expect(stale.data).toEqual({ renameIfVersion: null });
    expect(stale.errors?.[0]).toMatchObject({ errorType: 'DynamoDB:ConditionalCheckFailedException', path: ['renameIfVersion'] });
    expect((await call('{ item(id: "c1") { name version } }')).data).toEqual({ item: { name: 'After', version: 2 } });
  });

  it('Query pages with limit and nextToken', async () => {
    // The fixture table is shared by this file only: the "fixture" partition holds what earlier tests put.
    for (const id of ['q1', 'q2', 'q3', 'q4', 'q5']) await call(`mutation { putItem(id: "${id}", name: "${id}") { id } }`);
    const seen: string[] = [];
    let nextToken: string | null = null;
    let pages = 0;
    do {
      const page: { data: Record<string, any> | null } = await call('query($t: String) { items(owner: "fixture", limit: 3, nextToken: $t) { items { id } nextToken } }', { t: nextToken });
      seen.push(...page.data!.items.items.map((i: { id: string }) => i.id));
      nextToken = page.data!.items.nextToken;
      pages += 1;
    } while (nextToken && pages < 10);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(['q1', 'q2', 'q3', 'q4', 'q5']));
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBeGreaterThan(1);
  });

  it('BatchGetItem returns items in key order with null for missing keys', async () => {
    await call('mutation { putItem(id: "b1", name: "B1") { id } }');
    await call('mutation { putItem(id: "b2", name: "B2") { id } }');
    const result = await call('{ batch(ids: ["b2", "missing", "b1"]) { id name } }');
    expect(result.data).toEqual({ batch: [{ id: 'b2', name: 'B2' }, null, { id: 'b1', name: 'B1' }] });
  });

  it('TransactWriteItems applies all or nothing', async () => {
    await call('mutation { putItem(id: "t-from", name: "T") { id } }');
    expect((await call('mutation { transfer(from: "t-from", to: "t-to") }')).data).toEqual({ transfer: ['t-from', 't-to'] });
    expect((await call('{ item(id: "t-to") { name } }')).data).toEqual({ item: { name: 'moved' } });
    const again = await call('mutation { transfer(from: "t-from", to: "t-other") }');
    expect(again.errors?.[0].errorType).toBe('DynamoDB:TransactionCanceledException');
    expect((await call('{ item(id: "t-other") { name } }')).data).toEqual({ item: null });
  });
});

describe('code APPSYNC_JS would reject', () => {
  for (const [construct, rule] of [
    ['try', 'no-try'],
    ['throw', 'no-throw'],
    ['class', 'no-classes'],
    ['while', 'no-while'],
    ['regex', 'no-regex'],
  ] as const) {
    it(`rejects a resolver using ${construct}, naming the rule ${rule}`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'rejected-'));
      try {
        await expect(buildResolvers(join(FIXTURES, 'rejected-resolvers', construct), out)).rejects.toThrow(new RegExp(`${rule}:`));
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  }
});
