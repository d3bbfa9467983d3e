// The `util`, `runtime` and `extensions` globals of the APPSYNC_JS runtime, plus AppSync's
// lenient `JSON`. Objects handed in come from the resolver's vm realm, so every check here
// uses typeof / Array.isArray rather than instanceof or prototype identity.
import { randomBytes, randomUUID } from 'node:crypto';
import { EarlyReturnSignal, UtilErrorSignal, type AppSyncGraphQLError } from './signals';
import { createTimeUtils } from './time-helpers';
import {
  toDynamoDBConditionExpression,
  toDynamoDBFilterExpression,
  toSubscriptionFilter,
} from './transform-helpers';
import { isPlainObject, toDynamoDB, toMapValues } from './dynamodb-value-helpers';

/** What `util.authType()` reports, per AppSync's documented strings. */
export type AppSyncAuthTypeName =
  | 'API Key Authorization'
  | 'IAM Authorization'
  | 'User Pool Authorization'
  | 'Open ID Connect Authorization'
  | 'Lambda Authorization';

/** Mutable per-request state the globals record into; the executor reads it afterwards. */
export type ResolverState = {
  errors: AppSyncGraphQLError[];
  subscriptionFilter?: unknown;
  subscriptionInvalidationFilter?: unknown;
  subscriptionInvalidations: unknown[];
  apiCacheEvictions: unknown[];
  /** Source of `util.authType()`: a fixed value or a getter evaluated per call. */
  authType?: AppSyncAuthTypeName | (() => AppSyncAuthTypeName);
  /** When set, `util.unauthorized()` uses AppSync's "Not Authorized to access F on type T". */
  info?: { fieldName: string; parentTypeName: string };
  /** Clock for util.time (tests pin it); defaults to Date.now. */
  now?: () => number;
};

export type ReturnOptions = { skipTo: 'END' | 'NEXT' };

/** `extensions.evictFromApiCache(typeName, fieldName, keyValuePair)` as recorded. */
export type ApiCacheEviction = { typeName: string; fieldName: string; keys: Record<string, unknown> };

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KSUID_EPOCH_SECONDS = 1_400_000_000;

function ulid(nowMs: number): string {
  let time = '';
  let t = nowMs;
  for (let i = 0; i < 10; i += 1) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let random = '';
  for (let i = 0; i < 16; i += 1) random += CROCKFORD[bytes[i]! % 32];
  return time + random;
}

function ksuid(nowMs: number): string {
  const payload = Buffer.alloc(20);
  payload.writeUInt32BE(Math.floor(nowMs / 1000) - KSUID_EPOCH_SECONDS, 0);
  randomBytes(16).copy(payload, 4);
  let n = BigInt(`0x${payload.toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(27, '0');
}

/** Java URLEncoder semantics (application/x-www-form-urlencoded, UTF-8). */
function urlEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function urlDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** commons-lang StringEscapeUtils.escapeJavaScript, which AppSync's util is modelled on. */
function escapeJavaScript(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code > 0xffff) {
      // Astral characters are escaped as their two UTF-16 units.
      for (let i = 0; i < ch.length; i += 1) out += `\\u${ch.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`;
      continue;
    }
    switch (ch) {
      case "'": out += "\\'"; break;
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '/': out += '\\/'; break;
      case '\b': out += '\\b'; break;
      case '\n': out += '\\n'; break;
      case '\t': out += '\\t'; break;
      case '\f': out += '\\f'; break;
      case '\r': out += '\\r'; break;
      default:
        out += code < 32 || code > 0x7f ? `\\u${code.toString(16).toUpperCase().padStart(4, '0')}` : ch;
    }
  }
  return out;
}

function typeOf(value: unknown): string {
  if (value === null || value === undefined) return 'Null';
  if (typeof value === 'string') return 'String';
  if (typeof value === 'number' || typeof value === 'bigint') return 'Number';
  if (typeof value === 'boolean') return 'Boolean';
  if (Array.isArray(value)) return 'List';
  if (typeof value === 'object') return 'Map';
  return 'Object';
}

function graphQLError(message: string, errorType?: string, data?: unknown, errorInfo?: unknown): AppSyncGraphQLError {
  const error: AppSyncGraphQLError = { message: String(message) };
  if (errorType !== undefined && errorType !== null) error.errorType = errorType;
  if (data !== undefined && data !== null) error.data = data;
  if (errorInfo !== undefined && errorInfo !== null) error.errorInfo = errorInfo;
  return error;
}

function nullable<T, R>(fn: (v: T) => R): (v: T | null | undefined) => R | null {
  return (v) => (v === null || v === undefined ? null : fn(v));
}

function createDynamoDBUtils() {
  return {
    toDynamoDB: (value: unknown) => toDynamoDB(value),
    toString: nullable((s: string) => ({ S: s })),
    toStringSet: nullable((l: string[]) => ({ SS: [...l] })),
    toNumber: nullable((n: number) => ({ N: n })),
    toNumberSet: nullable((l: number[]) => ({ NS: [...l] })),
    toBinary: nullable((b: string) => ({ B: b })),
    toBinarySet: nullable((l: string[]) => ({ BS: [...l] })),
    toBoolean: nullable((b: boolean) => ({ BOOL: b })),
    toNull: () => ({ NULL: null }),
    toList: nullable((l: unknown[]) => (Array.isArray(l) ? { L: l.map((v) => toDynamoDB(v)) } : null)),
    toMap: nullable((m: Record<string, unknown>) => (isPlainObject(m) ? { M: toMapValues(m) } : null)),
    toMapValues: nullable((m: Record<string, unknown>) => (isPlainObject(m) ? toMapValues(m) : null)),
    toS3Object(key: string, bucket: string, region: string, version?: string) {
      const s3: Record<string, string> = { key, bucket, region };
      if (version !== undefined && version !== null) s3.version = version;
      return { S: JSON.stringify({ s3 }) };
    },
    fromS3ObjectJson(s3ObjectString: string): unknown {
      const parsed = lenientParse(s3ObjectString);
      return isPlainObject(parsed) && isPlainObject(parsed.s3) ? parsed.s3 : null;
    },
  };
}

/** AppSync's JSON.parse gives "" instead of throwing on invalid input (resolvers can't catch). */
function lenientParse(text: unknown, reviver?: (this: unknown, key: string, value: unknown) => unknown): unknown {
  try {
    return JSON.parse(String(text), reviver);
  } catch {
    return '';
  }
}

export function createAppSyncJSON(): { parse: typeof lenientParse; stringify: typeof JSON.stringify } {
  return {
    parse: lenientParse,
    stringify: (...args: Parameters<typeof JSON.stringify>) => JSON.stringify(...args),
  } as { parse: typeof lenientParse; stringify: typeof JSON.stringify };
}

export function createResolverGlobals(state: ResolverState) {
  const now = () => (state.now ? state.now() : Date.now());

  const util = {
    error(message: string, errorType?: string, data?: unknown, errorInfo?: unknown): never {
      throw new UtilErrorSignal(String(message), errorType ?? undefined, data ?? undefined, errorInfo ?? undefined);
    },
    appendError(message: string, errorType?: string, data?: unknown, errorInfo?: unknown): void {
      state.errors.push(graphQLError(message, errorType, data, errorInfo));
    },
    unauthorized(): never {
      const message = state.info
        ? `Not Authorized to access ${state.info.fieldName} on type ${state.info.parentTypeName}`
        : 'Unauthorized';
      throw new UtilErrorSignal(message, 'Unauthorized');
    },
    autoId: () => randomUUID(),
    autoUlid: () => ulid(now()),
    autoKsuid: () => ksuid(now()),
    base64Encode: (value: string) => Buffer.from(String(value), 'utf8').toString('base64'),
    base64Decode: (value: string) => Buffer.from(String(value), 'base64').toString('utf8'),
    urlEncode: (value: string) => urlEncode(String(value)),
    urlDecode: (value: string) => urlDecode(String(value)),
    escapeJavaScript: (value: string) => escapeJavaScript(String(value)),
    isNull: (value: unknown) => value === null || value === undefined,
    isNullOrEmpty: (value: unknown) => value === null || value === undefined || value === '',
    isNullOrBlank: (value: unknown) =>
      value === null || value === undefined || (typeof value === 'string' && value.trim() === ''),
    defaultIfNull: <T, D>(value: T, fallback: D) => (value === null || value === undefined ? fallback : value),
    defaultIfNullOrEmpty: <T, D>(value: T, fallback: D) =>
      value === null || value === undefined || (value as unknown) === '' ? fallback : value,
    defaultIfNullOrBlank: <T, D>(value: T, fallback: D) =>
      value === null || value === undefined || (typeof value === 'string' && value.trim() === '') ? fallback : value,
    isString: (value: unknown) => typeof value === 'string',
    isNumber: (value: unknown) => typeof value === 'number',
    isBoolean: (value: unknown) => typeof value === 'boolean',
    isList: (value: unknown) => Array.isArray(value),
    isMap: (value: unknown) => isPlainObject(value),
    typeOf,
    // Java's Pattern.matches: the whole input must match.
    matches: (pattern: string, value: string) => new RegExp(`^(?:${pattern})$`, 'u').test(String(value)),
    authType(): string | null {
      const t = typeof state.authType === 'function' ? state.authType() : state.authType;
      return t ?? null;
    },
    time: createTimeUtils(now),
    str: {
      normalize: (value: string, form: string) =>
        String(value).normalize(String(form).toUpperCase() as 'NFC' | 'NFD' | 'NFKC' | 'NFKD'),
    },
    math: {
      roundNum: (n: number) => Math.round(n),
      minVal: (a: number, b: number) => Math.min(a, b),
      maxVal: (a: number, b: number) => Math.max(a, b),
      randomDouble: () => Math.random(),
      // Integer in [start, end], as AppSync documents an Integer result.
      randomWithinRange: (start: number, end: number) =>
        Math.floor(Math.random() * (Math.floor(end) - Math.ceil(start) + 1)) + Math.ceil(start),
    },
    dynamodb: createDynamoDBUtils(),
    transform: {
      toDynamoDBFilterExpression,
      toDynamoDBConditionExpression,
      toSubscriptionFilter,
    },
  };

  const runtime = {
    earlyReturn(value?: unknown, returnOptions?: ReturnOptions): never {
      throw new EarlyReturnSignal(value, returnOptions);
    },
  };

  const extensions = {
    setSubscriptionFilter(filter: unknown): void {
      state.subscriptionFilter = filter;
    },
    setSubscriptionInvalidationFilter(filter: unknown): void {
      state.subscriptionInvalidationFilter = filter;
    },
    invalidateSubscriptions(obj: unknown): void {
      state.subscriptionInvalidations.push(obj);
    },
    evictFromApiCache(typeName: string, fieldName: string, keyValuePair: Record<string, unknown>): void {
      const eviction: ApiCacheEviction = { typeName, fieldName, keys: { ...keyValuePair } };
      state.apiCacheEvictions.push(eviction);
    },
  };

  return { util, runtime, extensions, JSON: createAppSyncJSON() };
}

export type ResolverGlobals = ReturnType<typeof createResolverGlobals>;
export type AppSyncUtil = ResolverGlobals['util'];
