/**
 * History intake end to end through GraphQL on the local stack and the MAL sandbox: the CR shape without
 * season_id syncs; a history with 5% unusable entries syncs the rest and reports the 5% by reason on the
 * job and in its final progress event; a document that is not a history changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { FAST_MAL_CLIENT, createTestUser, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { RealtimeClient } from '../realtime/support';
import { day, listView, v2Episode, waitForJob } from '../sync/support';
import { crFixture } from './fixtures';

const stack = useTestStack({ malSandbox: { rateLimit: false }, env: FAST_MAL_CLIENT });

const SKIPPED_FIELDS = 'skipped { total reasons { reason message count paths } }';
const SYNC_JOB = `query($id: ID!) { syncJob(id: $id) { jobId status counts { historyItems seasons matched needsReview planned applied failed } errors { errorType message } ${SKIPPED_FIELDS} } }`;
const PROCESS = `mutation($input: ProcessHistoryInput!) { processHistory(input: $input) { jobId status counts { historyItems seasons } ${SKIPPED_FIELDS} } }`;

async function jobOf(headers: Record<string, string>, jobId: string) {
  await waitForJob(stack, headers, jobId);
  const result = await gql(stack, SYNC_JOB, { id: jobId }, headers);
  expect(result.errors).toBeUndefined();
  return result.data!.syncJob;
}

describe('history intake through GraphQL', () => {
  it('syncs the CR shape without season_id end to end', async () => {
    const malUser = 'intakenoseason';
    const user = await signIn(stack, malUser);
    const sent = await gql(stack, PROCESS, { input: { history: JSON.stringify(crFixture('v2-no-season-id.json')) } }, user.headers);
    expect(sent.errors).toBeUndefined();
    expect(sent.data!.processHistory).toMatchObject({ status: 'QUEUED', counts: { historyItems: 9, seasons: 3 }, skipped: { total: 0, reasons: [] } });
    const job = await jobOf(user.headers, sent.data!.processHistory.jobId);
    expect(job.status, JSON.stringify(job.errors)).toBe('SUCCEEDED');
    expect(job.counts).toMatchObject({ seasons: 3, matched: 3, needsReview: 0, failed: 0 });
    const list = listView(stack.malSandbox!.getList(malUser));
    expect(list[52991]).toMatchObject({ status: 'watching', episodes: 4 });
    expect(list[40748]).toMatchObject({ status: 'watching', episodes: 3 });
    // Season 2 numbered 25–26 on CR: episodes 1–2 of MAL's second season.
    expect(list[51009]).toMatchObject({ status: 'watching', episodes: 2 });
  });

  it('syncs the 95% of a history that is usable and reports the 5% by reason on the job and in the final event', async () => {
    const malUser = 'intakefivepct';
    const user = await signIn(stack, malUser);
    const shows = [
      { seriesId: 'GFRIEREN', seriesTitle: "Frieren: Beyond Journey's End", seasonId: 'GFR1', count: 28 },
      { seriesId: 'GSPY', seriesTitle: 'SPY x FAMILY', seasonId: 'GSPY1', count: 12 },
      { seriesId: 'GDN', seriesTitle: 'Death Note', seasonId: 'GDN1', count: 37 },
      { seriesId: 'GSG', seriesTitle: 'Steins;Gate', seasonId: 'GSG1', count: 18 },
    ];
    const good = shows.flatMap((s, k) =>
      Array.from({ length: s.count }, (_, i) => v2Episode({ seriesId: s.seriesId, seriesTitle: s.seriesTitle, seasonId: s.seasonId, seasonTitle: s.seriesTitle, episode: i + 1, played: day(1 + k * 3 + (i % 3)) })),
    );
    expect(good).toHaveLength(95);
    const tooLongId = v2Episode({ seriesId: 'GDN', seriesTitle: 'Death Note', seasonId: 'G'.repeat(1500), seasonTitle: 'Death Note', episode: 38, played: day(20) });
    const hugeEpisode = v2Episode({ seriesId: 'GFRIEREN', seriesTitle: "Frieren: Beyond Journey's End", seasonId: 'GFR1', seasonTitle: "Frieren: Beyond Journey's End", episode: 1e9, played: day(20) });
    const farFuture = { ...v2Episode({ seriesId: 'GSPY', seriesTitle: 'SPY x FAMILY', seasonId: 'GSPY1', seasonTitle: 'SPY x FAMILY', episode: 13, played: day(20) }), date_played: 1e20 };
    const gone = { id: 'GGONE1', parent_id: 'GGONE', parent_type: 'series', date_played: day(21), playhead: 10, fully_watched: false, panel: null };
    const special = v2Episode({ seriesId: 'GSG', seriesTitle: 'Steins;Gate', seasonId: 'GSG1', seasonTitle: 'Steins;Gate', episode: 0, played: day(21) });
    Object.assign(special.panel.episode_metadata, { episode_number: null, sequence_number: 18.5, episode: '' });
    // The bad ones spread through the document (indices 10, 30, 50, 70, 90).
    const data: unknown[] = [...good];
    [tooLongId, hugeEpisode, farFuture, gone, special].forEach((bad, i) => data.splice(10 + i * 20, 0, bad));
    expect(data).toHaveLength(100);

    const socket = await RealtimeClient.connect(stack.realtimeUrl, { host: new URL(stack.graphqlUrl).host, Authorization: user.sessionToken });
    try {
      expect((await socket.init()).type).toBe('connection_ack');
      const header = { host: new URL(stack.graphqlUrl).host, Authorization: user.sessionToken };
      expect((await socket.start('progress', 'subscription { onSyncProgress { jobId seq status phase summary } }', {}, header)).type).toBe('start_ack');

      const sent = await gql(stack, PROCESS, { input: { history: JSON.stringify({ total: 100, data, meta: {} }) } }, user.headers);
      expect(sent.errors).toBeUndefined();
      const jobId = sent.data!.processHistory.jobId;
      const job = await jobOf(user.headers, jobId);
      expect(job.status, JSON.stringify(job.errors)).toBe('SUCCEEDED');
      expect(job.errors).toEqual([]);
      expect(job.counts).toMatchObject({ historyItems: 100, seasons: 4, matched: 4, failed: 0 });

      const expectedReasons = [
        { reason: 'OUT_OF_RANGE', count: 2, paths: ['data[30].panel.episode_metadata.episode_number', 'data[50].date_played'] },
        { reason: 'ID_TOO_LONG', count: 1, paths: ['data[10].panel.episode_metadata.season_id'] },
        { reason: 'PANEL_MISSING', count: 1, paths: ['data[70].panel'] },
        { reason: 'SPECIAL_EPISODE', count: 1, paths: ['data[90].panel.episode_metadata.sequence_number'] },
      ];
      expect(job.skipped.total).toBe(5);
      expect(job.skipped.reasons.map(({ reason, count, paths }: any) => ({ reason, count, paths }))).toEqual(expectedReasons);
      expect(job.skipped.reasons.every((r: any) => r.message.length > 10)).toBe(true);

      // The 95 usable entries reached MAL.
      const list = listView(stack.malSandbox!.getList(malUser));
      expect(list[52991]).toMatchObject({ episodes: 28 });
      expect(list[50265]).toMatchObject({ status: 'completed', episodes: 12 });
      expect(list[1535]).toMatchObject({ status: 'completed', episodes: 37 });
      expect(list[9253]).toMatchObject({ status: 'watching', episodes: 18 });

      const last = await socket.waitFor((m) => m.type === 'data' && m.payload?.data?.onSyncProgress?.jobId === jobId && m.payload.data.onSyncProgress.summary, 10_000);
      const summary = JSON.parse(last.payload.data.onSyncProgress.summary);
      expect(summary).toMatchObject({ failed: 0, skipped: { total: 5 } });
      expect(summary.skipped.reasons.map(({ reason, count, paths }: any) => ({ reason, count, paths }))).toEqual(expectedReasons);
    } finally {
      socket.socket.close();
    }
  });

  it('syncs the quirk fixtures together in one mixed v1+v2 document: specials, panel-less entries, a renumbered dub, a movie by identifier, v1 fully_watched', async () => {
    const malUser = 'intakequirks';
    const user = await signIn(stack, malUser);
    const data = [...crFixture('quirk-special-null-episode.json').data, ...crFixture('quirk-panel-null-v2.json').data, ...crFixture('quirk-dub-season-number.json').data];
    const items = crFixture('quirk-fully-watched-v1.json').items;
    const sent = await gql(stack, PROCESS, { input: { history: JSON.stringify({ total: data.length, data, meta: {}, items, next_page: null }) } }, user.headers);
    expect(sent.errors).toBeUndefined();
    const job = await jobOf(user.headers, sent.data!.processHistory.jobId);
    expect(job.status, JSON.stringify(job.errors)).toBe('SUCCEEDED');
    // Frieren (one season, its English dub folded in), SPY x FAMILY (two dubs folded in), its movie, Demon Slayer.
    expect(job.counts).toMatchObject({ historyItems: data.length + items.length, seasons: 4, failed: 0 });
    expect(job.skipped.reasons.map(({ reason, count }: any) => ({ reason, count }))).toEqual([
      { reason: 'PANEL_MISSING', count: 2 },
      { reason: 'SPECIAL_EPISODE', count: 2 },
    ]);
    const list = listView(stack.malSandbox!.getList(malUser));
    // Episodes 1–6; the special between 6 and 7 is not progress (MAL would refuse 6.5).
    expect(list[52991]).toMatchObject({ status: 'watching', episodes: 6 });
    // The original's episodes 1–3 and the dubs' 4–6, whatever season number the dubs carry.
    expect(list[50265]).toMatchObject({ status: 'watching', episodes: 6 });
    expect(list[53888]).toBeDefined();
    // v1 fully_watched with a 5 s playhead: watched.
    expect(list[38000]).toMatchObject({ status: 'watching', episodes: 3 });
  });

  it('reports the skipped entries of a history sent in parts, with the part of each path', async () => {
    const user = await createTestUser(stack);
    const entry = (n: number) => v2Episode({ seriesId: 'GTRI', seriesTitle: 'Trigun', seasonId: 'GTRI1', seasonTitle: 'Trigun', episode: n, played: day(n) });
    const first = await gql(stack, PROCESS, { input: { history: JSON.stringify({ data: [entry(1), 7] }), part: 1, totalParts: 2, dryRun: true } }, user.headers);
    expect(first.errors).toBeUndefined();
    expect(first.data!.processHistory.skipped).toMatchObject({ total: 1, reasons: [{ reason: 'NOT_AN_ENTRY', paths: ['part 1: data[1]'] }] });
    const jobId = first.data!.processHistory.jobId;
    const second = await gql(stack, PROCESS, { input: { history: JSON.stringify({ items: [{ ...entry(2), panel: null }, entry(3)] }), part: 2, totalParts: 2, jobId } }, user.headers);
    expect(second.errors).toBeUndefined();
    expect(second.data!.processHistory.skipped).toMatchObject({
      total: 2,
      reasons: [
        { reason: 'NOT_AN_ENTRY', count: 1, paths: ['part 1: data[1]'] },
        { reason: 'PANEL_MISSING', count: 1, paths: ['part 2: items[0].panel'] },
      ],
    });
    const job = await jobOf(user.headers, jobId);
    expect(job.skipped.total).toBe(2);
  });

  it('refuses a document that is not a history, and stores nothing', async () => {
    const user = await createTestUser(stack);
    const SERIES = 'query { series(limit: 100) { items { seriesId } } }';
    const JOBS = 'query { syncJobs(limit: 100) { items { jobId status } } }';
    const seriesBefore = await gql(stack, SERIES, {}, user.headers);
    const jobsBefore = await gql(stack, JOBS, {}, user.headers);
    const nest = (levels: number) => {
      let out = '[]';
      for (let i = 0; i < levels; i++) out = i % 2 ? `[${out}]` : `{"a":${out}}`;
      return out;
    };
    const cases: Array<[string, string, RegExp]> = [
      ['not JSON', '{"data": [', /history|JSON/i],
      ['no list', JSON.stringify({ total: 3, meta: {} }), /input\.history/],
      ['list not an array', JSON.stringify({ data: 'nope' }), /input\.history\.data: expected array/],
      ['another user', JSON.stringify({ user_id: 'u-someone-else', data: [] }), /input\.history\.user_id/],
      ['100 deep', `{"data": [], "x": ${nest(100)}}`, /nested more than 64 levels/],
      // Past any AWSJSON argument's own bound, the value is refused before the resolver runs.
      ['1,000 deep', `{"data": [], "x": ${nest(1_000)}}`, /nested deeper than 512 levels/],
    ];
    for (const [name, history, pattern] of cases) {
      const result = await gql(stack, PROCESS, { input: { history } }, user.headers);
      expect(result.errors?.[0]?.errorType, `${name}: ${JSON.stringify(result.errors)}`).toBe('ValidationError');
      expect(result.errors?.[0]?.message, name).toMatch(pattern);
    }
    // An over-long job id is refused before it reaches a DynamoDB key (whose sort keys hold 1,024 bytes).
    const longJob = await gql(stack, PROCESS, { input: { history: JSON.stringify({ data: [] }), jobId: 'j'.repeat(1500), part: 2, totalParts: 2 } }, user.headers);
    expect(longJob.errors?.[0]).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'input.jobId' } });
    expect(await gql(stack, SERIES, {}, user.headers)).toEqual(seriesBefore);
    expect(await gql(stack, JOBS, {}, user.headers)).toEqual(jobsBefore);
  });
});
