/**
 * Error hygiene: deliberately failing calls — bad input on every mutation, unknown ids, forged tokens,
 * malformed requests, a Lambda fault (a function's table override pointing at a missing table), MAL
 * down, and a sync job that meets faults — never show a client a stack trace, a file path, a token, a
 * table name or another internal identifier, and every errorType is one of the documented set
 * (functions/shared/errors.ts, plus AppSync's own, docs/api.md "Error model").
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FAST_MAL_CLIENT, QUICK_MAL_RETRIES, createTestUser, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { ERROR_TYPES } from '../../functions/shared/errors';
import { loadMalTokens } from '../../functions/auth/mal-tokens';
import { signGraphQLRequest } from '../../functions/shared/iam-signer';

const APPSYNC_ERROR_TYPES = ['UnauthorizedException', 'ValidationError', 'MalformedHttpRequestException', 'PayloadTooLarge'];

const stack = useTestStack({ console: false, malSandbox: { rateLimit: false }, env: { ...FAST_MAL_CLIENT, ...QUICK_MAL_RETRIES, MAL_MAX_RETRIES: '1', SYNC_LEASE_MS: '1500' } });
/** Every secret a response must never contain (filled as users sign in). */
const secrets: string[] = [];
/** Every failing response seen, for the final sweep. */
const seen: { name: string; status: number; text: string }[] = [];

beforeAll(() => {
  secrets.push(stack.apiKey, stack.iam.credentials.secretAccessKey, stack.malSandbox!.clientSecret);
});

async function raw(name: string, body: string, headers: Record<string, string>) {
  const response = await fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.text();
  seen.push({ name, status: response.status, text });
  return { status: response.status, text, json: JSON.parse(text) as { data?: unknown; errors?: { errorType?: string; message: string; errorInfo?: unknown }[] } };
}

function call(name: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  return raw(name, JSON.stringify({ query, variables }), headers);
}

/** The hygiene rules for one response text. */
function problems(text: string): string[] {
  const found: string[] = [];
  if (/\bat\s+[\w$.<>\[\] ]+\s\(|\n\s+at\s/.test(text) || /\\n\s+at\s/.test(text)) found.push('a stack frame');
  for (const pattern of [/\/work\//, /\/home\//, /node_modules/, /file:\/\//, /\.ts:\d/, /\.m?js:\d/, /\.ts\b/]) if (pattern.test(text)) found.push(`a file path (${pattern})`);
  if (/animelog-/i.test(text)) found.push('a table name (animelog-)');
  if (text.includes(`${stack.stage}-`)) found.push('the stage table prefix');
  for (const internal of ['tokenHash', 'sealedTokens', 'codeVerifier', 'code_verifier', 'client_secret', 'refresh_token', 'access_token', 'ResourceNotFoundException', 'ConditionalCheckFailed', 'TransactionCanceled', 'non-existent table', 'UnrecognizedClient', 'ECONNREFUSED', 'TypeError', 'ReferenceError', 'JOB#', 'SERIES#', 'PROFILE', 'user#', '127.0.0.1']) {
    if (text.includes(internal)) found.push(`an internal identifier (${internal})`);
  }
  for (const secret of secrets) if (secret && text.includes(secret)) found.push(`a secret (${secret.slice(0, 6)}…)`);
  return found;
}

function errorTypesOf(json: { errors?: { errorType?: string }[] }): string[] {
  return (json.errors ?? []).map((e) => e.errorType ?? '(none)');
}

const ALLOWED = new Set<string>([...ERROR_TYPES, ...APPSYNC_ERROR_TYPES]);

function expectClean(name: string, result: { status: number; text: string; json: { errors?: { errorType?: string }[] } }, wantError = true) {
  expect(problems(result.text), `${name}: ${result.text}`).toEqual([]);
  if (wantError) expect(result.json.errors?.length ?? 0, `${name} should fail: ${result.text}`).toBeGreaterThan(0);
  for (const type of errorTypesOf(result.json)) expect(ALLOWED.has(type) || type.startsWith('DynamoDB:'), `${name}: errorType ${type}`).toBe(true);
}

const HISTORY = JSON.stringify({
  items: [1, 2].map((n) => ({ seriesId: 'GSG', seriesTitle: 'Steins;Gate', seasonId: 'GSG1', seasonNumber: 1, episodeNumber: n, fullyWatched: true, watchedAt: `2026-01-0${n}T20:00:00Z` })),
});
const PROCESS = 'mutation($i: ProcessHistoryInput!) { processHistory(input: $i) { jobId status } }';
const JOB = 'query($id: ID!) { syncJob(id: $id) { status errors { errorType message seasonKey malId } } }';

async function waitForJob(headers: Record<string, string>, jobId: string) {
  const deadline = Date.now() + 40_000;
  // Once a second at most: the caller shares the per-user limit of 120 requests a minute with the test.
  let pauseMs = 200;
  for (;;) {
    const result = await call('syncJob (waiting)', JOB, { id: jobId }, headers);
    const job = (result.json.data as { syncJob: { status: string; errors: { errorType: string; message: string }[] } | null }).syncJob;
    if (job && ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(job.status)) return { job, text: result.text };
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish: ${result.text}`);
    await new Promise((r) => setTimeout(r, pauseMs));
    pauseMs = Math.min(pauseMs * 1.5, 1000);
  }
}

describe('error hygiene', () => {
  it('bad input on every mutation', async () => {
    const user = await signIn(stack, 'hygiene_user');
    const tokens = await loadMalTokens(user.viewer.userId);
    secrets.push(user.sessionToken, tokens.accessToken, tokens.refreshToken);
    const h = user.headers;
    const cases: [string, string, Record<string, unknown>, Record<string, string>][] = [
      ['startLogin: foreign redirect', 'mutation($r: AWSURL!) { startLogin(redirectUri: $r, loginSecretHash: "h4sh-h4sh-h4sh-h4sh-h4sh-h4sh-h4sh-h4sh-h4s") { state } }', { r: 'https://evil.example/cb' }, { 'x-api-key': stack.apiKey }],
      ['startLogin: not a URL', 'mutation($r: AWSURL!) { startLogin(redirectUri: $r, loginSecretHash: "h4sh-h4sh-h4sh-h4sh-h4sh-h4sh-h4sh-h4sh-h4s") { state } }', { r: 'not a url' }, { 'x-api-key': stack.apiKey }],
      ['completeLogin: forged state', 'mutation { completeLogin(code: "x", state: "forged-state-forged-state-forged", loginSecret: "s3cret-s3cret-s3cret-s3cret-s3cret-s3cret-s3") { sessionToken } }', {}, { 'x-api-key': stack.apiKey }],
      ['completeLogin: empty code', 'mutation { completeLogin(code: "", state: "forged-state-forged-state-forged", loginSecret: "s3cret-s3cret-s3cret-s3cret-s3cret-s3cret-s3") { sessionToken } }', {}, { 'x-api-key': stack.apiKey }],
      ['processHistory: not JSON object', PROCESS, { i: { history: '[1,2]' } }, h],
      ['processHistory: bad AWSJSON', PROCESS, { i: { history: '{oops' } }, h],
      ['processHistory: list not an array', PROCESS, { i: { history: JSON.stringify({ items: { seriesTitle: 'x', watchedAt: 'now' } }) } }, h],
      ['processHistory: parts', PROCESS, { i: { history: HISTORY, part: 5, totalParts: 2 } }, h],
      ['processHistory: unknown job', PROCESS, { i: { history: HISTORY, part: 2, totalParts: 2, jobId: 'nope' } }, h],
      ['processHistory: other user', PROCESS, { i: { history: JSON.stringify({ userId: 'u-other', items: [] }) } }, h],
      ['confirmMatch: bad malId', 'mutation { confirmMatch(input: { seasonKey: "GSG:GSG1", malId: -4 }) { malId } }', {}, h],
      ['confirmMatch: unknown season', 'mutation { confirmMatch(input: { seasonKey: "../../etc/passwd", malId: 1 }) { malId } }', {}, h],
      ['updateSeriesStatus: score', 'mutation { updateSeriesStatus(input: { malId: 1, score: 99 }) { malId } }', {}, h],
      ['updateSeriesStatus: nothing', 'mutation { updateSeriesStatus(input: { malId: 1 }) { malId } }', {}, h],
      ['updateSeriesStatus: unknown anime', 'mutation { updateSeriesStatus(input: { malId: 987654321, status: WATCHING }) { malId } }', {}, h],
      ['updateSettings: range', 'mutation { updateSettings(input: { autoAcceptThreshold: 7 }) { autoAcceptThreshold } }', {}, h],
      ['updateSettings: empty', 'mutation { updateSettings(input: {}) { autoAcceptThreshold } }', {}, h],
      ['cancelSync: unknown id', 'mutation { cancelSync(jobId: "0mwunknownjob") { status } }', {}, h],
      ['retrySync: unknown id', 'mutation { retrySync(jobId: "0000") { status } }', {}, h],
      ['importData: wrong document', 'mutation($d: AWSJSON!) { importData(data: $d) { series } }', { d: JSON.stringify({ format: 'animelog-export', version: 1, tables: { users: [{ nope: 1 }] } }) }, h],
      ['importData: not an object', 'mutation($d: AWSJSON!) { importData(data: $d) { series } }', { d: '"text"' }, h],
      ['publishSyncProgress: as a user', 'mutation { publishSyncProgress(event: { jobId: "j", userId: "u", seq: 1, status: RUNNING, phase: APPLYING, processed: 0, total: 0 }) { jobId } }', {}, h],
      ['refreshSession: API key', 'mutation { refreshSession { sessionToken } }', {}, { 'x-api-key': stack.apiKey }],
      ['deleteAccount: API key', 'mutation { deleteAccount }', {}, { 'x-api-key': stack.apiKey }],
      ['signOut: forged token', 'mutation { signOut }', {}, { authorization: `${user.sessionToken}x` }],
    ];
    for (const [name, query, variables, headers] of cases) expectClean(name, await call(name, query, variables, headers));

    // publishSyncProgress with IAM and a bad event.
    const body = JSON.stringify({ query: 'mutation { publishSyncProgress(event: { jobId: "j", userId: "u", seq: 0, status: RUNNING, phase: APPLYING, processed: -1, total: 0 }) { jobId } }' });
    const signed = await signGraphQLRequest(stack.graphqlUrl, body, stack.iam.region, stack.iam.credentials);
    expectClean('publishSyncProgress: bad event (IAM)', await raw('publishSyncProgress: bad event (IAM)', body, signed));
  });

  it('unknown ids, forged tokens and malformed requests', async () => {
    const user = await createTestUser(stack);
    secrets.push(user.token);
    const h = user.headers;
    expectClean('matchCandidates: unknown season', await call('matchCandidates', '{ matchCandidates(seasonKey: "nope") { malId } }', {}, h));
    expectClean('syncJob: unknown id', await call('syncJob', '{ syncJob(id: "nope") { jobId } }', {}, h), false);
    expectClean('syncHistory: bad limit', await call('syncHistory', '{ syncHistory(jobId: "nope", limit: 0) { nextToken } }', {}, h));
    expectClean('series: forged nextToken', await call('series', '{ series(nextToken: "eyJmb3JnZWQiOnRydWV9") { nextToken } }', {}, h), false);
    expectClean('syncJobs: garbage nextToken', await call('syncJobs', '{ syncJobs(nextToken: "%%%") { nextToken } }', {}, h), false);
    expectClean('malAnime: bad id', await call('malAnime', '{ malAnime(malId: -1) { title } }', {}, h));
    for (const [name, headers] of [
      ['forged token', { authorization: 'forged' }],
      ['token-like garbage', { authorization: `${'a'.repeat(43)}.${'b'.repeat(20)}` }],
      ['very long token', { authorization: 'x'.repeat(8000) }],
      ['wrong API key', { 'x-api-key': 'da2-notakey' }],
      ['no credentials', {}],
    ] as [string, Record<string, string>][]) {
      const result = await call(name, '{ me { userId } }', {}, headers);
      expect(result.status, name).toBe(401);
      expectClean(name, result);
    }
    expectClean('syntax error', await call('syntax', '{ me { userId ', {}, h));
    expectClean('unknown field', await call('unknown field', '{ me { password } }', {}, h));
    expectClean('malformed JSON', await raw('malformed JSON', '{"query": ', h));
    expectClean('no query', await raw('no query', '{"variables": {}}', h));
  });

  it('a Lambda fault (a table that does not exist) is an InternalError with a reference only', async () => {
    const user = await createTestUser(stack);
    const h = user.headers;
    const missing = `animelog-${stack.stage}-missing-table`;
    process.env.TABLE_SYNC_JOBS = missing;
    process.env.TABLE_SERIES_DATA = missing;
    try {
      for (const [name, query, variables] of [
        ['processHistory', PROCESS, { i: { history: HISTORY } }],
        ['cancelSync', 'mutation { cancelSync(jobId: "j1") { status } }', {}],
        ['retrySync', 'mutation { retrySync(jobId: "j1") { status } }', {}],
        ['exportData', '{ exportData }', {}],
        ['matchCandidates', '{ matchCandidates(seasonKey: "GSG:GSG1") { malId } }', {}],
      ] as [string, string, Record<string, unknown>][]) {
        const result = await call(`fault: ${name}`, query, variables, h);
        expectClean(`fault: ${name}`, result);
        expect(result.json.errors![0], name).toMatchObject({ errorType: 'InternalError', message: 'An internal error occurred.', errorInfo: { reference: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
      }
    } finally {
      delete process.env.TABLE_SYNC_JOBS;
      delete process.env.TABLE_SERIES_DATA;
    }
  });

  it('MAL down: direct calls and a sync job report MalUnavailable without MAL\'s internals', async () => {
    const user = await signIn(stack, 'hygiene_maldown');
    const tokens = await loadMalTokens(user.viewer.userId);
    secrets.push(user.sessionToken, tokens.accessToken, tokens.refreshToken);
    const h = user.headers;
    // A season to ask about, synced while MAL is up.
    const first = await call('processHistory (up)', PROCESS, { i: { history: HISTORY } }, h);
    await waitForJob(h, (first.json.data as { processHistory: { jobId: string } }).processHistory.jobId);
    stack.malSandbox!.setFaults({ failRate: 1, failStatus: 503 });
    try {
      for (const [name, query, headers] of [
        ['updateSeriesStatus', 'mutation { updateSeriesStatus(input: { malId: 6, status: WATCHING }) { malId } }', h],
        ['matchCandidates', '{ matchCandidates(seasonKey: "GSG:GSG1") { malId } }', h],
        ['malAnime', '{ malAnime(malId: 30276) { title } }', h],
      ] as [string, string, Record<string, string>][]) {
        const result = await call(`MAL down: ${name}`, query, {}, headers);
        // matchCandidates of a season synced while MAL was up is answered from the shared cache of MAL's answers.
        expectClean(`MAL down: ${name}`, result, name !== 'matchCandidates');
      }
      const down = await call('MAL down: updateSeriesStatus', 'mutation { updateSeriesStatus(input: { malId: 6, status: WATCHING }) { malId } }', {}, h);
      expect(down.json.errors![0]).toMatchObject({ errorType: 'MalUnavailable', errorInfo: { retryAfterSeconds: 60 } });
      const history = JSON.stringify({ items: [{ seriesId: 'GTRI', seriesTitle: 'Trigun', seasonId: 'GTRI1', episodeNumber: 1, fullyWatched: true, watchedAt: '2026-01-05T20:00:00Z' }] });
      const sent = await call('processHistory (down)', PROCESS, { i: { history } }, h);
      const { job, text } = await waitForJob(h, (sent.json.data as { processHistory: { jobId: string } }).processHistory.jobId);
      expect(job.status).toBe('FAILED');
      expect(problems(text), text).toEqual([]);
      for (const error of job.errors) expect(ALLOWED.has(error.errorType), error.errorType).toBe(true);
    } finally {
      stack.malSandbox!.setFaults({ failRate: 0 });
    }
  });

  it('a sync job meeting a storage fault records errors without internals', async () => {
    const user = await signIn(stack, 'hygiene_jobfault');
    const h = user.headers;
    // The shared mapping cache is unreachable while the job matches.
    process.env.TABLE_MAL_MAPPINGS = `animelog-${stack.stage}-missing-table`;
    try {
      const history = JSON.stringify({ items: [{ seriesId: 'GDN', seriesTitle: 'Death Note', seasonId: 'GDN1', episodeNumber: 1, fullyWatched: true, watchedAt: '2026-01-05T20:00:00Z' }] });
      const sent = await call('processHistory (cache fault)', PROCESS, { i: { history } }, h);
      expectClean('processHistory (cache fault)', sent, false);
      const jobId = (sent.json.data as { processHistory: { jobId: string } }).processHistory.jobId;
      // While the fault lasts the job either records the fault or waits (RUNNING) for a redelivery.
      await new Promise((r) => setTimeout(r, 2500));
      const during = await call('syncJob (cache fault)', JOB, { id: jobId }, h);
      expectClean('syncJob (cache fault)', during, false);
      delete process.env.TABLE_MAL_MAPPINGS;
      // Fault gone: the redelivered message resumes the job once its lease has lapsed.
      const { job, text } = await waitForJob(h, jobId);
      expect(problems(text), text).toEqual([]);
      for (const error of job.errors) {
        expect(ALLOWED.has(error.errorType), error.errorType).toBe(true);
        // An internal fault is reported as such, without the fault's own message.
        if (error.errorType === 'InternalError') expect(error.message, text).not.toMatch(/table|dynamo|resource|exception/i);
      }
    } finally {
      delete process.env.TABLE_MAL_MAPPINGS;
    }
  });

  it('every failing response seen is clean', () => {
    expect(seen.length).toBeGreaterThan(40);
    const dirty = seen.map((s) => ({ name: s.name, problems: problems(s.text) })).filter((s) => s.problems.length > 0);
    expect(dirty).toEqual([]);
  });
});
