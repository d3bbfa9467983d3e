/**
 * bench:sync — two scenarios against the MAL sandbox with its rate limit off (MAL requests are counted by
 * the sandbox's request log, never estimated).
 *
 * Warm: a synthetic heavy user: 10,000 history items over 400 CR seasons (25 episodes each, sent as 5 parts
 * of 2,000 through processHistory), a MAL list of 600 entries of which 150 need a change (400 entries are
 * the user's seasons: 250 already up to date, 150 behind; 200 others). Matching is bypassed through the
 * mapping cache (seeded for the 400 seasons, with the anime facts), so this measures the sync itself: MAL
 * requests are the list read and the PATCHes. DynamoDB requests are those of the functions (processHistory
 * and the worker), counted by a middleware on their client; the resolvers' and the bench's own polling are
 * not counted.
 *
 * Cold: a new user's first backfill with nothing cached: 400 CR seasons drawn from the full MAL catalog
 * (../shared/data/mal-catalog.jsonl.gz, in the sandbox too) as CR's v2 watch-history API sends them —
 * English titles, series of 1–3 seasons, some numbering episodes on across seasons, 10% dubs (most linked
 * to their original by `versions`) — and an empty MAL list. The minimum is the list page plus one PATCH per
 * distinct MAL entry. Then a second user with the same shows, right after (what the shared caches save).
 *
 * Last line: one JSON object (warm figures under their original names, cold ones prefixed `cold`/`secondUser`).
 */
import { randomBytes } from 'node:crypto';
import { startLocalStack } from '../local/stack';
import { Catalog, type CatalogRecord } from '../local/mal-sandbox';
import { dynamo } from '../functions/shared/dynamo';
import { normaliseHistory } from '../functions/history';
import { allSeasons } from '../functions/sync/worker';
import { DynamoDbMappingCache, saveAnimeInfo } from '../functions/sync/store';
import { loadCatalog } from '../functions/matching/catalog-source';
import { startDynamoDBLocal } from '../local/dynamodb-local';
import { catalogFranchises, crShowSeasons, crV2History, distinctMalIds, gql, rng, sendHistory, signIn, waitForJob, type CrShowSeason } from './sync-support';

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

interface WarmFigures {
  malRequests: number;
  minimumMalRequests: number;
  dynamoRequests: number;
  seconds: number;
}

async function warm(dynamodbEndpoint: string): Promise<WarmFigures> {
  const stack = await startLocalStack({
    port: 0,
    dynamodbEndpoint,
    stage: `bench${randomBytes(3).toString('hex')}`,
    malSandbox: { catalog: catalog(), rateLimit: false, requestLogLimit: 100_000 },
    env: { MAL_RATE_LIMIT_PER_SECOND: '100000', MAL_RATE_LIMIT_BURST: '100000' },
  });
  try {
    const sandbox = stack.malSandbox!;
    const items = historyItems();

    // Sign in through the API (scripted consent in the sandbox).
    const headers = await signIn(stack, 'benchuser');

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
    const counter = (next: any) => async (args: any) => {
      dynamoRequests += 1;
      return next(args);
    };
    dynamo().middlewareStack.add(counter, { step: 'initialize', name: 'benchDynamoCounter' });
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
    console.log(`warm: job ${jobId}: ${job.status}, counts ${JSON.stringify(job.counts)}${job.errors.length ? `, errors ${JSON.stringify(job.errors.slice(0, 3))}` : ''}`);
    console.log(`MAL requests: ${malRequests.length} (${patches} PATCH, ${malRequests.length - patches} GET) vs minimum ${minimumMalRequests} (${listPages} list page + ${BEHIND} changes); ratio ${(malRequests.length / minimumMalRequests).toFixed(3)} (target ≤ 1.05)`);
    console.log(`DynamoDB requests by the functions: ${dynamoRequests}`);
    console.log(`wall time: ${seconds.toFixed(2)} s (sandbox rate limit off; no rate-limit waits) (target ≤ 30 s)`);
    if (job.status !== 'SUCCEEDED' || job.counts.applied !== BEHIND) throw new Error(`expected ${BEHIND} changes applied, got ${JSON.stringify(job.counts)}`);
    dynamo().middlewareStack.remove('benchDynamoCounter');
    return { malRequests: malRequests.length, minimumMalRequests, dynamoRequests, seconds: Number(seconds.toFixed(3)) };
  } finally {
    await stack.stop();
  }
}


/** The full catalog (`--catalog FILE` to use another copy). */
const FULL_CATALOG = argValue('--catalog') ?? new URL('../../shared/data/mal-catalog.jsonl.gz', import.meta.url).pathname;

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}
const COLD_SEASONS = 400;
const COLD_SEED = 13;

interface ColdUserFigures {
  malRequests: number;
  byKind: Record<string, number>;
  seconds: number;
  job: Awaited<ReturnType<typeof waitForJob>>;
  /** Expected MAL entries found on the user's MAL list afterwards, and entries there that are not expected. */
  correct: number;
  wrong: number;
}

function kindOf(method: string, path: string): string {
  if (method === 'PATCH') return 'patch';
  if (path === '/v2/anime') return 'search';
  if (path.startsWith('/v2/users/@me/animelist')) return 'list';
  if (/^\/v2\/anime\/\d+$/.test(path)) return 'details';
  return 'other';
}

async function coldUser(stack: Awaited<ReturnType<typeof startLocalStack>>, user: string, history: Record<string, unknown>[], expected: Set<number>): Promise<ColdUserFigures> {
  const sandbox = stack.malSandbox!;
  const headers = await signIn(stack, user);
  const logStart = sandbox.requestLog.at(-1)?.seq ?? 0;
  const started = performance.now();
  const jobId = await sendHistory(stack, headers, 'data', history);
  const job = await waitForJob(stack, headers, jobId, 30 * 60_000, 500);
  const seconds = (performance.now() - started) / 1000;
  const requests = sandbox.requestLog.filter((r) => r.seq > logStart && r.path.startsWith('/v2/'));
  const byKind: Record<string, number> = {};
  for (const r of requests) byKind[kindOf(r.method, r.path)] = (byKind[kindOf(r.method, r.path)] ?? 0) + 1;
  const onList = sandbox.getList(user).map((e) => e.animeId);
  const correct = onList.filter((id) => expected.has(id)).length;
  console.log(`${user}: job ${job.status}, counts ${JSON.stringify(job.counts)}${job.errors.length ? `, ${job.errors.length} errors, first ${JSON.stringify(job.errors.slice(0, 2))}` : ''}`);
  console.log(`  MAL requests ${requests.length} ${JSON.stringify(byKind)}, ${seconds.toFixed(1)} s; list afterwards: ${correct} of ${expected.size} expected entries, ${onList.length - correct} others`);
  return { malRequests: requests.length, byKind, seconds, job, correct, wrong: onList.length - correct };
}

async function cold(dynamodbEndpoint: string) {
  const entries = await loadCatalog(FULL_CATALOG);
  const random = rng(COLD_SEED);
  const seasons: CrShowSeason[] = crShowSeasons(catalogFranchises(entries), random, { seasons: COLD_SEASONS, idPrefix: 'GC' });
  const history = crV2History(seasons, random, { start: new Date(Date.UTC(2022, 0, 1)) });
  const expected = new Set(distinctMalIds(seasons));
  const continuous = seasons.filter((s) => s.episodeNumberOffset > 0 && !s.dub).length;
  const dubs = seasons.filter((s) => s.dub).length;
  console.log(`cold: ${seasons.length} CR seasons (${dubs} dubs, ${continuous} numbered on from the previous season), ${history.length} history entries, ${expected.size} distinct MAL entries; catalog ${entries.length} entries`);
  const stack = await startLocalStack({
    port: 0,
    dynamodbEndpoint,
    stage: `benchcold${randomBytes(3).toString('hex')}`,
    malSandbox: { catalog: new Catalog(entries as CatalogRecord[]), rateLimit: false, requestLogLimit: 200_000 },
    // The bench polls its jobs for minutes: the per-user request limit is not what it measures.
    env: { MAL_RATE_LIMIT_PER_SECOND: '100000', MAL_RATE_LIMIT_BURST: '100000', LIMIT_REQUESTS_PER_MINUTE: '100000' },
  });
  try {
    const first = await coldUser(stack, 'coldbench1', history, expected);
    const second = await coldUser(stack, 'coldbench2', history, expected);
    // An empty MAL list: one page to read it, then one PATCH per distinct MAL entry of the history.
    const minimum = 1 + expected.size;
    const coldTarget = minimum + 1.5 * seasons.length;
    const secondTarget = minimum + 0.1 * seasons.length;
    console.log(`cold MAL requests ${first.malRequests} vs minimum ${minimum} (target ≤ ${coldTarget}: minimum + 1.5 × ${seasons.length} new seasons) ${first.malRequests <= coldTarget ? 'met' : 'NOT met'}`);
    console.log(`second user MAL requests ${second.malRequests} vs minimum ${minimum} (target ≤ ${secondTarget}) ${second.malRequests <= secondTarget ? 'met' : 'NOT met'}`);
    return {
      coldSeasons: seasons.length,
      coldMalRequests: first.malRequests,
      coldMinimum: minimum,
      coldRequestsByKind: first.byKind,
      coldMatchedSeasons: first.job.counts.matched,
      coldNeedsReview: first.job.counts.needsReview,
      coldCorrectEntries: first.correct,
      coldWrongEntries: first.wrong,
      coldSeconds: Number(first.seconds.toFixed(3)),
      secondUserMalRequests: second.malRequests,
      secondUserMinimum: minimum,
      secondUserRequestsByKind: second.byKind,
      secondUserSeconds: Number(second.seconds.toFixed(3)),
    };
  } finally {
    await stack.stop();
  }
}

async function main() {
  const ddb = await startDynamoDBLocal({});
  try {
    const only = process.argv.includes('--cold-only') ? 'cold' : process.argv.includes('--warm-only') ? 'warm' : undefined;
    const warmFigures = only === 'cold' ? {} : await warm(ddb.endpoint);
    const coldFigures = only === 'warm' ? {} : await cold(ddb.endpoint);
    console.log(JSON.stringify({ ...warmFigures, ...coldFigures }));
  } finally {
    await ddb.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
