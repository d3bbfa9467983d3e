/**
 * The sync end to end through GraphQL on the local stack: sign in with the MAL sandbox, send a realistic
 * CR history, watch progress over the WebSocket, and check MAL's list and the sync history.
 */
import { describe, expect, it } from 'vitest';
import { FAST_MAL_CLIENT, createTestUser, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { RealtimeClient } from '../realtime/support';
import { PROCESS_HISTORY, allHistory, day, listView, v2Episode, v2Movie, waitForJob } from './support';

const stack = useTestStack({
  malSandbox: { rateLimit: false },
  env: FAST_MAL_CLIENT,
});

const FRIEREN = { seriesId: 'GFRIEREN', seriesTitle: "Frieren: Beyond Journey's End" };
const JJK = { seriesId: 'GJJK', seriesTitle: 'JUJUTSU KAISEN' };
const DEMON = { seriesId: 'GDEMON', seriesTitle: 'Demon Slayer: Kimetsu no Yaiba' };
const MHA = { seriesId: 'GMHA', seriesTitle: 'My Hero Academia' };
const UNKNOWN = { seriesId: 'GZZQ', seriesTitle: 'Zzyzx Quantum Bakery Chronicles' };

function realisticHistory() {
  const frierenVersions = [
    { audio_locale: 'ja-JP', season_guid: 'GFR1', original: true },
    { audio_locale: 'en-US', season_guid: 'GFR1EN', original: false },
  ];
  const data = [
    // Frieren: episodes 1–8 in Japanese, 9–10 in the English dub (a separate CR season of the same show).
    ...Array.from({ length: 8 }, (_, i) => v2Episode({ ...FRIEREN, seasonId: 'GFR1', seasonTitle: "Frieren: Beyond Journey's End", episode: i + 1, versions: frierenVersions, played: day(5 + i) })),
    ...[9, 10].map((n) => v2Episode({ ...FRIEREN, seasonId: 'GFR1EN', seasonTitle: "Frieren: Beyond Journey's End (English Dub)", episode: n, audio: 'en-US', versions: frierenVersions, played: day(5 + n) })),
    // Jujutsu Kaisen: season 1 (1–24), season 2 numbered on from 25 (continuous numbering).
    ...Array.from({ length: 24 }, (_, i) => v2Episode({ ...JJK, seasonId: 'GJJK1', seasonTitle: 'JUJUTSU KAISEN', episode: i + 1, played: new Date(Date.UTC(2025, 2, 1 + i, 20)).toISOString() })),
    ...Array.from({ length: 23 }, (_, i) => v2Episode({ ...JJK, seasonId: 'GJJK2', seasonTitle: 'JUJUTSU KAISEN Season 2', seasonNumber: 2, episode: 25 + i, sequence: 25 + i, played: new Date(Date.UTC(2025, 5, 1 + i, 20)).toISOString() })),
    // A movie.
    v2Movie({ listingId: 'GJJK0MOVIE', title: 'Jujutsu Kaisen 0', played: day(2) }),
    // A rewatch: completed on MAL in 2020, episode 1–3 played again now.
    ...[1, 2, 3].map((n) => v2Episode({ ...DEMON, seasonId: 'GDS1', seasonTitle: 'Demon Slayer: Kimetsu no Yaiba', episode: n, played: day(20 + n) })),
    // On hold on MAL: left alone.
    ...[6, 7].map((n) => v2Episode({ ...MHA, seasonId: 'GMHA1', seasonTitle: 'My Hero Academia', episode: n, played: day(25 + n) })),
    // Not on MAL at all: needs review, never guessed.
    ...[1, 2].map((n) => v2Episode({ ...UNKNOWN, seasonId: 'GZZQ1', seasonTitle: 'Zzyzx Quantum Bakery Chronicles', episode: n, played: day(28 + n) })),
    // An entry whose content is gone (panel null): skipped.
    { id: 'gone', date_played: day(1), playhead: 10, fully_watched: false, panel: null },
  ];
  return { data };
}

describe('sync end to end', () => {
  it('syncs a realistic history into the MAL list by the rules, with live progress and a history of every change', async () => {
    const malUser = 'e2esync';
    stack.malSandbox!.seedList(malUser, [
      { animeId: 38000, status: 'completed', num_episodes_watched: 26, start_date: '2019-12-01', finish_date: '2020-01-10', updated_at: '2020-01-10T12:00:00+00:00', score: 9 },
      { animeId: 31964, status: 'on_hold', num_episodes_watched: 5, updated_at: '2021-01-01T00:00:00+00:00' },
      { animeId: 1, status: 'plan_to_watch', num_episodes_watched: 0 },
    ]);
    const user = await signIn(stack, malUser);

    const socket = await RealtimeClient.connect(stack.realtimeUrl, { host: new URL(stack.graphqlUrl).host, Authorization: user.sessionToken });
    try {
      expect((await socket.init()).type).toBe('connection_ack');
      const started = await socket.start(
        'progress',
        'subscription { onSyncProgress { jobId seq status phase processed total currentSeries change error summary } }',
        {},
        { host: new URL(stack.graphqlUrl).host, Authorization: user.sessionToken },
      );
      expect(started.type).toBe('start_ack');

      const sent = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(realisticHistory()) } }, user.headers);
      expect(sent.errors).toBeUndefined();
      const created = sent.data!.processHistory;
      expect(created.status).toBe('QUEUED');
      expect(created.counts.historyItems).toBe(66);

      const job = await waitForJob(stack, user.headers, created.jobId);
      expect(job.status, JSON.stringify(job.errors)).toBe('SUCCEEDED');
      expect(job.counts).toMatchObject({ seasons: 7, needsReview: 1, applied: job.counts.planned, failed: 0 });

      const list = listView(stack.malSandbox!.getList(malUser));
      expect(list[52991]).toMatchObject({ status: 'watching', episodes: 10, start: '2026-01-05', finish: null });
      expect(list[40748]).toMatchObject({ status: 'completed', episodes: 24, start: '2025-03-01', finish: '2025-03-24' });
      expect(list[51009]).toMatchObject({ status: 'completed', episodes: 23, start: '2025-06-01', finish: '2025-06-23' });
      expect(list[48561]).toMatchObject({ status: 'completed', episodes: 1, start: '2026-01-02', finish: '2026-01-02' });
      expect(list[38000]).toMatchObject({ status: 'completed', episodes: 26, rewatching: true, timesRewatched: 0, score: 9, finish: '2020-01-10' });
      expect(list[31964]).toMatchObject({ status: 'on_hold', episodes: 5 });
      expect(list[1]).toMatchObject({ status: 'plan_to_watch' });
      expect(Object.keys(list).sort()).toEqual(['1', '31964', '38000', '40748', '48561', '51009', '52991']);

      const history = await allHistory(stack, user.headers, created.jobId);
      expect(history.map((h) => h.malId).sort()).toEqual([38000, 40748, 48561, 51009, 52991]);
      expect(history.map((h) => h.seq)).toEqual([1, 2, 3, 4, 5]);
      const rewatch = history.find((h) => h.malId === 38000)!;
      expect(rewatch.before).toMatchObject({ status: 'COMPLETED', isRewatching: false });
      expect(rewatch.after).toMatchObject({ status: 'COMPLETED', isRewatching: true });
      expect(history.find((h) => h.malId === 52991)!.before.status).toBeNull();

      // Per series: the same entries, through the series index, only for the caller.
      const SERIES_HISTORY = 'query($s: ID!) { seriesHistory(seriesId: $s) { items { seriesId malId jobId seq } nextToken } }';
      const perSeries = await gql(stack, SERIES_HISTORY, { s: DEMON.seriesId }, user.headers);
      expect(perSeries.errors).toBeUndefined();
      const demonEntries = history.filter((h) => h.seriesId === DEMON.seriesId);
      expect(demonEntries.length).toBeGreaterThan(0);
      expect(perSeries.data!.seriesHistory.items.map((i: { malId: number }) => i.malId).sort()).toEqual(demonEntries.map((h) => h.malId).sort());
      expect(perSeries.data!.seriesHistory.items.every((i: { seriesId: string }) => i.seriesId === DEMON.seriesId)).toBe(true);
      const stranger = await createTestUser(stack);
      expect((await gql(stack, SERIES_HISTORY, { s: DEMON.seriesId }, stranger.headers)).data!.seriesHistory.items).toEqual([]);

      // Progress over the WebSocket: phases in order, one event per applied change, a final summary.
      const summary = await socket.waitFor((m) => m.type === 'data' && m.payload?.data?.onSyncProgress?.summary, 10_000);
      const events = socket.of('progress').map((m) => m.payload.data.onSyncProgress).filter((e) => e.jobId === created.jobId);
      const phases = [...new Set(events.map((e) => e.phase))];
      expect(phases).toEqual(['NORMALISING', 'MATCHING', 'READING_LIST', 'PLANNING', 'APPLYING', 'DONE']);
      expect(events.filter((e) => e.change).length).toBe(5);
      expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
      expect(JSON.parse(summary.payload.data.onSyncProgress.summary)).toMatchObject({ applied: 5, failed: 0 });

      // The season needing review shows as such; the series query still works.
      const series = await gql(stack, 'query { series(limit: 100) { items { seriesId seasons { seasonKey match { malId needsReview source } } } } }', {}, user.headers);
      expect(series.errors).toBeUndefined();
      const unknown = series.data!.series.items.find((s: any) => s.seriesId === 'GZZQ');
      expect(unknown.seasons[0].match).toMatchObject({ malId: null, needsReview: true });

      // The same history again: zero MAL writes.
      const before = stack.malSandbox!.requestLog.length;
      const again = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(realisticHistory()) } }, user.headers);
      const second = await waitForJob(stack, user.headers, again.data!.processHistory.jobId);
      expect(second.status).toBe('SUCCEEDED');
      expect(second.counts.planned).toBe(0);
      const writes = stack.malSandbox!.requestLog.slice(before).filter((r) => r.method === 'PATCH' || r.method === 'DELETE');
      expect(writes).toEqual([]);
    } finally {
      socket.socket.close();
    }
  });
});
