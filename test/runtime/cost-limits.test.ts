/**
 * AppSync's per-request cost limits on the local runtime, through GraphQL over HTTP: resolver
 * invocations past `resolverCountLimit` fail with ResolverExecutionLimitReached (aliases and list items
 * count), a document nested deeper than `queryDepthLimit` is refused with a ValidationError naming the
 * limit, and ordinary requests stay untouched. The values are the ones CDK deploys (contract/api-limits.ts).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { getIntrospectionQuery } from 'graphql';
import { API_LIMITS } from '#contract/api-limits';
import { FAST_MAL_CLIENT, createTestUser, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';

const { resolverCountLimit, queryDepthLimit } = API_LIMITS;

const FIXTURE_IDS = readFileSync(resolve(import.meta.dirname, '../../local/mal-sandbox/fixtures/catalog.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => (JSON.parse(line) as { mal_id: number }).mal_id);

// No sandbox throttle: what is measured is how many updates reach MAL, not how the client paces them.
const stack = useTestStack({ env: FAST_MAL_CLIENT, malSandbox: { rateLimit: false } });

const aliased = (count: number, field: (i: number) => string) => Array.from({ length: count }, (_, i) => `a${i}: ${field(i)}`).join('\n');
const limitErrors = <E extends { errorType?: string }>(errors: E[] | undefined) => (errors ?? []).filter((e) => e.errorType === 'ResolverExecutionLimitReached');

/** `__type { fields { type { ofType … } } }` selecting a leaf at exactly `depth`. */
function introspectionOfDepth(depth: number): string {
  // __type (1) → fields (2) → type (3) → ofType × (depth - 4) → name (depth).
  let inner = 'name';
  for (let i = 0; i < depth - 4; i++) inner = `ofType { ${inner} }`;
  return `{ __type(name: "Query") { fields { type { ${inner} } } } }`;
}

describe('resolver count limit', () => {
  it('500 aliased `me` fields: the first invocation past resolverCountLimit is refused, naming the limit', async () => {
    const user = await createTestUser(stack);
    const result = await gql(stack, `{ ${aliased(500, () => 'me { userId }')} }`, {}, user.headers);
    expect(result.status).toBe(200);
    const refused = limitErrors(result.errors);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ path: [`a${resolverCountLimit}`] });
    expect(refused[0]!.message).toContain('resolverCountLimit');
    expect(refused[0]!.message).toContain(String(resolverCountLimit));
    // `me` is non-null, so (as in AppSync) the failed field nulls the whole data and the rest never run.
    expect(result.data).toBeNull();
  });

  it('300 aliased `exportData`: refused past the limit', async () => {
    const user = await createTestUser(stack);
    const result = await gql(stack, `{ ${aliased(300, () => 'exportData')} }`, {}, user.headers);
    expect(limitErrors(result.errors)).toEqual([expect.objectContaining({ path: [`a${resolverCountLimit}`] })]);
    expect(result.data).toBeNull();
  });

  it('50 aliased `updateSeriesStatus`: MAL receives updates for the first resolverCountLimit only', async () => {
    const user = await signIn(stack, 'alias_flood');
    const since = stack.malSandbox!.requestLog.at(-1)?.seq ?? 0;
    const ids = FIXTURE_IDS.slice(0, 50);
    expect(ids).toHaveLength(50);
    const result = await gql(stack, `mutation { ${aliased(50, (i) => `updateSeriesStatus(input: { malId: ${ids[i]}, status: PLAN_TO_WATCH }) { malId }`)} }`, {}, user.headers);
    expect(limitErrors(result.errors)).toEqual([expect.objectContaining({ path: [`a${resolverCountLimit}`] })]);
    // Mutation fields run one after another: none after the refused one ran.
    const patched = new Set(stack.malSandbox!.requestLog.filter((e) => e.seq > since && e.method === 'PATCH').map((e) => e.path));
    expect(patched.size).toBe(resolverCountLimit);
    expect(stack.malSandbox!.getList('alias_flood')).toHaveLength(resolverCountLimit);
  });

  it('refuses every invocation past the limit on its own (nullable fields keep the rest of the answer)', async () => {
    const user = await createTestUser(stack);
    const result = await gql(stack, `{ ${aliased(resolverCountLimit + 5, () => 'syncJob(id: "none") { jobId }')} }`, {}, user.headers);
    expect(result.status).toBe(200);
    expect(limitErrors(result.errors).map((e) => e.path)).toEqual([0, 1, 2, 3, 4].map((i) => [`a${resolverCountLimit + i}`]));
    expect(result.errors).toHaveLength(5);
    expect(Object.keys(result.data!)).toHaveLength(resolverCountLimit + 5);
  });

  it('shares one budget among all fields of the request', async () => {
    const user = await createTestUser(stack);
    // resolverCountLimit aliased fields use the whole budget; a further, different field is refused.
    const roots = aliased(resolverCountLimit, () => 'settings { watchedThreshold }');
    const result = await gql(stack, `{ ${roots}\n me { userId } }`, {}, user.headers);
    expect(limitErrors(result.errors)).toEqual([expect.objectContaining({ path: ['me'] })]);
  });

  it('leaves ordinary requests alone, and the next request has a fresh budget', async () => {
    const user = await createTestUser(stack);
    const few = await gql(stack, `{ ${aliased(resolverCountLimit, () => 'settings { watchedThreshold }')} }`, {}, user.headers);
    expect(few.errors).toBeUndefined();
    expect(Object.keys(few.data!)).toHaveLength(resolverCountLimit);
    const again = await gql(stack, '{ me { userId } settings { watchedThreshold } }', {}, user.headers);
    expect(again.errors).toBeUndefined();
  });
});

describe('query depth limit', () => {
  it('refuses a document nested past queryDepthLimit before anything runs, with a ValidationError naming the limit', async () => {
    const result = await gql(stack, introspectionOfDepth(queryDepthLimit + 1), {}, { 'x-api-key': stack.apiKey });
    expect(result.status).toBe(400);
    expect(result.data).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toMatchObject({ errorType: 'ValidationError', locations: [{ line: 1, column: expect.any(Number) }] });
    expect(result.errors![0]!.message).toContain('queryDepthLimit');
    expect(result.errors![0]!.message).toContain(`${queryDepthLimit + 1} levels`);
    // Fragments do not hide depth.
    const viaFragment = await gql(stack, `{ __type(name: "Query") { ...F } } fragment F on __Type { fields { type { ${'ofType { '.repeat(queryDepthLimit - 3)}name${' }'.repeat(queryDepthLimit - 3)} } } }`, {}, { 'x-api-key': stack.apiKey });
    expect(viaFragment.errors?.[0]?.message).toContain('queryDepthLimit');
  });

  it('answers a query exactly at the limit and the standard introspection query (the console, codegen) in full', async () => {
    const atLimit = await gql(stack, introspectionOfDepth(queryDepthLimit), {}, { 'x-api-key': stack.apiKey });
    expect(atLimit.errors).toBeUndefined();
    const full = await gql(stack, getIntrospectionQuery(), {}, { 'x-api-key': stack.apiKey });
    expect(full.errors).toBeUndefined();
    expect((full.data as any).__schema.queryType.name).toBe('Query');
  });
});
