/**
 * MAL requests of a first sync, without the stack: the cold `bench:sync` history (same generator, seed and
 * full catalog) goes through the real intake (normaliseHistory) and the sync's matcher settings over the
 * MAL sandbox (in-process, HTTP on 127.0.0.1, no rate limit) with the per-job cache of the sync
 * (CachedMalSource, no shared cache). Reports searches, details, MAL requests per season and how many
 * auto-accepted seasons got the right or a wrong entry. For quick iterations on the matcher's cost;
 * `bench:sync` measures the same through GraphQL.
 *
 *   npx tsx bench/match-cost.ts [--seasons 400] [--seed 13] [--details N]
 */
import { parseArgs } from 'node:util';
import { loadCatalog } from '../functions/matching/catalog-source';
import { Catalog, startMalSandbox, type CatalogRecord } from '../local/mal-sandbox';
import { MalClient, TokenBucketRateLimiter, createPkceVerifier, type MalTokens } from '../functions/mal';
import { normaliseHistory } from '../functions/history';
import { allSeasons } from '../functions/sync/worker';
import { factsOfSeason, matchRequestForFacts } from '../functions/matching/from-history';
import { Matcher } from '../functions/matching/matcher';
import { SYNC_MATCHER_OPTIONS } from '../functions/sync/match-phase';
import { CachedMalSource } from '../functions/sync/mal-cache';
import { DEFAULT_SETTINGS } from '#contract/settings';
import { catalogFranchises, crShowSeasons, crV2History, rng } from './sync-support';

const { values: args } = parseArgs({
  options: {
    seasons: { type: 'string', default: '400' },
    seed: { type: 'string', default: '13' },
    details: { type: 'string' },
    catalog: { type: 'string', default: new URL('../../shared/data/mal-catalog.jsonl.gz', import.meta.url).pathname },
    verbose: { type: 'boolean', default: false },
  },
});

const entries = await loadCatalog(args.catalog);
const random = rng(Number(args.seed));
const shows = crShowSeasons(catalogFranchises(entries), random, { seasons: Number(args.seasons), idPrefix: 'GC' });
const history = crV2History(shows, random, { start: new Date(Date.UTC(2022, 0, 1)) });
const truth = new Map(shows.map((s) => [s.seasonId, s.malId]));
const seasons = allSeasons(normaliseHistory({ data: history }));

const sandbox = await startMalSandbox({ catalog: new Catalog(entries as CatalogRecord[]), rateLimit: false, requestLogLimit: 200_000 });
try {
  const redirectUri = 'http://127.0.0.1/callback';
  const client = new MalClient({
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    authBaseUrl: sandbox.authBaseUrl,
    apiBaseUrl: sandbox.apiBaseUrl,
    rateLimiter: new TokenBucketRateLimiter({ ratePerSecond: 100_000, burst: 100_000 }),
  });
  const verifier = createPkceVerifier();
  const authorize = new URL(client.buildAuthorizeUrl({ redirectUri, state: 's', codeVerifier: verifier }));
  authorize.searchParams.set('sandbox_user', 'costbench');
  const code = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
  let tokens: MalTokens = await client.exchangeCode({ code, codeVerifier: verifier, redirectUri });
  const session = client.forUser({ load: async () => tokens, save: async (t) => void (tokens = t) });
  const detailIds: number[] = [];
  const queries: string[] = [];
  const counted = {
    ...session,
    searchAnime: (r: { q: string; limit?: number }) => (queries.push(r.q), session.searchAnime(r)),
    getAnimeDetails: (id: number, f?: string) => (detailIds.push(id), session.getAnimeDetails(id, f)),
    getAnimeList: session.getAnimeList.bind(session),
    updateListStatus: session.updateListStatus.bind(session),
    deleteListStatus: session.deleteListStatus.bind(session),
  };
  const source = new CachedMalSource(counted, { shared: false });
  const options = { ...SYNC_MATCHER_OPTIONS, ...(args.details ? { detailsLimit: Number(args.details) } : {}), autoAcceptThreshold: DEFAULT_SETTINGS.autoAcceptThreshold };
  const matcher = new Matcher(source, options);
  let right = 0;
  let wrong = 0;
  let review = 0;
  const started = performance.now();
  for (const season of seasons) {
    const result = await matcher.match(matchRequestForFacts(factsOfSeason(season)));
    const expected = truth.get(season.seasonId);
    if (args.verbose && !result.explanation.text.includes('decided from the search answer')) {
      const numbers = season.episodes.map((e) => e.number);
      process.stderr.write(`full path: "${season.seriesTitle}" / "${season.seasonTitle}" S${season.seasonNumber} eps ${Math.min(...numbers)}-${Math.max(...numbers)} → ${result.malId} ${result.needsReview ? 'review' : 'auto'} (${source.seen.get(result.malId ?? -1)?.title ?? '-'})\n`);
    }
    if (result.needsReview || result.malId === null) review += 1;
    else if (result.malId === expected) right += 1;
    else {
      wrong += 1;
      if (args.verbose) process.stderr.write(`wrong: ${season.seriesTitle} / ${season.seasonTitle} → ${result.malId} (expected ${expected}): ${result.explanation.text}\n`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (args.verbose) {
    // Which fetched details belong to a franchise (sequel/prequel component) of a true entry.
    const component = new Map<number, number>();
    const related = (id: number) => sandbox.catalog.relatedAnime(id).filter((r) => r.relation_type === 'sequel' || r.relation_type === 'prequel').map((r) => r.node.id);
    for (const id of new Set(truth.values())) {
      if (component.has(id)) continue;
      const queue = [id];
      component.set(id, id);
      while (queue.length) for (const next of related(queue.shift()!)) if (!component.has(next)) (component.set(next, id), queue.push(next));
    }
    const inTrue = detailIds.filter((id) => component.has(id)).length;
    process.stderr.write(`series ${new Set(seasons.map((s) => s.seriesId)).size}; details in true franchises ${inTrue}, elsewhere ${detailIds.length - inTrue}; true-franchise entries ${component.size}\n`);
  }
  const { searches, details } = source.counts;
  console.log(`${seasons.length} seasons (${shows.length} CR seasons with dubs): ${searches} searches, ${details} details, ${((searches + details) / shows.length).toFixed(2)} per CR season; auto right ${right}, wrong ${wrong}, review ${review}; ${seconds.toFixed(1)} s`);
  console.log(JSON.stringify({ crSeasons: shows.length, seasons: seasons.length, searches, details, perCrSeason: Number(((searches + details) / shows.length).toFixed(3)), right, wrong, review }));
} finally {
  await sandbox.close();
}
