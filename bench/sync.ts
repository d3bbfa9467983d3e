/**
 * bench:sync — a synthetic heavy user synced against the MAL sandbox with its rate limit off:
 * 10,000 history items over 400 CR seasons (25 episodes each, sent as 5 parts of 2,000 through
 * processHistory), a MAL list of 600 entries of which 150 need a change (400 entries are the user's
 * seasons: 250 already up to date, 150 behind; 200 others).
 *
 * Matching is bypassed through the mapping cache (seeded for the 400 seasons, with the anime facts), so
 * this measures the sync itself: MAL requests are the list read and the PATCHes. DynamoDB requests are
 * those of the functions (processHistory and the worker), counted by a middleware on their client; the
 * resolvers' and the bench's own polling are not counted. Last line: one JSON object.
 */
import { randomBytes } from 'node:crypto';
import { startLocalStack } from '../local/stack';
import { Catalog, type CatalogRecord } from '../local/mal-sandbox';
import { dynamo } from '../functions/shared/dynamo';
import { normaliseHistory } from '../functions/history';
import { allSeasons } from '../functions/sync/worker';
import { DynamoDbMappingCache, saveAnimeInfo } from '../functions/sync/store';

const SEASONS = 400;
const EPISODES = 25;
const OTHERS = 200;
const BEHIND = 150;
const PART_SIZE = 2000;

const seasonMalId = (i: number) => 100_001 + i;
const otherMalId = (i: number) => 200_001 + i;
const dateOf = (i: number, episode: number) => new Date(Date.UTC(2024, 0, 1) + i * 86_400_000 + episode * 3_600_000);

function catalog(): Catalog {
  const records: CatalogRecord[] = [];
  for (let i = 0; i < SEASONS; i++) {
    records.push({ mal_id: seasonMalId(i), title: `Bench Show ${i}`, type: 'tv', episodes: EPISODES, year: 2020, start_date: '2020-01-01', end_date: '2020-06-30', status: 'Finished Airing' });
  }
  for (let i = 0; i < OTHERS; i++) {
    records.push({ mal_id: otherMalId(i), title: `Other Show ${i}`, type: 'tv', episodes: 12, year: 2015, start_date: '2015-01-01', end_date: '2015-03-31', status: 'Finished Airing' });
  }
  return new Catalog(records);
}

function historyItems() {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < SEASONS; i++) {
    for (let e = 1; e <= EPISODES; e++) {
      items.push({
        seriesId: `GBENCH${i}`,
        seriesTitle: `Bench Show ${i}`,
        seasonId: `GBENCH${i}S1`,
        seasonTitle: `Bench Show ${i}`,
        seasonNumber: 1,
        episodeNumber: e,
        episodeId: `GBENCH${i}E${e}`,
        durationMs: 1_440_000,
        playheadS: 1430,
        fullyWatched: true,
        watchedAt: dateOf(i, e).toISOString(),
      });
    }
  }
  return items;
}

async function gql(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: any; errors?: Array<{ message: string; errorType?: string }> };
  if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => `${e.errorType}: ${e.message}`).join('; ')}`);
  return body.data;
}

async function main() {
  const stack = await startLocalStack({
    port: 0,
    stage: `bench${randomBytes(3).toString('hex')}`,
    malSandbox: { catalog: catalog(), rateLimit: false, requestLogLimit: 100_000 },
    env: { MAL_RATE_LIMIT_PER_SECOND: '100000', MAL_RATE_LIMIT_BURST: '100000' },
  });
  try {
    const sandbox = stack.malSandbox!;
    const items = historyItems();

    // Sign in through the API (scripted consent in the sandbox).
    const login = await gql(stack.graphqlUrl, 'mutation($r: AWSURL!) { startLogin(redirectUri: $r) { authorizeUrl state } }', { r: stack.redirectUris.at(-1) }, { 'x-api-key': stack.apiKey });
    const authorize = new URL(login.startLogin.authorizeUrl);
    authorize.searchParams.set('sandbox_user', 'benchuser');
    const redirect = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const completed = await gql(
      stack.graphqlUrl,
      'mutation($c: String!, $s: String!) { completeLogin(code: $c, state: $s) { sessionToken } }',
      { c: redirect.searchParams.get('code'), s: redirect.searchParams.get('state') },
      { 'x-api-key': stack.apiKey },
    );
    const headers = { authorization: completed.completeLogin.sessionToken as string };

    // The MAL list: 250 of the user's seasons up to date, 150 behind, 200 others.
    const seasons = allSeasons(normaliseHistory({ items }));
    const list = [];
    for (let i = 0; i < SEASONS; i++) {
      const start = dateOf(i, 1).toISOString().slice(0, 10);
      const finish = dateOf(i, EPISODES).toISOString().slice(0, 10);
      if (i < BEHIND) list.push({ animeId: seasonMalId(i), status: 'watching' as const, num_episodes_watched: 10, start_date: start });
      else list.push({ animeId: seasonMalId(i), status: 'completed' as const, num_episodes_watched: EPISODES, start_date: start, finish_date: finish });
    }
    for (let i = 0; i < OTHERS; i++) list.push({ animeId: otherMalId(i), status: 'completed' as const, num_episodes_watched: 12 });
    sandbox.seedList('benchuser', list);

    // Matching bypassed: the shared mapping cache knows the 400 seasons, and the anime facts.
    const cache = new DynamoDbMappingCache();
    for (const season of seasons) {
      const index = Number(season.seriesId.slice('GBENCH'.length));
      await cache.put({ seasonKey: season.seasonKey, malId: seasonMalId(index), episodeOffset: 0, confidence: 0.99, source: 'global', updatedAt: new Date().toISOString() });
    }
    await saveAnimeInfo(Array.from({ length: SEASONS }, (_, i) => ({ malId: seasonMalId(i), title: `Bench Show ${i}`, numEpisodes: EPISODES, airingStatus: 'finished_airing' as const })));

    let dynamoRequests = 0;
    dynamo().middlewareStack.add((next) => async (args) => {
      dynamoRequests += 1;
      return next(args);
    }, { step: 'initialize', name: 'benchDynamoCounter' });
    const malLogStart = sandbox.requestLog.at(-1)?.seq ?? 0;

    const started = performance.now();
    const totalParts = Math.ceil(items.length / PART_SIZE);
    let jobId: string | undefined;
    for (let part = 1; part <= totalParts; part++) {
      const history = JSON.stringify({ items: items.slice((part - 1) * PART_SIZE, part * PART_SIZE) });
      const out = await gql(stack.graphqlUrl, 'mutation($input: ProcessHistoryInput!) { processHistory(input: $input) { jobId status } }', { input: { history, part, totalParts, ...(jobId ? { jobId } : {}) } }, headers);
      jobId = out.processHistory.jobId;
    }
    let job: any;
    for (;;) {
      job = (await gql(stack.graphqlUrl, 'query($id: ID!) { syncJob(id: $id) { status phase counts { historyItems seasons matched needsReview planned applied failed } errors { errorType message } } }', { id: jobId }, headers)).syncJob;
      if (['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(job.status)) break;
      if (performance.now() - started > 600_000) throw new Error(`the job did not finish in 10 minutes: ${JSON.stringify(job)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - started) / 1000;

    const malRequests = sandbox.requestLog.filter((r) => r.seq > malLogStart && r.path.startsWith('/v2/'));
    const patches = malRequests.filter((r) => r.method === 'PATCH').length;
    const listPages = Math.ceil(list.length / 1000);
    const minimumMalRequests = listPages + BEHIND;
    console.log(`job ${jobId}: ${job.status}, counts ${JSON.stringify(job.counts)}${job.errors.length ? `, errors ${JSON.stringify(job.errors.slice(0, 3))}` : ''}`);
    console.log(`MAL requests: ${malRequests.length} (${patches} PATCH, ${malRequests.length - patches} GET) vs minimum ${minimumMalRequests} (${listPages} list page + ${BEHIND} changes); ratio ${(malRequests.length / minimumMalRequests).toFixed(3)} (target ≤ 1.05)`);
    console.log(`DynamoDB requests by the functions: ${dynamoRequests}`);
    console.log(`wall time: ${seconds.toFixed(2)} s (sandbox rate limit off; no rate-limit waits) (target ≤ 30 s)`);
    if (job.status !== 'SUCCEEDED' || job.counts.applied !== BEHIND) throw new Error(`expected ${BEHIND} changes applied, got ${JSON.stringify(job.counts)}`);
    console.log(JSON.stringify({ malRequests: malRequests.length, minimumMalRequests, dynamoRequests, seconds: Number(seconds.toFixed(3)) }));
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
