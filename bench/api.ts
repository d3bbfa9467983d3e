/**
 * bench:api — the local runtime's request cost against a bare Node HTTP server answering the same bytes,
 * in the same run, at concurrency 1 and 10:
 *   typename  `{ __typename }` with the API key (HTTP, auth, parse/validate, execution, no data source)
 *   settings  `settings { … }` with a session token (+ Lambda authorizer, one DynamoDB GetItem)
 *   series    a 20-series `series` page with a session token (one DynamoDB Query, 20 × 2 seasons × 12 episodes)
 * The per-user request limit is raised for the run. Both servers live in one child process on 127.0.0.1
 * (the local stack as `npm start` builds it, DynamoDB Local beside it); this process only sends requests,
 * over keep-alive connections, for a bounded time per case: CASE_SECONDS per server, in 6 slices that alternate
 * between the project and the bare server, so a spell of outside load on a shared machine falls on both.
 *
 * Warm-up: before a case is measured, each server answers it at concurrency 10 in rounds of 1 s until it is
 * steady (a round's requests within 10% of the round before) after at least 3 rounds and 2,500 requests,
 * at most 20 rounds. DynamoDB
 * Local is a JVM: its first few thousand calls run before the JIT has compiled them, several times
 * slower, and a long-running `npm start` is past that. What is measured after is unchanged: the same
 * requests, bytes and concurrency.
 *
 * Options (environment): BENCH_API_SECONDS (per case, default 3), BENCH_API_CASES (a comma list),
 * BENCH_API_CPU_PROF=DIR (CPU profile of the servers' process), BENCH_API_PROJECT_ONLY=1 (no bare load),
 * BENCH_API_WARMUP_ROUNDS=MIN,MAX (default 3,20; 0,0 measures cold).
 *
 * Last line: one JSON object with `typename10Ratio`, `settings10Ratio`, `series10Ratio` (project p50 ÷
 * bare p50 at concurrency 10) and every raw figure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, Agent, type IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const CASE_SECONDS = Number(process.env.BENCH_API_SECONDS ?? 3);
const CASE_MAX_REQUESTS = 20_000;
/** Alternating slices per server and case (see loadSideBySide). */
const CASE_SLICES = 6;
const [WARMUP_MIN_ROUNDS, WARMUP_MAX_ROUNDS] = (process.env.BENCH_API_WARMUP_ROUNDS ?? '3,20').split(',').map(Number) as [number, number];
const WARMUP_MIN_REQUESTS = 2_500;
const WARMUP_ROUND_MS = 1000;
const WARMUP_CONCURRENCY = 10;
const WARMUP_STEADY = 0.1;
const SERIES_COUNT = 20;

interface Target {
  url: string;
  headers: Record<string, string>;
  body: string;
}

interface ServerInfo {
  graphqlUrl: string;
  bareUrl: string;
  apiKey: string;
  session: string;
}

// ---------------------------------------------------------------------------------------------------------
// Child: the local stack plus the bare server.
// ---------------------------------------------------------------------------------------------------------
async function serve() {
  const { startLocalStack } = await import('../local/stack');
  const { createSession } = await import('../functions/auth/sessions');
  const { documents } = await import('../functions/shared/dynamo');
  const { tableName } = await import('../functions/shared/config');
  const { PutCommand, BatchWriteCommand } = await import('@aws-sdk/lib-dynamodb');
  const { PROFILE_SK, seriesSk } = await import('#contract/keys');

  const stack = await startLocalStack({
    port: 0,
    console: false,
    // The bench sends thousands of requests a minute for one user.
    env: { LIMIT_REQUESTS_PER_MINUTE: '100000000' },
  });
  const userId = `u-${randomBytes(8).toString('hex')}`;
  await documents().send(
    new PutCommand({ TableName: tableName('users'), Item: { userId, sk: PROFILE_SK, malUserId: 4242, malUserName: 'bench', createdAt: new Date().toISOString() } }),
  );
  const at = (day: number, hour: number) => new Date(Date.UTC(2025, 0, 1 + day, hour)).toISOString();
  const items = Array.from({ length: SERIES_COUNT }, (_, s) => ({
    userId,
    sk: seriesSk(`GBENCH${String(s).padStart(3, '0')}`),
    seriesId: `GBENCH${String(s).padStart(3, '0')}`,
    title: `Bench Series ${s}`,
    updatedAt: at(s, 0),
    seasons: [1, 2].map((n) => ({
      seasonKey: `GBENCH${s}S${n}`,
      crSeasonId: `GBENCH${s}S${n}`,
      title: `Bench Series ${s} Season ${n}`,
      seasonNumber: n,
      audioLocales: ['ja-JP'],
      isMovie: false,
      numberingOffset: n === 1 ? 0 : 12,
      episodes: Array.from({ length: 12 }, (_, e) => ({
        number: e + 1,
        crEpisodeId: `GBENCH${s}S${n}E${e + 1}`,
        durationMs: 1_420_000,
        progress: 1,
        fullyWatched: true,
        firstWatchedAt: at(s, e),
        lastWatchedAt: at(s, e + 1),
      })),
      match: null,
    })),
  }));
  for (let i = 0; i < items.length; i += 25) {
    await documents().send(new BatchWriteCommand({ RequestItems: { [tableName('series-data')]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
  const session = (await createSession(userId)).token;

  // The bare server answers whatever bytes the parent registers for a path, after reading the body.
  const answers = new Map<string, { status: number; headers: Record<string, string>; body: Buffer }>();
  const bare = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'PUT') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status: number; headers: Record<string, string>; body: string };
        answers.set(req.url ?? '/', { status: body.status, headers: body.headers, body: Buffer.from(body.body, 'base64') });
        res.writeHead(204).end();
        return;
      }
      if (req.url === '/__cpu') {
        // The servers' process CPU time (user + system, µs): a per-request cost that load elsewhere does not inflate.
        const { user, system } = process.cpuUsage();
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ micros: user + system, dynamodbMicros: childrenCpuMicros() }));
      }
      const answer = answers.get(req.url ?? '/');
      if (!answer) return void res.writeHead(404).end();
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    });
  });
  await new Promise<void>((ok) => bare.listen(0, '127.0.0.1', ok));
  const address = bare.address();
  const bareUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const info: ServerInfo = { graphqlUrl: stack.graphqlUrl, bareUrl, apiKey: stack.apiKey, session };
  process.stdout.write(`BENCH_READY ${JSON.stringify(info)}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    bare.close();
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The parent closing stdin (or dying) ends the child too.
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}

/** CPU time (µs) of this process's child processes (DynamoDB Local's JVM), from /proc; NaN elsewhere. */
function childrenCpuMicros(): number {
  try {
    const ticks = 100; // USER_HZ: /proc/<pid>/stat counts clock ticks of 1/100 s on Linux
    let total = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue;
      }
      // Fields after the command's closing parenthesis: state ppid … utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      total += ((Number(fields[11]) + Number(fields[12])) / ticks) * 1e6;
    }
    return total;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parent: the load.
// ---------------------------------------------------------------------------------------------------------
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function send(url: URL, method: string, headers: Record<string, string>, body: string): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((ok, fail) => {
    const req = httpRequest(url, { method, agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
    req.on('error', fail);
    req.end(body);
  });
}

interface Figures {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  requestsPerSecond: number;
  /** CPU time the servers' process spent per request (excludes DynamoDB Local, a process of its own). */
  cpuMsPerRequest: number;
  /** CPU time DynamoDB Local's JVM spent per request (10 ms resolution, so a mean over the case). */
  dynamodbCpuMsPerRequest: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function serverCpuMicros(bareUrl: string): Promise<{ micros: number; dynamodbMicros: number }> {
  const response = await send(new URL('/__cpu', bareUrl), 'GET', {}, '');
  return JSON.parse(response.body.toString('utf8')) as { micros: number; dynamodbMicros: number };
}

interface Tally {
  latencies: number[];
  seconds: number;
  cpuMicros: number;
  dynamodbMicros: number;
}

/** Loads one server for one slice of time, adding to its tally. */
async function loadSlice(target: Target, concurrency: number, expected: Buffer, bareUrl: string, sliceMs: number, tally: Tally): Promise<void> {
  const url = new URL(target.url);
  const headers = { 'content-type': 'application/json', ...target.headers };
  const check = (body: Buffer) => {
    if (!body.equals(expected)) throw new Error(`${target.url} answered other bytes than expected:\n${body.toString('utf8').slice(0, 300)}`);
  };
  const { latencies } = tally;
  const cpuBefore = await serverCpuMicros(bareUrl);
  const started = performance.now();
  const deadline = started + sliceMs;
  const worker = async () => {
    while (performance.now() < deadline && latencies.length < CASE_MAX_REQUESTS) {
      const t0 = performance.now();
      const response = await send(url, 'POST', headers, target.body);
      latencies.push(performance.now() - t0);
      check(response.body);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  tally.seconds += (performance.now() - started) / 1000;
  const cpuAfter = await serverCpuMicros(bareUrl);
  tally.cpuMicros += cpuAfter.micros - cpuBefore.micros;
  tally.dynamodbMicros += cpuAfter.dynamodbMicros - cpuBefore.dynamodbMicros;
}

function figuresOf(tally: Tally): Figures {
  const latencies = [...tally.latencies].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  const n = latencies.length;
  return {
    requests: n,
    p50Ms: n ? round(quantile(latencies, 0.5)) : NaN,
    p99Ms: n ? round(quantile(latencies, 0.99)) : NaN,
    requestsPerSecond: tally.seconds > 0 ? Math.round(n / tally.seconds) : 0,
    cpuMsPerRequest: n ? round(tally.cpuMicros / 1000 / n) : NaN,
    dynamodbCpuMsPerRequest: n ? round(tally.dynamodbMicros / 1000 / n) : NaN,
  };
}

/**
 * Loads the project and the bare server in alternating slices (CASE_SLICES each, CASE_SECONDS in all per
 * server), so both see the same machine: on a shared machine a spell of outside load would otherwise
 * fall on one of them only and move the ratio.
 */
async function loadSideBySide(project: Target, bare: Target | undefined, concurrency: number, expected: Buffer, bareUrl: string): Promise<{ project: Figures; bare: Figures }> {
  const tallies = { project: { latencies: [], seconds: 0, cpuMicros: 0, dynamodbMicros: 0 } as Tally, bare: { latencies: [], seconds: 0, cpuMicros: 0, dynamodbMicros: 0 } as Tally };
  const sliceMs = (CASE_SECONDS * 1000) / CASE_SLICES;
  for (let slice = 0; slice < CASE_SLICES; slice++) {
    await loadSlice(project, concurrency, expected, bareUrl, sliceMs, tallies.project);
    if (bare) await loadSlice(bare, concurrency, expected, bareUrl, sliceMs, tallies.bare);
  }
  return { project: figuresOf(tallies.project), bare: figuresOf(tallies.bare) };
}

/** Sends the case at concurrency 10 in 1 s rounds until a round's count is within 10% of the one before. */
async function warmUp(target: Target, expected: Buffer): Promise<{ rounds: number; requests: number; lastRoundRequests: number }> {
  const url = new URL(target.url);
  const headers = { 'content-type': 'application/json', ...target.headers };
  let previous = 0;
  let requests = 0;
  let rounds = 0;
  let count = 0;
  while (rounds < WARMUP_MAX_ROUNDS) {
    const deadline = performance.now() + WARMUP_ROUND_MS;
    count = 0;
    await Promise.all(
      Array.from({ length: WARMUP_CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          const response = await send(url, 'POST', headers, target.body);
          if (!response.body.equals(expected)) throw new Error(`${target.url} answered other bytes than expected during warm-up:\n${response.body.toString('utf8').slice(0, 300)}`);
          count++;
        }
      }),
    );
    rounds++;
    requests += count;
    const steady = previous > 0 && Math.abs(count - previous) <= WARMUP_STEADY * previous;
    if (rounds >= WARMUP_MIN_ROUNDS && requests >= WARMUP_MIN_REQUESTS && steady) break;
    previous = count;
  }
  return { rounds, requests, lastRoundRequests: count };
}

async function startServers(): Promise<{ child: ChildProcess; info: ServerInfo }> {
  const child = spawn(resolve(ROOT, 'node_modules/.bin/tsx'), [resolve(ROOT, 'bench/api.ts'), '--serve'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      MAL_CLIENT_ID: '',
      MAL_CLIENT_SECRET: '',
      REDIRECT_URI: '',
      // BENCH_API_CPU_PROF=DIR: a V8 CPU profile of the servers' process (open it in Chrome DevTools).
      ...(process.env.BENCH_API_CPU_PROF ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${resolve(process.env.BENCH_API_CPU_PROF)}` } : {}),
    },
  });
  const info = await new Promise<ServerInfo>((ok, fail) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`the servers did not start within 120 s:\n${output}`)), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /BENCH_READY (.*)\n/.exec(output);
      if (ready) {
        clearTimeout(timer);
        ok(JSON.parse(ready[1]!) as ServerInfo);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the server process exited (${code}):\n${output}`));
    });
  });
  return { child, info };
}

async function main() {
  const { child, info } = await startServers();
  const stopChild = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.on('exit', stopChild);
  try {
    const cases: Record<string, Target> = {
      typename: { url: info.graphqlUrl, headers: { 'x-api-key': info.apiKey }, body: JSON.stringify({ query: '{ __typename }' }) },
      settings: {
        url: info.graphqlUrl,
        headers: { authorization: info.session },
        body: JSON.stringify({ query: '{ settings { watchedThreshold autoAcceptMatches autoAcceptThreshold updateDroppedAndOnHold markCompleted setDates trackRewatches updatedAt } }' }),
      },
      series: {
        url: info.graphqlUrl,
        headers: { authorization: info.session },
        body: JSON.stringify({
          query: `query($limit: Int) { series(limit: $limit) { items { seriesId title updatedAt seasons { seasonKey crSeasonId title seasonNumber audioLocales isMovie numberingOffset episodes { number crEpisodeId durationMs progress fullyWatched firstWatchedAt lastWatchedAt } match { malId } } } nextToken } }`,
          variables: { limit: SERIES_COUNT },
        }),
      },
    };
    const results: Record<string, Record<string, { project: Figures; bare: Figures }>> = {};
    const ratios: Record<string, number> = {};
    const warmUps: Record<string, { project: Awaited<ReturnType<typeof warmUp>>; bare?: Awaited<ReturnType<typeof warmUp>> }> = {};
    // BENCH_API_CASES=series,settings runs only those (profiling one case).
    const only = process.env.BENCH_API_CASES?.split(',');
    for (const [name, target] of Object.entries(cases)) {
      if (only && !only.includes(name)) continue;
      // What the project answers, registered with the bare server byte for byte.
      const reference = await send(new URL(target.url), 'POST', { 'content-type': 'application/json', ...target.headers }, target.body);
      const parsed = JSON.parse(reference.body.toString('utf8')) as { data?: any; errors?: unknown };
      if (reference.status !== 200 || parsed.errors) throw new Error(`${name}: the project answered ${reference.status} ${reference.body.toString('utf8').slice(0, 300)}`);
      if (name === 'series' && parsed.data.series.items.length !== SERIES_COUNT) throw new Error(`series: expected ${SERIES_COUNT} series`);
      const path = `/${name}`;
      const answerHeaders = { 'content-type': String(reference.headers['content-type']), 'access-control-allow-origin': '*' };
      await send(new URL(path, info.bareUrl), 'PUT', { 'content-type': 'application/json' }, JSON.stringify({ status: reference.status, headers: answerHeaders, body: reference.body.toString('base64') }));
      const bareTarget: Target = { ...target, url: new URL(path, info.bareUrl).href };
      results[name] = {};
      warmUps[name] = { project: await warmUp(target, reference.body) };
      if (!process.env.BENCH_API_PROJECT_ONLY) warmUps[name].bare = await warmUp(bareTarget, reference.body);
      console.log(`${name.padEnd(9)} warm-up: project ${warmUps[name].project.rounds} rounds (last ${warmUps[name].project.lastRoundRequests} req/s)` + (warmUps[name].bare ? `, bare ${warmUps[name].bare.rounds} rounds` : ''));
      for (const concurrency of [1, 10]) {
        // BENCH_API_PROJECT_ONLY=1 skips the bare server's load (a profile of the project alone).
        const { project, bare } = await loadSideBySide(target, process.env.BENCH_API_PROJECT_ONLY ? undefined : bareTarget, concurrency, reference.body, info.bareUrl);
        results[name][`c${concurrency}`] = { project, bare };
        console.log(
          `${name.padEnd(9)} c=${String(concurrency).padEnd(2)}  project p50 ${project.p50Ms.toFixed(2)} ms  p99 ${project.p99Ms.toFixed(2)} ms  ${project.requestsPerSecond} req/s  cpu ${project.cpuMsPerRequest.toFixed(2)} ms/req (+ DynamoDB Local ${project.dynamodbCpuMsPerRequest.toFixed(2)})` +
            `   bare p50 ${bare.p50Ms.toFixed(2)} ms  p99 ${bare.p99Ms.toFixed(2)} ms  ${bare.requestsPerSecond} req/s  cpu ${bare.cpuMsPerRequest.toFixed(3)} ms/req   (${reference.body.length} bytes)`,
        );
        if (concurrency === 10) ratios[`${name}10Ratio`] = Math.round((project.p50Ms / bare.p50Ms) * 10) / 10;
      }
    }
    console.log(JSON.stringify({ ...ratios, caseSeconds: CASE_SECONDS, results, warmUps }));
  } finally {
    agent.destroy();
    child.stdin!.end();
    stopChild();
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
  }
}

if (process.argv.includes('--serve')) {
  await serve();
} else {
  await main();
}
