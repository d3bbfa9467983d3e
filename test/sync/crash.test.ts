/**
 * Kill the worker at random points (a step hook that throws, as a crash would: no cleanup, lock left to
 * expire) in 20 runs, resume, and check that every run ends with the same MAL list and one history entry
 * per change. Matching is bypassed through the mapping cache so that only the sync itself is exercised.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestStack } from '../support/stack';
import { MalClient, UnlimitedRateLimiter, type MalTokens } from '../../functions/mal';
import { normaliseHistory } from '../../functions/history';
import { processHistory } from '../../functions/sync/process-history';
import { runSyncJob, allSeasons, type RunOutcome } from '../../functions/sync/worker';
import { DynamoDbMappingCache, getJob, historyForJob, historyForSeries, saveAnimeInfo } from '../../functions/sync/store';
import { day, listView } from './support';

const stack = useTestStack({ malSandbox: { rateLimit: false } });
let client: MalClient;

beforeAll(() => {
  const sandbox = stack.malSandbox!;
  client = new MalClient({ clientId: sandbox.clientId, clientSecret: sandbox.clientSecret, authBaseUrl: sandbox.authBaseUrl, apiBaseUrl: sandbox.apiBaseUrl, rateLimiter: new UnlimitedRateLimiter(), retry: { baseDelayMs: 10 } });
});

/** Tokens for a sandbox user through the real OAuth flow (scripted consent). */
async function sessionFor(malUser: string) {
  const verifier = randomBytes(48).toString('base64url');
  const url = new URL(client.buildAuthorizeUrl({ redirectUri: 'http://127.0.0.1/cb', state: 's', codeVerifier: verifier }));
  url.searchParams.set('sandbox_user', malUser);
  const response = await fetch(url, { redirect: 'manual' });
  const code = new URL(response.headers.get('location')!).searchParams.get('code')!;
  let tokens: MalTokens = await client.exchangeCode({ code, codeVerifier: verifier, redirectUri: 'http://127.0.0.1/cb' });
  return client.forUser({ load: async () => tokens, save: async (fresh) => void (tokens = fresh) });
}

const SHOWS = [
  { seriesId: 'GCRA', title: 'Crash Show A', malId: 1, episodes: 26, watched: 26 },
  { seriesId: 'GCRB', title: 'Crash Show B', malId: 6, episodes: 26, watched: 5 },
  { seriesId: 'GCRC', title: 'Crash Show C', malId: 1535, episodes: 37, watched: 12 },
  { seriesId: 'GCRD', title: 'Crash Show D', malId: 9253, episodes: 24, watched: 24 },
  { seriesId: 'GCRE', title: 'Crash Show E', malId: 30276, episodes: 12, watched: 3 },
  { seriesId: 'GCRF', title: 'Crash Show F', malId: 5114, episodes: 64, watched: 64 },
];

function history() {
  const items = SHOWS.flatMap((show, s) =>
    Array.from({ length: show.watched }, (_, i) => ({
      seriesId: show.seriesId,
      seriesTitle: show.title,
      seasonId: `${show.seriesId}S1`,
      seasonTitle: show.title,
      seasonNumber: 1,
      episodeNumber: i + 1,
      durationMs: 1_440_000,
      playheadS: 1430,
      fullyWatched: true,
      watchedAt: day(1 + s * 2 + Math.floor(i / 10)),
    })),
  );
  return { items };
}

async function seedMappings() {
  const cache = new DynamoDbMappingCache();
  const seasons = allSeasons(normaliseHistory(history()));
  for (const season of seasons) {
    const show = SHOWS.find((s) => s.seriesId === season.seriesId)!;
    await cache.put({ seasonKey: season.seasonKey, malId: show.malId, episodeOffset: 0, confidence: 0.99, source: 'global', updatedAt: new Date().toISOString() });
  }
  await saveAnimeInfo(SHOWS.map((s) => ({ malId: s.malId, title: s.title, numEpisodes: s.episodes, airingStatus: 'finished_airing' as const })));
}

class Crash extends Error {}

async function newJob(malUser: string) {
  stack.malSandbox!.seedList(malUser, [
    { animeId: 6, status: 'watching', num_episodes_watched: 2, start_date: '2025-12-01' },
    { animeId: 30276, status: 'dropped', num_episodes_watched: 1 },
  ]);
  const userId = `u-${randomBytes(6).toString('hex')}`;
  const job = await processHistory(userId, { history: history() }, { enqueue: async () => undefined });
  return { userId, jobId: job.jobId as string, session: await sessionFor(malUser) };
}

describe('a worker killed at any point resumes without repeating or losing an update', () => {
  it('20 runs killed at random steps end with the same list and no duplicated history', async () => {
    await seedMappings();
    const leaseMs = 150;

    // Reference: an uninterrupted run, counting its steps.
    const reference = await newJob('crashref');
    const steps: string[] = [];
    const outcome = await runSyncJob({ session: async () => reference.session, leaseMs, onStep: (s) => void steps.push(s) }, reference);
    expect(outcome).toBe('done');
    const expected = listView(stack.malSandbox!.getList('crashref'));
    const referenceHistory = await historyForJob(reference.userId, reference.jobId);
    expect(referenceHistory).toHaveLength(5);
    expect(steps.filter((s) => s.startsWith('after-patch'))).toHaveLength(5);

    const killedAt: string[] = [];
    for (let run = 0; run < 20; run++) {
      const malUser = `crash${run}`;
      const job = await newJob(malUser);
      // Spread the kills over every step, the PATCH-without-checkpoint window included.
      const k = run < steps.length ? run + 1 : 1 + Math.floor(Math.random() * steps.length);
      let seen = 0;
      const crashing = runSyncJob(
        {
          session: async () => job.session,
          leaseMs,
          onStep: (step) => {
            seen += 1;
            if (seen === k) {
              killedAt.push(step);
              throw new Crash(`killed at ${step}`);
            }
          },
        },
        job,
      );
      await expect(crashing).rejects.toBeInstanceOf(Crash);
      expect((await getJob(job.userId, job.jobId))!.status).toBe('RUNNING');

      // The next delivery: busy until the dead run's lease expires, then it resumes.
      let resumed: RunOutcome = 'busy';
      for (let attempt = 0; resumed === 'busy' && attempt < 50; attempt++) {
        await new Promise((r) => setTimeout(r, leaseMs / 2));
        resumed = await runSyncJob({ session: async () => job.session, leaseMs }, job);
      }
      expect(resumed).toBe('done');
      const final = (await getJob(job.userId, job.jobId))!;
      expect(final.status).toBe('SUCCEEDED');
      expect(final.counts.applied).toBe(5);
      expect(listView(stack.malSandbox!.getList(malUser)), `run ${run} killed at ${killedAt.at(-1)}`).toEqual(expected);
      const entries = await historyForJob(job.userId, job.jobId);
      expect(entries.map((e) => e.malId)).toEqual(referenceHistory.map((e) => e.malId));
      expect(new Set(entries.map((e) => e.changeId)).size).toBe(entries.length);
      // PATCHes actually sent for this user: one per change (a landed PATCH is never repeated).
      const patches = stack.malSandbox!.requestLog.filter((r) => r.method === 'PATCH' && r.userName === malUser);
      expect(patches.length, `run ${run} killed at ${killedAt.at(-1)}`).toBe(5);
    }
    expect(killedAt.some((s) => s.startsWith('after-patch'))).toBe(true);

    // Per series (GSI): the change to show B.
    const bySeries = await historyForSeries(reference.userId, 'GCRB');
    expect(bySeries.map((e) => e.malId)).toEqual([6]);
  });
});
