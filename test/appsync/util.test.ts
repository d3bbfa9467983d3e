import { describe, expect, it } from 'vitest';
import vm from 'node:vm';
import { createResolverGlobals, type ResolverState } from '../../local/appsync/util';
import { EarlyReturnSignal, UtilErrorSignal } from '../../local/appsync/signals';

function fresh(extra: Partial<ResolverState> = {}) {
  const state: ResolverState = { errors: [], subscriptionInvalidations: [], apiCacheEvictions: [], ...extra };
  return { state, ...createResolverGlobals(state) };
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('errors and control flow', () => {
  it('util.error throws a signal carrying message, type, data and errorInfo', () => {
    const { util } = fresh();
    const e = caught(() => util.error('Bad thing', 'MyType', { a: 1 }, { hint: 'x' }));
    expect(e).toBeInstanceOf(UtilErrorSignal);
    const s = e as UtilErrorSignal;
    expect([s.message, s.errorType, s.data, s.errorInfo]).toEqual(['Bad thing', 'MyType', { a: 1 }, { hint: 'x' }]);
    expect(s.toGraphQLError()).toEqual({ message: 'Bad thing', errorType: 'MyType', data: { a: 1 }, errorInfo: { hint: 'x' } });
  });

  it('util.appendError collects without stopping', () => {
    const { util, state } = fresh();
    util.appendError('first');
    util.appendError('second', 'T', { d: 1 }, { i: 2 });
    expect(state.errors).toEqual([{ message: 'first' }, { message: 'second', errorType: 'T', data: { d: 1 }, errorInfo: { i: 2 } }]);
  });

  it('util.unauthorized throws errorType Unauthorized', () => {
    const plain = caught(() => fresh().util.unauthorized()) as UtilErrorSignal;
    expect([plain.message, plain.errorType]).toEqual(['Unauthorized', 'Unauthorized']);
    const withInfo = caught(() => fresh({ info: { fieldName: 'getEntry', parentTypeName: 'Query' } }).util.unauthorized()) as UtilErrorSignal;
    expect(withInfo.message).toBe('Not Authorized to access getEntry on type Query');
  });

  it('runtime.earlyReturn throws a signal with the value and options', () => {
    const e = caught(() => fresh().runtime.earlyReturn({ id: 1 }, { skipTo: 'NEXT' })) as EarlyReturnSignal;
    expect(e).toBeInstanceOf(EarlyReturnSignal);
    expect(e.value).toEqual({ id: 1 });
    expect(e.returnOptions).toEqual({ skipTo: 'NEXT' });
    expect((caught(() => fresh().runtime.earlyReturn()) as EarlyReturnSignal).value).toBeUndefined();
  });

  it('extensions record into state', () => {
    const { extensions, state } = fresh();
    extensions.setSubscriptionFilter({ filterGroup: [] });
    extensions.setSubscriptionInvalidationFilter({ filterGroup: [{ filters: [] }] });
    extensions.invalidateSubscriptions({ subscriptionField: 'onX', payload: { id: 1 } });
    extensions.evictFromApiCache('Query', 'getEntry', { 'context.arguments.id': '1' });
    expect(state.subscriptionFilter).toEqual({ filterGroup: [] });
    expect(state.subscriptionInvalidationFilter).toEqual({ filterGroup: [{ filters: [] }] });
    expect(state.subscriptionInvalidations).toEqual([{ subscriptionField: 'onX', payload: { id: 1 } }]);
    expect(state.apiCacheEvictions).toEqual([{ typeName: 'Query', fieldName: 'getEntry', keys: { 'context.arguments.id': '1' } }]);
  });

  it('JSON.parse of invalid input gives "" instead of throwing', () => {
    const { JSON: J } = fresh();
    expect(J.parse('{"a":1}')).toEqual({ a: 1 });
    expect(J.parse('{bad')).toBe('');
    expect(J.stringify({ a: [1] })).toBe('{"a":[1]}');
  });

  it('works on values from another realm (node:vm)', () => {
    const { util } = fresh();
    const value = vm.runInNewContext('({ list: [1, "a"], map: { b: true } })');
    expect(util.dynamodb.toMapValues(value)).toEqual({ list: { L: [{ N: 1 }, { S: 'a' }] }, map: { M: { b: { BOOL: true } } } });
    expect(util.typeOf(value.list)).toBe('List');
    expect(util.isMap(value.map)).toBe(true);
  });
});

describe('ids, encoding, checks', () => {
  it('autoId is a UUID v4; autoUlid and autoKsuid have their formats', () => {
    const { util } = fresh({ now: () => 1_700_000_000_000 });
    expect(util.autoId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(util.autoId()).not.toBe(util.autoId());
    const ulid = util.autoUlid();
    expect(ulid).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    // First 10 characters encode the millisecond timestamp.
    const ms = [...ulid.slice(0, 10)].reduce((acc, c) => acc * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(c), 0);
    expect(ms).toBe(1_700_000_000_000);
    expect(util.autoKsuid()).toMatch(/^[0-9A-Za-z]{27}$/);
  });

  it('base64 and url encoding', () => {
    const { util } = fresh();
    expect(util.base64Encode('héllo')).toBe('aMOpbGxv');
    expect(util.base64Decode('aMOpbGxv')).toBe('héllo');
    expect(util.urlEncode("a b&c=d/é!'()~*")).toBe('a+b%26c%3Dd%2F%C3%A9%21%27%28%29%7E*');
    expect(util.urlDecode('a+b%26c')).toBe('a b&c');
    expect(util.escapeJavaScript('say "hi"\n\'/é')).toBe('say \\"hi\\"\\n\\\'\\/\\u00E9');
  });

  it('null/empty/blank checks and typeOf/matches', () => {
    const { util } = fresh();
    expect([util.isNull(null), util.isNull(undefined), util.isNull('')]).toEqual([true, true, false]);
    expect([util.isNullOrEmpty(''), util.isNullOrEmpty(' '), util.isNullOrBlank(' \t')]).toEqual([true, false, true]);
    expect([util.defaultIfNull(null, 'd'), util.defaultIfNullOrEmpty('', 'd'), util.defaultIfNullOrBlank('  ', 'd'), util.defaultIfNull(0, 'd')]).toEqual(['d', 'd', 'd', 0]);
    expect([null, 'a', 1, true, [1], { a: 1 }].map(util.typeOf)).toEqual(['Null', 'String', 'Number', 'Boolean', 'List', 'Map']);
    expect(util.matches('a*b', 'aaaaab')).toBe(true);
    expect(util.matches('a*b', 'aaaaabc')).toBe(false);
  });

  it('authType reads state', () => {
    expect(fresh({ authType: 'API Key Authorization' }).util.authType()).toBe('API Key Authorization');
    expect(fresh({ authType: () => 'Lambda Authorization' }).util.authType()).toBe('Lambda Authorization');
  });

  it('str and math', () => {
    const { util } = fresh();
    expect(util.str.normalize('e\u0301', 'nfc')).toBe('é');
    expect([util.math.roundNum(2.5), util.math.minVal(1, 2), util.math.maxVal(1, 2)]).toEqual([3, 1, 2]);
    for (let i = 0; i < 50; i += 1) {
      const r = util.math.randomWithinRange(3, 5);
      expect(Number.isInteger(r) && r >= 3 && r <= 5).toBe(true);
    }
  });
});

describe('util.time (documented examples)', () => {
  const { util } = fresh({ now: () => 1517943695750 });
  it('now*', () => {
    expect(util.time.nowISO8601()).toBe('2018-02-06T19:01:35.750Z');
    expect(util.time.nowEpochSeconds()).toBe(1517943695);
    expect(util.time.nowEpochMilliSeconds()).toBe(1517943695750);
    expect(util.time.nowFormatted('yyyy-MM-dd HH:mm:ssZ')).toBe('2018-02-06 19:01:35+0000');
    expect(util.time.nowFormatted('yyyy-MM-dd HH:mm:ssZ', 'Australia/Perth')).toBe('2018-02-07 03:01:35+0800');
    expect(util.time.nowFormatted('yyyy-MM-dd HH:mm:ssZ', '+08:00')).toBe('2018-02-07 03:01:35+0800');
  });

  it('parse and convert', () => {
    expect(util.time.parseFormattedToEpochMilliSeconds('2018-02-01 17:21:05.180+08:00', 'yyyy-MM-dd HH:mm:ss.SSSXXX')).toBe(1517476865180);
    expect(util.time.parseFormattedToEpochMilliSeconds('2018-02-02 01:19:22', 'yyyy-MM-dd HH:mm:ss', '+08:00')).toBe(1517505562000);
    expect(util.time.parseFormattedToEpochMilliSeconds('2018-02-02 01:19:22', 'yyyy-MM-dd HH:mm:ss', 'Australia/Perth')).toBe(1517505562000);
    expect(util.time.parseISO8601ToEpochMilliSeconds('2018-02-01T17:21:05.180+08:00')).toBe(1517476865180);
    expect(util.time.epochMilliSecondsToSeconds(1517943695750)).toBe(1517943695);
    expect(util.time.epochMilliSecondsToISO8601(1517943695758)).toBe('2018-02-06T19:01:35.758Z');
    expect(util.time.epochMilliSecondsToFormatted(1517943695750, 'yyyy-MM-dd HH:mm:ssZ')).toBe('2018-02-06 19:01:35+0000');
    expect(util.time.epochMilliSecondsToFormatted(1517943695750, 'yyyy-MM-dd HH:mm:ssZ', 'Australia/Perth')).toBe('2018-02-07 03:01:35+0800');
    expect(util.time.epochMilliSecondsToFormatted(1517943695750, "EEE, d MMM yyyy hh:mm a 'UTC'")).toBe('Tue, 6 Feb 2018 07:01 PM UTC');
    // DST: New York is UTC-4 in July.
    expect(util.time.epochMilliSecondsToFormatted(Date.UTC(2020, 6, 1, 12), 'HH:mm XXX', 'America/New_York')).toBe('08:00 -04:00');
    expect(() => util.time.parseFormattedToEpochMilliSeconds('nope', 'yyyy-MM-dd')).toThrow();
  });
});

describe('util.dynamodb', () => {
  const { util } = fresh();
  it('typed values, as APPSYNC_JS returns objects', () => {
    expect(util.dynamodb.toDynamoDB('test')).toEqual({ S: 'test' });
    expect(util.dynamodb.toDynamoDB(12345)).toEqual({ N: 12345 });
    expect(util.dynamodb.toDynamoDB(true)).toEqual({ BOOL: true });
    expect(util.dynamodb.toDynamoDB(null)).toEqual({ NULL: null });
    expect(util.dynamodb.toMapValues({ foo: 'bar', baz: 1234, beep: ['boop'] })).toEqual({ foo: { S: 'bar' }, baz: { N: 1234 }, beep: { L: [{ S: 'boop' }] } });
    expect(util.dynamodb.toMap({ foo: 'bar' })).toEqual({ M: { foo: { S: 'bar' } } });
    expect(util.dynamodb.toList(['foo', 123, { bar: 'baz' }])).toEqual({ L: [{ S: 'foo' }, { N: 123 }, { M: { bar: { S: 'baz' } } }] });
    expect(util.dynamodb.toStringSet(['foo', 'bar'])).toEqual({ SS: ['foo', 'bar'] });
    expect(util.dynamodb.toNumberSet([1, 23, 4.56])).toEqual({ NS: [1, 23, 4.56] });
    expect(util.dynamodb.toString(null)).toBeNull();
    expect(util.dynamodb.toNull()).toEqual({ NULL: null });
  });

  it('S3 objects', () => {
    expect(util.dynamodb.toS3Object('foo', 'bar', 'baz')).toEqual({ S: '{"s3":{"key":"foo","bucket":"bar","region":"baz"}}' });
    expect(util.dynamodb.toS3Object('foo', 'bar', 'baz', 'beep')).toEqual({ S: '{"s3":{"key":"foo","bucket":"bar","region":"baz","version":"beep"}}' });
    expect(util.dynamodb.fromS3ObjectJson('{"s3":{"key":"foo","bucket":"bar","region":"baz"}}')).toEqual({ key: 'foo', bucket: 'bar', region: 'baz' });
  });
});

describe('util.transform', () => {
  const { util } = fresh();
  const parse = (s: string | null) => (s === null ? null : (JSON.parse(s) as unknown));

  it('returns JSON strings', () => {
    expect(typeof util.transform.toDynamoDBFilterExpression({ title: { contains: 'Hello World' } })).toBe('string');
  });

  it('documented example: contains on title', () => {
    // Docs: expression contains(#title, :title_contains), #title → title, :title_contains → {S: "Hello World"}.
    expect(parse(util.transform.toDynamoDBFilterExpression({ title: { contains: 'Hello World' } }))).toEqual({
      expression: '(contains(#title,:title_contains))',
      expressionNames: { '#title': 'title' },
      expressionValues: { ':title_contains': { S: 'Hello World' } },
    });
  });

  it('groups, negation, ranges and lists', () => {
    expect(parse(util.transform.toDynamoDBFilterExpression({ or: [{ content: { beginsWith: 'a' } }, { id: { between: ['1', '9'] } }] }))).toEqual({
      expression: '((begins_with(#content,:or_0_content_beginsWith)) OR (#id BETWEEN :or_1_id_between_start AND :or_1_id_between_end))',
      expressionNames: { '#content': 'content', '#id': 'id' },
      expressionValues: { ':or_0_content_beginsWith': { S: 'a' }, ':or_1_id_between_start': { S: '1' }, ':or_1_id_between_end': { S: '9' } },
    });
    expect(parse(util.transform.toDynamoDBConditionExpression({ not: { a: { eq: 1 } }, b: { in: ['x', 'y'] }, c: { size: { gt: 2 } } }))).toEqual({
      expression: '(NOT (#a = :not_a_eq)) AND (#b IN (:b_in_0, :b_in_1)) AND (size(#c) > :c_size_gt)',
      expressionNames: { '#a': 'a', '#b': 'b', '#c': 'c' },
      expressionValues: { ':not_a_eq': { N: 1 }, ':b_in_0': { S: 'x' }, ':b_in_1': { S: 'y' }, ':c_size_gt': { N: 2 } },
    });
    expect(parse(util.transform.toDynamoDBConditionExpression({ id: { attributeExists: false }, t: { attributeType: 'stringSet' } }))).toEqual({
      expression: '(attribute_not_exists(#id)) AND (attribute_type(#t,:t_attributeType))',
      expressionNames: { '#id': 'id', '#t': 't' },
      expressionValues: { ':t_attributeType': { S: 'SS' } },
    });
    expect(util.transform.toDynamoDBFilterExpression({ a: { bogus: 1 } })).toBeNull();
  });

  it('toSubscriptionFilter: fields AND-ed in a group, or splits into groups, ignored fields dropped', () => {
    expect(util.transform.toSubscriptionFilter({ author: { eq: 'Admin' }, or: [{ title: { contains: 'Book' } }, { pages: { gt: 100 } }], secret: { eq: 1 } }, ['secret'])).toEqual({
      filterGroup: [
        { filters: [{ fieldName: 'author', operator: 'eq', value: 'Admin' }, { fieldName: 'title', operator: 'contains', value: 'Book' }] },
        { filters: [{ fieldName: 'author', operator: 'eq', value: 'Admin' }, { fieldName: 'pages', operator: 'gt', value: 100 }] },
      ],
    });
    expect(util.transform.toSubscriptionFilter({ a: { eq: 1 } }, undefined, { r1: { ge: 250 }, r2: { eq: 'p' } })).toEqual({
      filterGroup: [
        { filters: [{ fieldName: 'a', operator: 'eq', value: 1 }, { fieldName: 'r1', operator: 'ge', value: 250 }] },
        { filters: [{ fieldName: 'a', operator: 'eq', value: 1 }, { fieldName: 'r2', operator: 'eq', value: 'p' }] },
      ],
    });
  });
});
