/**
 * Runs every example of docs/api.md, in document order, against a fresh local stack as the example's
 * stated caller, and compares the whole response body (and HTTP status) with the documented one. The
 * example syntax (auth modes, placeholders, captures, `poll`, `trigger`, `consent`, `mal`) is documented
 * in docs/api.md under "How the examples are tested".
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_MAL_CLIENT, QUICK_MAL_RETRIES, useTestStack } from '../support/stack';
import { approveAs, loginSecret, signIn } from '../support/sign-in';
import { RealtimeClient, tokenHeader } from '../realtime/support';
import { signGraphQLRequest } from '../../functions/shared/iam-signer';
import { SIZE_LIMITS, WINDOW_LIMITS } from '../../functions/limits/user-limits';
import { compare, operationType, parseExamples, substitute, type Captures, type DocExample } from './doc-examples';

const DOC_PATH = resolve(import.meta.dirname, '../../docs/api.md');
const examples = parseExamples(readFileSync(DOC_PATH, 'utf8'));

/** The MAL sandbox user behind `auth=user`. */
const DOC_USER = 'docs_user';

const stack = useTestStack({
  malSandbox: { rateLimit: false },
  console: false,
  env: { ...FAST_MAL_CLIENT, ...QUICK_MAL_RETRIES, MAL_MAX_RETRIES: '1' },
});
const captures: Captures = {};
const sessions = new Map<string, string>();
const subscriptions = new Map<string, { client: RealtimeClient; example: DocExample }>();
/** Actual responses by example name, for the test that changes expectations. */
const actuals = new Map<string, { status: number; body: unknown }>();

beforeAll(() => {
  // Predefined for the examples: the local stack's sign-in callback page (what signIn uses too).
  captures.redirectUri = stack.redirectUris.at(-1);
  // The client-held sign-in secret and its SHA-256, as a client makes them.
  const secret = loginSecret();
  captures.loginSecret = secret.secret;
  captures.loginSecretHash = secret.hash;
});

// Runs before the stack's stop (hooks after all run in reverse order).
afterAll(async () => {
  for (const { client } of subscriptions.values()) await client.close();
});

async function sessionOf(malUser: string): Promise<string> {
  let token = sessions.get(malUser);
  if (!token) {
    token = (await signIn(stack, malUser)).sessionToken;
    sessions.set(malUser, token);
  }
  return token;
}

interface Caller {
  headers: Record<string, string>;
  iam: boolean;
  malUser?: string;
}

/** Who the example's `auth=` names: the headers to send (IAM is signed per request), and the MAL user. */
async function caller(example: DocExample): Promise<Caller> {
  const auth = example.attrs.auth!;
  if (auth === 'apiKey') return { headers: { 'x-api-key': stack.apiKey }, iam: false };
  if (auth === 'none') return { headers: {}, iam: false };
  if (auth === 'iam') return { headers: {}, iam: true };
  if (auth === 'forged') return { headers: { authorization: 'forged-session-token-forged-session-token-00' }, iam: false };
  if (auth.startsWith('token:')) return { headers: { authorization: String(substitute(`{{${auth.slice(6)}}}`, captures)) }, iam: false };
  if (auth === 'user' || auth.startsWith('user:')) {
    const malUser = auth === 'user' ? DOC_USER : auth.slice(5);
    return { headers: { authorization: await sessionOf(malUser) }, iam: false, malUser };
  }
  throw new Error(`${example.name}: unknown auth=${auth}`);
}

async function post(query: string, variables: Record<string, unknown>, who: Caller) {
  const body = JSON.stringify({ query, variables });
  const headers = who.iam ? await signGraphQLRequest(stack.graphqlUrl, body, stack.iam.region, stack.iam.credentials) : { 'content-type': 'application/json', ...who.headers };
  const response = await fetch(stack.graphqlUrl, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as unknown };
}

async function prepare(example: DocExample, malUser: string | undefined) {
  const sandbox = stack.malSandbox!;
  if (example.attrs.consent) {
    // MAL's consent page, approved by the sandbox's scripted user: MAL redirects with code and state.
    const approved = await approveAs(String(substitute('{{authorizeUrl}}', captures)), example.attrs.consent);
    Object.assign(captures, { code: approved.code, state: approved.state });
  }
  // `cache=expired`: the example shows the API after the cached session checks expired (docs/api.md).
  if (example.attrs.cache === 'expired') stack.authorizerCache.clear();
  switch (example.attrs.mal) {
    case undefined:
      break;
    case 'down':
      sandbox.setFaults({ failRate: 1, failStatus: 503 });
      break;
    case 'up':
      sandbox.setFaults({ failRate: 0 });
      break;
    case 'revoke':
      if (!malUser) throw new Error(`${example.name}: mal=revoke needs a user caller`);
      sandbox.setFaults({ revokeAccessTokens: malUser, revokeRefreshTokens: malUser });
      break;
    default:
      throw new Error(`${example.name}: unknown mal=${example.attrs.mal}`);
  }
}

async function runHttp(example: DocExample): Promise<string[]> {
  const who = await caller(example);
  await prepare(example, who.malUser);
  const variables = substitute(example.variables, captures) as Record<string, unknown>;
  const deadline = Date.now() + Number(example.attrs.poll ?? 0) * 1000;
  for (;;) {
    const actual = await post(example.query, variables, who);
    actuals.set(example.name, actual);
    const diffs = [...(actual.status === example.status ? [] : [`HTTP status: expected ${example.status}, got ${actual.status}`]), ...compare(example.expected, actual.body, captures)];
    if (diffs.length === 0 || Date.now() >= deadline) return diffs;
    await new Promise((r) => setTimeout(r, 1000)); // well under the per-user limit of 120 requests a minute
  }
}

async function openSubscription(example: DocExample): Promise<string[]> {
  if (!example.attrs.trigger) throw new Error(`${example.name}: a subscription example needs trigger=NAME`);
  const who = await caller(example);
  const header = tokenHeader(stack.graphqlUrl, who.headers.authorization ?? '');
  const client = await RealtimeClient.connect(stack.realtimeUrl, header);
  subscriptions.set(example.attrs.trigger, { client, example });
  const ack = await client.init();
  if (ack.type !== 'connection_ack') return [`connection: ${JSON.stringify(ack)}`];
  const started = await client.start(example.name, example.query, substitute(example.variables, captures) as Record<string, unknown>, header);
  return started.type === 'start_ack' ? [] : [`start: ${JSON.stringify(started)}`];
}

async function checkSubscription(triggerName: string): Promise<string[]> {
  const open = subscriptions.get(triggerName);
  if (!open) return [];
  subscriptions.delete(triggerName);
  const { client, example } = open;
  try {
    const message = await client.waitFor((m) => m.id === example.name && (m.type === 'data' || m.type === 'error'), 10_000);
    actuals.set(example.name, { status: 200, body: message.payload });
    return compare(example.expected, message.payload, captures).map((d) => `${example.name} (subscription): ${d}`);
  } finally {
    await client.close();
  }
}

/** A copy of `value` with its first literal leaf (not a placeholder, capture or reference) changed; undefined if none. */
function perturb(value: unknown): unknown {
  let done = false;
  const walk = (v: unknown): unknown => {
    if (done) return v;
    if (typeof v === 'string') {
      if (/^<.*>$/.test(v) || v.includes('{{')) return v;
      done = true;
      return `${v}!`;
    }
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) {
      done = true;
      return typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : 'not-null';
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const out = walk(value);
  return done ? out : undefined;
}

describe('docs/api.md limits table', () => {
  it('states the limits of functions/limits/user-limits.ts', () => {
    const doc = readFileSync(DOC_PATH, 'utf8');
    const table = doc.slice(doc.indexOf('<!-- limits-table:start -->'), doc.indexOf('<!-- limits-table:end -->'));
    const rows = new Map<string, string>();
    for (const m of table.matchAll(/^\| `(\w+)` \| ([^|]+) \|/gm)) rows.set(m[1]!, m[2]!.trim());
    expect(Object.fromEntries(rows)).toEqual({
      requestsPerMinute: `${WINDOW_LIMITS.requestsPerMinute.limit} per minute`,
      historyItemsPerDay: `${WINDOW_LIMITS.historyItemsPerDay.limit} per day`,
      syncStartsPerHour: `${WINDOW_LIMITS.syncStartsPerHour.limit} per hour`,
      malLookupsPerHour: `${WINDOW_LIMITS.malLookupsPerHour.limit} per hour`,
      malLookupsPerMinuteAllUsers: `${WINDOW_LIMITS.malLookupsPerMinuteAllUsers.limit} per minute`,
      concurrentSyncJobs: `${SIZE_LIMITS.concurrentSyncJobs}`,
      historyItemsPerPart: `${SIZE_LIMITS.historyItemsPerPart}`,
      historyBytesPerPart: `${SIZE_LIMITS.historyBytesPerPart} bytes (4 MB)`,
      partsPerHistory: `${SIZE_LIMITS.partsPerHistory}`,
      requestBytes: `${SIZE_LIMITS.requestBytes} bytes (5 MB)`,
    });
    expect([WINDOW_LIMITS.requestsPerMinute.windowSeconds, WINDOW_LIMITS.syncStartsPerHour.windowSeconds, WINDOW_LIMITS.historyItemsPerDay.windowSeconds]).toEqual([60, 3600, 86_400]);
    // A limit added to user-limits.ts must be documented too.
    expect(Object.keys(WINDOW_LIMITS).length + Object.keys(SIZE_LIMITS).length).toBe(rows.size);
  });
});

describe('docs/api.md examples', () => {
  it('has examples, each with a unique name and a response', () => {
    expect(examples.length).toBeGreaterThan(20);
  });

  for (const example of examples) {
    it(`${example.name} (docs/api.md:${example.line}, auth=${example.attrs.auth})`, async () => {
      const diffs = operationType(example.query) === 'subscription' ? await openSubscription(example) : await runHttp(example);
      diffs.push(...(await checkSubscription(example.name)));
      expect(diffs, `docs/api.md:${example.line} ${example.name}; actual: ${JSON.stringify(actuals.get(example.name)?.body)}`).toEqual([]);
    }, 60_000);
  }

  it('covers every Query, Mutation and Subscription field of the schema', () => {
    const schema = readFileSync(resolve(import.meta.dirname, '../../schema.graphql'), 'utf8');
    const fields: string[] = [];
    for (const type of ['Query', 'Mutation', 'Subscription']) {
      const body = new RegExp(`type ${type} \\{([\\s\\S]*?)\\n\\}`).exec(schema)![1]!;
      // Top-level fields: two-space indented names followed by ( or :.
      for (const m of body.matchAll(/^ {2}(\w+)\s*[(:]/gm)) fields.push(m[1]!);
    }
    expect(fields.length).toBeGreaterThan(20);
    const used = new Set(examples.flatMap((e) => [...e.query.matchAll(/\b(\w+)\b/g)].map((m) => m[1]!)));
    expect(fields.filter((f) => !used.has(f))).toEqual([]);
  });

  it('fails when a documented expected output is changed', () => {
    const target = examples.find((e) => e.name === 'settings-defaults');
    const actual = actuals.get('settings-defaults');
    expect(target && actual, 'settings-defaults ran').toBeTruthy();
    // As documented it matches…
    expect(compare(target!.expected, actual!.body, { ...captures })).toEqual([]);
    // …and a changed value, an extra key or a wrong placeholder each make it differ.
    const changedValue = structuredClone(target!.expected) as { data: { settings: Record<string, unknown> } };
    changedValue.data.settings.watchedThreshold = 0.9;
    expect(compare(changedValue, actual!.body, { ...captures })).not.toEqual([]);
    const extraKey = structuredClone(target!.expected) as { data: { settings: Record<string, unknown> } };
    extraKey.data.settings.undocumented = true;
    expect(compare(extraKey, actual!.body, { ...captures })).not.toEqual([]);
    const wrongPlaceholder = structuredClone(target!.expected) as { data: { settings: Record<string, unknown> } };
    wrongPlaceholder.data.settings.autoAcceptMatches = '<string>';
    expect(compare(wrongPlaceholder, actual!.body, { ...captures })).not.toEqual([]);
    // Every example whose expectation has a literal value stops matching when that value is changed.
    let perturbed = 0;
    for (const example of examples) {
      const recorded = actuals.get(example.name);
      const changed = perturb(example.expected);
      if (!recorded || changed === undefined) continue;
      perturbed += 1;
      expect(compare(changed, recorded.body, { ...captures }), example.name).not.toEqual([]);
    }
    expect(perturbed).toBeGreaterThan(20);
  });
});
