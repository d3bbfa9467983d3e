/**
 * Per-series sync rules through GraphQL: a batch with invalid items (the others applied, each reported),
 * rules shown on `series`, a never-sync rule honoured by the next sync and its dry run, season rules
 * (only what was watched after a date; never completed), and rules cleared again.
 */
import { describe, expect, it } from 'vitest';
import { FAST_MAL_CLIENT, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { PROCESS_HISTORY, SYNC_JOB, allHistory, listView, v2Episode, waitForJob } from './support';

const stack = useTestStack({ malSandbox: { rateLimit: false }, env: FAST_MAL_CLIENT });

const SET_RULES = `mutation($items: [SeriesRulesInput!]!) { setSeriesRules(items: $items) { seriesId seasonKey ok rules { neverSync markCompleted setDates watchedAfter } error { errorType message } } }`;
const SERIES = `query { series(limit: 100) { items { seriesId rules { neverSync } seasons { seasonKey rules { markCompleted watchedAfter } } } } }`;

const FRIEREN = { seriesId: 'GFRIEREN', seriesTitle: "Frieren: Beyond Journey's End", seasonId: 'GFR1', seasonTitle: "Frieren: Beyond Journey's End" };
const JJK = { seriesId: 'GJJK', seriesTitle: 'JUJUTSU KAISEN', seasonId: 'GJJK1', seasonTitle: 'JUJUTSU KAISEN' };
const at = (month: number, day: number) => new Date(Date.UTC(2026, month - 1, day, 20)).toISOString();

async function sync(headers: Record<string, string>, data: unknown[], dryRun = false) {
  const sent = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify({ data }), dryRun } }, headers);
  expect(sent.errors).toBeUndefined();
  await waitForJob(stack, headers, sent.data!.processHistory.jobId);
  return (await gql(stack, SYNC_JOB, { id: sent.data!.processHistory.jobId }, headers)).data!.syncJob;
}

describe('setSeriesRules', () => {
  it('applies valid items of a batch, reports the invalid ones, and the next syncs follow the rules', async () => {
    const malUser = 'rulefan';
    stack.malSandbox!.seedList(malUser, []);
    const user = await signIn(stack, malUser);
    // First sync: Frieren 1–2 and JJK 1–2 land on MAL.
    const first = await sync(user.headers, [
      ...[1, 2].map((n) => v2Episode({ ...FRIEREN, episode: n, played: at(1, n) })),
      ...[1, 2].map((n) => v2Episode({ ...JJK, episode: n, played: at(1, 10 + n) })),
    ]);
    expect(first.counts).toMatchObject({ applied: 2 });
    const seasons = (await gql(stack, SERIES, {}, user.headers)).data!.series.items as Array<{ seriesId: string; seasons: Array<{ seasonKey: string }> }>;
    const frierenSeason = seasons.find((s) => s.seriesId === 'GFRIEREN')!.seasons[0].seasonKey;
    const changes = await allHistory(stack, user.headers, first.jobId);
    const frierenId = changes.find((c) => c.seriesId === 'GFRIEREN')!.malId as number;
    const jjkId = changes.find((c) => c.seriesId === 'GJJK')!.malId as number;

    const set = await gql(
      stack,
      SET_RULES,
      {
        items: [
          { seriesId: 'GJJK', rules: { neverSync: true } },
          { seriesId: 'GFRIEREN', seasonKey: frierenSeason, rules: { markCompleted: false, watchedAfter: '2026-03-01T00:00:00Z' } },
          { seriesId: 'GNOTMINE', rules: { neverSync: true } },
          { seriesId: 'GFRIEREN', seasonKey: 'GFRIEREN:nope', rules: { setDates: false } },
          { seriesId: 'GFRIEREN', rules: { watchedAfter: '1999-01-01T00:00:00Z' } },
        ],
      },
      user.headers,
    );
    expect(set.errors).toBeUndefined();
    expect(set.data!.setSeriesRules).toEqual([
      { seriesId: 'GJJK', seasonKey: null, ok: true, rules: { neverSync: true, markCompleted: null, setDates: null, watchedAfter: null }, error: null },
      { seriesId: 'GFRIEREN', seasonKey: frierenSeason, ok: true, rules: { neverSync: null, markCompleted: false, setDates: null, watchedAfter: '2026-03-01T00:00:00.000Z' }, error: null },
      { seriesId: 'GNOTMINE', seasonKey: null, ok: false, rules: null, error: { errorType: 'NotFound', message: expect.stringContaining('GNOTMINE') } },
      { seriesId: 'GFRIEREN', seasonKey: 'GFRIEREN:nope', ok: false, rules: null, error: { errorType: 'NotFound', message: expect.any(String) } },
      { seriesId: 'GFRIEREN', seasonKey: null, ok: false, rules: null, error: { errorType: 'ValidationError', message: expect.stringContaining('watchedAfter') } },
    ]);
    const shown = (await gql(stack, SERIES, {}, user.headers)).data!.series.items as Array<Record<string, any>>;
    expect(shown.find((s) => s.seriesId === 'GJJK')!.rules).toEqual({ neverSync: true });
    expect(shown.find((s) => s.seriesId === 'GFRIEREN')!.seasons[0].rules).toEqual({ markCompleted: false, watchedAfter: '2026-03-01T00:00:00.000Z' });

    // Frieren 3–28 (the whole show, finished airing): 3–20 watched in March, 21–28 in February; JJK 3–5.
    const later = [
      ...Array.from({ length: 26 }, (_, i) => v2Episode({ ...FRIEREN, episode: i + 3, played: i < 18 ? at(3, 1 + i) : at(2, i - 17) })),
      ...[3, 4, 5].map((n) => v2Episode({ ...JJK, episode: n, played: at(3, n) })),
    ];
    const preview = await sync(user.headers, later, true);
    expect(preview.plan).toEqual([expect.objectContaining({ malId: frierenId })]);
    const second = await sync(user.headers, later);
    expect(second.counts).toMatchObject({ planned: 1, applied: 1 });
    let list = listView(stack.malSandbox!.getList(malUser));
    // Never synced: JJK stays at 2. Frieren: only what was watched after March 1 counts (up to 20).
    expect(list[jjkId]).toMatchObject({ status: 'watching', episodes: 2 });
    expect(list[frierenId]).toMatchObject({ status: 'watching', episodes: 20 });

    // Exported with the series, and restored by an import.
    const exported = await gql(stack, 'query { exportData }', {}, user.headers);
    expect(exported.errors).toBeUndefined();
    const mover = await signIn(stack, 'rulemover');
    const imported = await gql(stack, 'mutation($d: AWSJSON!) { importData(data: $d) { series } }', { d: exported.data!.exportData }, mover.headers);
    expect(imported.errors).toBeUndefined();
    const restored = (await gql(stack, SERIES, {}, mover.headers)).data!.series.items as Array<Record<string, any>>;
    expect(restored.find((s) => s.seriesId === 'GJJK')!.rules).toEqual({ neverSync: true });
    expect(restored.find((s) => s.seriesId === 'GFRIEREN')!.seasons[0].rules).toEqual({ markCompleted: false, watchedAfter: '2026-03-01T00:00:00.000Z' });
    // An import with a malformed rule is refused, naming it.
    const doc = JSON.parse(exported.data!.exportData as string);
    doc.tables['series-data'].find((i: { sk: string }) => i.sk === 'SERIES#GJJK').rules = { neverSync: 'yes' };
    const refused = await gql(stack, 'mutation($d: AWSJSON!) { importData(data: $d) { series } }', { d: JSON.stringify(doc) }, mover.headers);
    expect(refused.errors?.[0]).toMatchObject({ errorType: 'ValidationError', message: expect.stringContaining('neverSync') });

    // The date rule dropped, the season keeps markCompleted false: all 28 watched, still not completed.
    await gql(stack, SET_RULES, { items: [{ seriesId: 'GFRIEREN', seasonKey: frierenSeason, rules: { markCompleted: false } }] }, user.headers);
    await sync(user.headers, later);
    list = listView(stack.malSandbox!.getList(malUser));
    expect(list[frierenId]).toMatchObject({ status: 'watching', episodes: 28 });

    // Cleared: the series follows the settings again.
    const cleared = await gql(stack, SET_RULES, { items: [{ seriesId: 'GJJK', rules: null }] }, user.headers);
    expect(cleared.data!.setSeriesRules[0]).toMatchObject({ ok: true, rules: null });
    const third = await sync(user.headers, [3, 4, 5].map((n) => v2Episode({ ...JJK, episode: n, played: at(3, n) })));
    expect(third.counts.applied).toBe(1);
    expect(listView(stack.malSandbox!.getList(malUser))[jjkId]).toMatchObject({ episodes: 5 });
    // And Frieren, its season rule cleared, is marked completed as the settings say.
    await gql(stack, SET_RULES, { items: [{ seriesId: 'GFRIEREN', seasonKey: frierenSeason, rules: null }] }, user.headers);
    await sync(user.headers, later);
    expect(listView(stack.malSandbox!.getList(malUser))[frierenId]).toMatchObject({ status: 'completed', episodes: 28 });
  });

  it('refuses an over-long batch as a whole', async () => {
    const user = await signIn(stack, 'rulebatch');
    const items = Array.from({ length: 51 }, (_, i) => ({ seriesId: `G${i}`, rules: { neverSync: true } }));
    const result = await gql(stack, SET_RULES, { items }, user.headers);
    expect(result.errors?.[0]).toMatchObject({ errorType: 'LimitExceeded', errorInfo: expect.objectContaining({ limit: 'rulesPerCall', max: 50, actual: 51 }) });
  });
});
