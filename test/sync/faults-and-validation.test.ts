/**
 * MAL misbehaving during a sync (429 and 5xx bursts, the access token expiring mid-sync), and malformed
 * histories refused with errors that name the problem, leaving the user's data as it was.
 */
import { describe, expect, it } from 'vitest';
import { FAST_MAL_CLIENT, QUICK_MAL_RETRIES, createTestUser, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { PROCESS_HISTORY, allHistory, day, listView, v2Episode, waitForJob } from './support';

const stack = useTestStack({
  malSandbox: { rateLimit: false },
  env: { ...FAST_MAL_CLIENT, ...QUICK_MAL_RETRIES },
});

const SHOWS = [
  { seriesId: 'GSG', title: 'Steins;Gate', watched: 24 },
  { seriesId: 'GOPM', title: 'One-Punch Man', watched: 4 },
  { seriesId: 'GDN', title: 'Death Note', watched: 37 },
];

function history() {
  return {
    data: SHOWS.flatMap((show, s) =>
      Array.from({ length: show.watched }, (_, i) => v2Episode({ seriesId: show.seriesId, seriesTitle: show.title, seasonId: `${show.seriesId}1`, seasonTitle: show.title, episode: i + 1, played: day(1 + s * 5) })),
    ),
  };
}

describe('MAL failures during a sync', () => {
  it('completes through 429 and 5xx bursts and an access token expiring mid-sync', async () => {
    const user = await signIn(stack, 'faultuser');
    const sandbox = stack.malSandbox!;
    // Tokens issued from now on live 2 s; answers take 150 ms; bursts of throttling and failures.
    sandbox.setFaults({ accessTokenLifetimeSeconds: 2, revokeAccessTokens: 'faultuser', latencyMs: 150, failNextRequests: 2, failStatus: 429 });
    const sent = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history()) } }, user.headers);
    expect(sent.errors).toBeUndefined();
    const jobId = sent.data!.processHistory.jobId;
    // A 5xx burst once the worker is under way: right after the 429 burst has been answered.
    const underWay = Date.now();
    while (sandbox.stats.injectedFailures < 2 && Date.now() - underWay < 20_000) await new Promise((r) => setTimeout(r, 5));
    sandbox.setFaults({ failNextRequests: 2, failStatus: 503 });
    const job = await waitForJob(stack, user.headers, jobId, 55_000);
    sandbox.setFaults({ accessTokenLifetimeSeconds: null, latencyMs: 0, failNextRequests: 0 });
    expect(job.status, JSON.stringify(job.errors)).toBe('SUCCEEDED');
    expect(job.counts).toMatchObject({ planned: 3, applied: 3, failed: 0 });
    const list = listView(sandbox.getList('faultuser'));
    expect(list[9253]).toMatchObject({ status: 'completed', episodes: 24 });
    expect(list[30276]).toMatchObject({ status: 'watching', episodes: 4 });
    expect(list[1535]).toMatchObject({ status: 'completed', episodes: 37 });
    expect(sandbox.stats.injectedFailures).toBeGreaterThanOrEqual(4);
    // Sign-in issued one token pair; the revoked/expiring access tokens forced at least one refresh.
    expect(sandbox.requestLog.filter((r) => r.path === '/v1/oauth2/token' && r.status === 200 && r.userName === 'faultuser').length).toBeGreaterThanOrEqual(2);
    expect(await allHistory(stack, user.headers, jobId)).toHaveLength(3);
  }, 60_000);
});

describe('malformed histories', () => {
  const SERIES = 'query { series(limit: 100) { items { seriesId title seasons { seasonKey episodes { number } } } } }';
  const JOBS = 'query { syncJobs(limit: 100) { items { jobId status } } }';

  it('names the problem and changes nothing of the user\'s data', async () => {
    const user = await createTestUser(stack);
    // Existing data: one accepted history.
    const good = { data: [v2Episode({ seriesId: 'GOK', seriesTitle: 'Trigun', seasonId: 'GOK1', seasonTitle: 'Trigun', episode: 1, played: day(1) })] };
    const accepted = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(good), dryRun: true } }, user.headers);
    expect(accepted.errors).toBeUndefined();
    await waitForJob(stack, user.headers, accepted.data!.processHistory.jobId).catch(() => undefined);
    const seriesBefore = await gql(stack, SERIES, {}, user.headers);
    const jobsBefore = await gql(stack, JOBS, {}, user.headers);

    // A bad entry inside a history is skipped and reported, not refused (test/history/intake-e2e.test.ts).
    const cases: Array<[string, unknown, Record<string, unknown>, RegExp]> = [
      ['no list', { stuff: [] }, {}, /input\.history/],
      ['list not an array', { data: { 0: good.data[0] } }, {}, /input\.history\.data/],
      ['too deep', { data: [good.data[0]], deep: JSON.parse('['.repeat(100) + ']'.repeat(100)) }, {}, /nested more than 64 levels/],
      ['another user', { userId: 'u-someone-else', ...good }, {}, /input\.history\.userId/],
      ['part out of range', good, { part: 3, totalParts: 2 }, /input\.part/],
    ];
    for (const [name, history, extra, pattern] of cases) {
      const result = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history), ...extra } }, user.headers);
      expect(result.errors?.[0]?.errorType, name).toBe('ValidationError');
      expect(result.errors?.[0]?.message, name).toMatch(pattern);
    }

    // Size limits of one call: LimitExceeded naming the limit, with no wait (send in parts instead).
    const tooMany = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify({ data: Array.from({ length: 2001 }, () => good.data[0]) }) } }, user.headers);
    expect(tooMany.errors?.[0]).toMatchObject({ errorType: 'LimitExceeded', errorInfo: { limit: 'historyItemsPerPart', max: 2000, actual: 2001, retryAfterSeconds: 0, action: 'SEND_IN_PARTS' } });
    const tooManyParts = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(good), totalParts: 11 } }, user.headers);
    expect(tooManyParts.errors?.[0]).toMatchObject({ errorType: 'LimitExceeded', errorInfo: { limit: 'partsPerHistory', max: 10, field: 'input.totalParts' } });
    // Another user is served meanwhile.
    const bystander = await createTestUser(stack);
    expect((await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(good), dryRun: true } }, bystander.headers)).errors).toBeUndefined();

    // A 50 MB body: refused by the HTTP layer (413) before any resolver runs.
    const huge = JSON.stringify({ query: PROCESS_HISTORY, variables: { input: { history: JSON.stringify({ data: [], pad: 'x'.repeat(50 * 1024 * 1024) }) } } });
    const response = await fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...user.headers }, body: huge });
    expect(response.status).toBe(413);

    // A part over 4 MB (within the HTTP limit): the part limit names itself.
    const big = { data: [{ ...good.data[0], padding: 'y'.repeat(4 * 1024 * 1024) }] };
    const tooBig = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(big) } }, user.headers);
    expect(tooBig.errors?.[0]).toMatchObject({ errorType: 'LimitExceeded', errorInfo: { limit: 'historyBytesPerPart', field: 'input.history', max: 4 * 1024 * 1024, retryAfterSeconds: 0 } });

    expect(await gql(stack, SERIES, {}, user.headers)).toEqual(seriesBefore);
    expect(await gql(stack, JOBS, {}, user.headers)).toEqual(jobsBefore);
  });

  it('accepts a history in parts under one job and starts it when the last arrives', async () => {
    const user = await createTestUser(stack);
    const entries = Array.from({ length: 6 }, (_, i) => v2Episode({ seriesId: 'GPT', seriesTitle: 'Trigun', seasonId: 'GPT1', seasonTitle: 'Trigun', episode: i + 1, played: day(1 + i) }));
    const first = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify({ data: entries.slice(0, 3) }), part: 1, totalParts: 2, dryRun: true } }, user.headers);
    expect(first.data!.processHistory).toMatchObject({ status: 'RECEIVING', receivedParts: 1, totalParts: 2 });
    const jobId = first.data!.processHistory.jobId;
    const again = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify({ data: entries.slice(0, 3) }), part: 1, totalParts: 2, jobId } }, user.headers);
    expect(again.errors?.[0]?.errorType).toBe('Conflict');
    const second = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify({ data: entries.slice(3) }), part: 2, totalParts: 2, jobId } }, user.headers);
    expect(second.data!.processHistory).toMatchObject({ status: 'QUEUED', receivedParts: 2, counts: { historyItems: 6, seasons: 1 } });
    const other = await createTestUser(stack);
    const foreign = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify({ data: entries }), part: 2, totalParts: 2, jobId } }, other.headers);
    expect(foreign.errors?.[0]?.errorType).toBe('NotFound');
    expect((await gql(stack, 'query($id: ID!) { syncJob(id: $id) { jobId } }', { id: jobId }, other.headers)).data!.syncJob).toBeNull();
  });
});
