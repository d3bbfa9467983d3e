/** Enhanced subscription filter evaluation, operator by operator, and SigV4 verification for real-time auth. */
import { describe, expect, it } from 'vitest';
import { filterMatches, parseSubscriptionFilter, ruleHolds, SubscriptionFilterError } from '../../local/realtime/filters';
import { verifySigV4 } from '../../local/appsync/sigv4';
import { toSubscriptionFilter } from '../../local/appsync/transform-helpers';
import { signGraphQLRequest } from '../../functions/shared/iam-signer';
import { iamHeader } from './support';

const data = { jobId: 'j1', seq: 5, status: 'RUNNING', title: 'Frieren: Beyond', tags: ['a', 'b'], nested: { lang: 'ja' }, nothing: null };
const holds = (fieldName: string, operator: string, value: unknown) => ruleHolds({ fieldName, operator, value }, data);

describe('enhanced filter operators', () => {
  it.each([
    ['seq', 'eq', 5, true],
    ['seq', 'eq', '5', true],
    ['seq', 'eq', 6, false],
    ['nothing', 'eq', null, true],
    ['status', 'ne', 'FAILED', true],
    ['status', 'ne', 'RUNNING', false],
    ['seq', 'le', 5, true],
    ['seq', 'lt', 5, false],
    ['seq', 'ge', 5, true],
    ['seq', 'gt', 4, true],
    ['title', 'gt', 'Aa', true],
    ['seq', 'gt', 'x', false],
    ['title', 'contains', 'Beyond', true],
    ['tags', 'contains', 'b', true],
    ['tags', 'contains', 'c', false],
    ['title', 'notContains', 'Journey', true],
    ['tags', 'notContains', 'a', false],
    ['title', 'beginsWith', 'Frieren', true],
    ['title', 'beginsWith', 'Beyond', false],
    ['status', 'in', ['QUEUED', 'RUNNING'], true],
    ['status', 'in', ['QUEUED'], false],
    ['status', 'notIn', ['QUEUED'], true],
    ['seq', 'between', [1, 5], true],
    ['seq', 'between', [6, 9], false],
    ['tags', 'containsAny', ['x', 'b'], true],
    ['tags', 'containsAny', ['x', 'y'], false],
    ['nested.lang', 'eq', 'ja', true],
    ['missing', 'ne', 'x', false],
  ])('%s %s %j → %s', (field, operator, value, expected) => {
    expect(holds(field, operator, value)).toBe(expected);
  });

  it('ORs filter groups and ANDs the filters of a group', () => {
    const filter = parseSubscriptionFilter(
      toSubscriptionFilter({ or: [{ seq: { gt: 10 }, status: { eq: 'RUNNING' } }, { jobId: { eq: 'j1' }, tags: { contains: 'a' } }] }),
    );
    expect(filterMatches(filter, data)).toBe(true);
    expect(filterMatches(filter, { ...data, jobId: 'j2' })).toBe(false);
    expect(filterMatches(filter, { ...data, jobId: 'j2', seq: 11 })).toBe(true);
    expect(filterMatches(null, data)).toBe(true);
  });

  it('accepts the JSON string form and rejects malformed filters with a named error', () => {
    expect(parseSubscriptionFilter(JSON.stringify({ filterGroup: [{ filters: [{ fieldName: 'seq', operator: 'eq', value: 5 }] }] }))?.filterGroup).toHaveLength(1);
    expect(() => parseSubscriptionFilter({ filterGroup: [{ filters: [{ fieldName: 'seq', operator: 'like', value: 5 }] }] })).toThrow(SubscriptionFilterError);
    expect(() => parseSubscriptionFilter({ filterGroup: [{ filters: [{ fieldName: 'seq', operator: 'in', value: 5 }] }] })).toThrow(SubscriptionFilterError);
    expect(() => parseSubscriptionFilter('{nope')).toThrow(SubscriptionFilterError);
  });
});

describe('SigV4 verification of real-time auth headers', () => {
  const iam = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'secret-key' } };
  const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

  it('accepts the project signer and Amplify-style signatures (extra signed headers), for the exact URL and body', async () => {
    const url = 'http://127.0.0.1:4000/graphql';
    expect(verifySigV4(lower(await signGraphQLRequest(url, '{"a":1}', iam.region, iam.credentials)), url, '{"a":1}', iam)).toBe(true);
    const amplify = lower(await iamHeader(`${url}/connect`, '{}', iam.region, iam.credentials));
    expect(amplify['authorization']).toContain('accept;content-encoding;content-type;host');
    expect(verifySigV4(amplify, `${url}/connect`, '{}', iam)).toBe(true);
    expect(verifySigV4(amplify, url, '{}', iam)).toBe(false);
    expect(verifySigV4(amplify, `${url}/connect`, '{"x":1}', iam)).toBe(false);
    expect(verifySigV4({ ...amplify, accept: 'text/html' }, `${url}/connect`, '{}', iam)).toBe(false);
    expect(verifySigV4(amplify, `${url}/connect`, '{}', { ...iam, credentials: { ...iam.credentials, secretAccessKey: 'other' } })).toBe(false);
    expect(verifySigV4(amplify, `${url}/connect`, '{}', iam, Date.now() + 10 * 60_000)).toBe(false);
  });
});
