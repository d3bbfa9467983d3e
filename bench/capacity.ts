/**
 * bench:capacity — how many users one MAL client can serve. MAL's budget for our client (about 1 request/s,
 * shared by every user), not AWS, is the ceiling; this simulates a day's peak against the local stack and
 * the MAL sandbox (127.0.0.1 only) with one global MAL rate, and turns the measured requests per user into
 * the daily-active-user capacity at 1 request/s.
 *
 * Population (seeded, so every run draws the same): returning users, each syncing a day's episodes (1–3
 * episodes of 1–2 shows they are watching, already matched by earlier syncs and on their MAL list), and new
 * users backfilling a history of CR seasons, half of them popular shows others watched too, half shows no
 * one synced before. Titles come from the full MAL catalog (also in the sandbox).
 *
 * Phases: (1) warm-up at full speed, not measured: one earlier user syncs the popular shows (so returning
 * users' shows are matched), everyone signs in; (2) calibration: one user of each kind alone at the
 * simulated rate; (3) the peak: every user sends their history at a random moment of a short window, all
 * sharing the simulated rate, the sandbox throttling anything faster. MAL requests are counted by the
 * sandbox per user; latency and worker-queue wait come from the jobs' own timestamps; a kind's queueing
 * delay is its latency in the peak minus its latency alone. The simulated rate is higher than 1/s to keep
 * the run short; delays are also given scaled to 1 request/s (× rate: waiting for MAL slots dominates).
 *
 * Options: --users N (200), --new N (10), --backfill N (seasons per new user, 30), --rate R (requests/s, 5),
 * --window S (seconds over which the peak's users arrive, 60), --catalog FILE. Last line: one JSON object.
 */
import { randomBytes } from 'node:crypto';
import { startLocalStack, type LocalStack } from '../local/stack';
import { Catalog, type CatalogRecord } from '../local/mal-sandbox';
import { loadCatalog } from '../functions/matching/catalog-source';
import { resetEnvironment } from '../functions/shared/config';
import { catalogFranchises, crShowSeasons, crV2History, gql, rng, sendHistory, shuffle, signIn, waitForJob, FINAL_STATUSES, type CrShowSeason } from './sync-support';

function arg(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const USERS = arg('users', 200);
const NEW_USERS = Math.min(arg('new', 10), USERS - 1);
const RETURNING_USERS = USERS - NEW_USERS;
const BACKFILL_SEASONS = arg('backfill', 30);
const RATE = arg('rate', 5);
const WINDOW_S = arg('window', 60);
const POPULAR_SEASONS = 60;
const CATALOG = (process.argv.includes('--catalog') ? process.argv[process.argv.indexOf('--catalog') + 1] : undefined) ?? new URL('../../shared/data/mal-catalog.jsonl.gz', import.meta.url).pathname;
const DAY_REQUESTS_AT_1RPS = 86_400;
/** The whole run stops after this (bounded, whatever happens). */
const DEADLINE_MS = 30 * 60_000;

type Kind = 'returning' | 'new';

interface SimUser {
  name: string;
  kind: Kind;
  headers?: Record<string, string>;
  history: Record<string, unknown>[];
  list: Array<{ animeId: number; status: 'watching' | 'completed'; num_episodes_watched: number }>;
  /** Distinct MAL entries the day's history touches (one change each at the least). */
  changes: number;
  arrivalMs: number;
  jobId?: string;
}

interface JobTimes {
  status: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  counts: { seasons: number; applied: number; needsReview: number };
}

const JOB_TIMES = 'query($id: ID!) { syncJob(id: $id) { status createdAt startedAt finishedAt counts { seasons applied needsReview } } }';

function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);

/** A returning user's day: the next 1–3 episodes of 1–2 shows they are watching (on their list). */
function returningUser(index: number, popular: CrShowSeason[], random: () => number): SimUser {
  const candidates = popular.filter((s) => !s.dub && s.episodeNumberOffset === 0 && s.episodeCount >= 6);
  const shows = shuffle(candidates, random).slice(0, 1 + Math.floor(random() * 2));
  const history: Record<string, unknown>[] = [];
  const list: SimUser['list'] = [];
  for (const show of shows) {
    const watchedBefore = 1 + Math.floor(random() * (show.episodeCount - 4));
    const today = 1 + Math.floor(random() * 3);
    const entries = crV2History([{ ...show, episodeCount: watchedBefore + today }], random, { start: new Date(Date.UTC(2026, 0, 1)), completedShare: 1 });
    history.push(...entries.slice(watchedBefore));
    list.push({ animeId: show.malId, status: 'watching', num_episodes_watched: watchedBefore });
  }
  // The rest of their list: shows finished long ago, untouched today.
  for (const other of shuffle(popular, random).slice(0, 20)) {
    if (!list.some((e) => e.animeId === other.malId)) list.push({ animeId: other.malId, status: 'completed', num_episodes_watched: other.episodeCount });
  }
  return { name: `cap-r${index}`, kind: 'returning', history, list, changes: shows.length, arrivalMs: 0 };
}

/** A new user's backfill: half popular seasons, half seasons of shows nobody synced before. */
function newUser(index: number, popular: CrShowSeason[], own: CrShowSeason[], random: () => number): SimUser {
  const fromPopular = shuffle(popular.filter((s) => !s.dub), random).slice(0, Math.floor(BACKFILL_SEASONS / 2));
  const seasons = [...fromPopular, ...own];
  const history = crV2History(seasons, random, { start: new Date(Date.UTC(2023, 0, 1)) });
  const changes = new Set(seasons.map((s) => s.malId)).size;
  return { name: `cap-n${index}`, kind: 'new', history, list: [], changes, arrivalMs: 0 };
}

async function jobTimes(stack: LocalStack, user: SimUser): Promise<JobTimes> {
  return (await gql(stack.graphqlUrl, JOB_TIMES, { id: user.jobId }, user.headers!)).syncJob as JobTimes;
}

/** Waits until every user's job has ended (polls each unfinished job, a sweep every few seconds). */
async function waitForAll(stack: LocalStack, users: SimUser[], deadline: number): Promise<Map<string, JobTimes>> {
  const done = new Map<string, JobTimes>();
  for (;;) {
    for (const user of users) {
      if (!user.jobId || done.has(user.name)) continue;
      const times = await jobTimes(stack, user);
      if (FINAL_STATUSES.includes(times.status)) done.set(user.name, times);
    }
    if (done.size === users.length) return done;
    if (Date.now() > deadline) throw new Error(`${users.length - done.size} jobs still running at the deadline`);
    await new Promise((r) => setTimeout(r, 3000));
  }
}

function seconds(from: string, to: string | null): number {
  return to ? (Date.parse(to) - Date.parse(from)) / 1000 : Number.NaN;
}

async function main() {
  const deadline = Date.now() + DEADLINE_MS;
  const entries = await loadCatalog(CATALOG);
  const random = rng(6);
  const franchises = shuffle(catalogFranchises(entries), random);
  // Popular shows (watched by many) and, disjoint from them, each new user's own shows.
  const popularFranchises = franchises.slice(0, 60);
  const popular = crShowSeasons(popularFranchises, random, { seasons: POPULAR_SEASONS, idPrefix: 'GP' });
  const ownCount = BACKFILL_SEASONS - Math.floor(BACKFILL_SEASONS / 2);
  let next = 60;
  const ownSeasons = (): CrShowSeason[] => {
    const slice = franchises.slice(next, next + ownCount * 2);
    next += ownCount * 2;
    return crShowSeasons(slice, random, { seasons: ownCount, idPrefix: `GN${next}`, dubShare: 0.1 });
  };
  const users: SimUser[] = [];
  for (let i = 0; i < RETURNING_USERS; i++) users.push(returningUser(i, popular, random));
  for (let i = 0; i < NEW_USERS; i++) users.push(newUser(i, popular, ownSeasons(), random));
  for (const user of users) user.arrivalMs = Math.floor(random() * WINDOW_S * 1000);
  const calibration = { returning: returningUser(RETURNING_USERS, popular, random), new: newUser(NEW_USERS, popular, ownSeasons(), random) };

  const stack = await startLocalStack({
    port: 0,
    stage: `cap${randomBytes(3).toString('hex')}`,
    malSandbox: { catalog: new Catalog(entries as CatalogRecord[]), rateLimit: false, requestLogLimit: 500_000 },
    // Warm-up at full speed; the per-user request limit is not what this measures (the bench polls).
    env: { MAL_RATE_LIMIT_PER_SECOND: '100000', MAL_RATE_LIMIT_BURST: '100000', LIMIT_REQUESTS_PER_MINUTE: '100000' },
  });
  try {
    const sandbox = stack.malSandbox!;
    const everyone = [...users, calibration.returning, calibration.new];

    // (1) Warm-up: an earlier user syncs the popular shows, so returning users' shows are matched.
    const earlier = await signIn(stack, 'cap-earlier');
    const warm = await waitForJob(stack, earlier, await sendHistory(stack, earlier, 'data', crV2History(popular, random, { start: new Date(Date.UTC(2021, 0, 1)) })), 15 * 60_000, 1000);
    console.log(`warm-up: popular shows synced by an earlier user: ${JSON.stringify(warm.counts)}`);
    for (const user of everyone) {
      user.headers = await signIn(stack, user.name);
      if (user.list.length) sandbox.seedList(user.name, user.list);
    }
    console.log(`warm-up: ${everyone.length} users signed in`);

    // From here on one global MAL rate, and the sandbox throttles anything faster.
    process.env.MAL_RATE_LIMIT_PER_SECOND = String(RATE);
    process.env.MAL_RATE_LIMIT_BURST = '1';
    resetEnvironment();
    sandbox.setFaults({ rateLimitPerSecond: RATE + 2 });

    // (2) Calibration: each kind alone.
    const alone: Record<Kind, { seconds: number; malRequests: number }> = { returning: { seconds: 0, malRequests: 0 }, new: { seconds: 0, malRequests: 0 } };
    for (const kind of ['returning', 'new'] as const) {
      const user = calibration[kind];
      const logStart = sandbox.requestLog.at(-1)?.seq ?? 0;
      user.jobId = await sendHistory(stack, user.headers!, 'data', user.history);
      await waitForJob(stack, user.headers!, user.jobId, 15 * 60_000, 500);
      const times = await jobTimes(stack, user);
      alone[kind] = { seconds: seconds(times.createdAt, times.finishedAt), malRequests: sandbox.requestLog.filter((r) => r.seq > logStart && r.userName === user.name).length };
      console.log(`alone, ${kind}: ${alone[kind].seconds.toFixed(1)} s, ${alone[kind].malRequests} MAL requests`);
    }

    // (3) The peak: everyone at a random moment of the window.
    const logStart = sandbox.requestLog.at(-1)?.seq ?? 0;
    const peakStarted = Date.now();
    await Promise.all(
      users.map(async (user) => {
        await new Promise((r) => setTimeout(r, user.arrivalMs));
        user.jobId = await sendHistory(stack, user.headers!, 'data', user.history);
      }),
    );
    const times = await waitForAll(stack, users, deadline);
    const peakSeconds = (Date.now() - peakStarted) / 1000;
    const log = sandbox.requestLog.filter((r) => r.seq > logStart && r.path.startsWith('/v2/'));
    const byUser = new Map<string, number>();
    for (const r of log) if (r.userName) byUser.set(r.userName, (byUser.get(r.userName) ?? 0) + 1);
    const throttled = log.filter((r) => r.fault === 'throttled').length;

    const report: Record<string, unknown> = {};
    const perKind: Record<Kind, { requests: number[]; minimum: number[]; latency: number[]; queueWait: number[]; delay: number[]; failed: number }> = {
      returning: { requests: [], minimum: [], latency: [], queueWait: [], delay: [], failed: 0 },
      new: { requests: [], minimum: [], latency: [], queueWait: [], delay: [], failed: 0 },
    };
    for (const user of users) {
      const t = times.get(user.name)!;
      const k = perKind[user.kind];
      if (t.status !== 'SUCCEEDED' && t.status !== 'PARTIAL') k.failed += 1;
      k.requests.push(byUser.get(user.name) ?? 0);
      k.minimum.push(1 + user.changes);
      const latency = seconds(t.createdAt, t.finishedAt);
      k.latency.push(latency);
      k.queueWait.push(seconds(t.createdAt, t.startedAt));
      k.delay.push(Math.max(0, latency - alone[user.kind].seconds));
    }
    const requestsPerDay = log.filter((r) => r.fault !== 'throttled').length;
    for (const kind of ['returning', 'new'] as const) {
      const k = perKind[kind];
      report[kind] = {
        users: k.requests.length,
        failed: k.failed,
        malRequestsPerUser: round(mean(k.requests)),
        malRequestsP95: quantile(k.requests, 0.95),
        minimumPerUser: round(mean(k.minimum)),
        aloneSeconds: round(alone[kind].seconds),
        latencyP50Seconds: round(quantile(k.latency, 0.5)),
        latencyP95Seconds: round(quantile(k.latency, 0.95)),
        workerQueueWaitP95Seconds: round(quantile(k.queueWait, 0.95)),
        queueDelayP50Seconds: round(quantile(k.delay, 0.5)),
        queueDelayP95Seconds: round(quantile(k.delay, 0.95)),
        // Waiting for MAL slots dominates: at 1 request/s the same queue is RATE times longer.
        queueDelayP95SecondsAt1rps: round(quantile(k.delay, 0.95) * RATE, 0),
      };
    }
    const returningCost = mean(perKind.returning.requests);
    const newCost = mean(perKind.new.requests);
    const newShare = NEW_USERS / USERS;
    const perActiveUser = newShare * newCost + (1 - newShare) * returningCost;
    console.log(`peak: ${USERS} users (${NEW_USERS} new with ${BACKFILL_SEASONS} seasons each) arriving over ${WINDOW_S} s at ${RATE} MAL requests/s: ${requestsPerDay} MAL requests (${throttled} throttled by the sandbox), done in ${peakSeconds.toFixed(0)} s`);
    console.log(`returning: ${JSON.stringify(report.returning)}`);
    console.log(`new:       ${JSON.stringify(report.new)}`);
    console.log(
      `capacity at 1 request/s (${DAY_REQUESTS_AT_1RPS} a day): ${Math.floor(DAY_REQUESTS_AT_1RPS / perActiveUser)} daily active users with ${(newShare * 100).toFixed(0)}% new; ` +
        `${Math.floor(DAY_REQUESTS_AT_1RPS / returningCost)} if all are returning; ${Math.floor(DAY_REQUESTS_AT_1RPS / newCost)} new users a day if nobody else syncs`,
    );
    console.log(
      JSON.stringify({
        users: USERS,
        newUsers: NEW_USERS,
        returningUsers: RETURNING_USERS,
        backfillSeasons: BACKFILL_SEASONS,
        simRatePerSecond: RATE,
        arrivalWindowSeconds: WINDOW_S,
        workerSlots: 4,
        malRequestsPerDay: requestsPerDay,
        malRequestsPerDayShareOfBudgetAt1rps: round(requestsPerDay / DAY_REQUESTS_AT_1RPS, 4),
        unattributedMalRequests: log.filter((r) => !r.userName && r.fault !== 'throttled').length,
        throttled,
        peakSeconds: round(peakSeconds, 1),
        // Below simRatePerSecond when the machine, not the MAL budget, was the bottleneck.
        achievedRatePerSecond: round(requestsPerDay / peakSeconds),
        returning: report.returning,
        new: report.new,
        malRequestsPerNewSeason: round((newCost - 1) / BACKFILL_SEASONS),
        dauCapacityAt1rps: Math.floor(DAY_REQUESTS_AT_1RPS / perActiveUser),
        dauCapacityAt1rpsReturningOnly: Math.floor(DAY_REQUESTS_AT_1RPS / returningCost),
        newUsersPerDayAt1rps: Math.floor(DAY_REQUESTS_AT_1RPS / newCost),
      }),
    );
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
