/**
 * bench:start — how long `npm start` takes, a second time with nothing changed, to answer its first
 * GraphQL request: from launching `npm start -- --port 0` to the first `{ __typename }` answered with the
 * printed API key. Each run is a fresh `npm start` (npm, tsx, the build check, DynamoDB Local, the stack),
 * bound to 127.0.0.1, stopped with Ctrl-C (SIGINT to its process group) before the next one starts.
 *
 * The first run builds whatever is stale and fills tsx's cache, as a developer's first start does; the
 * --runs that follow are second starts, and their median is `secondStartMs`. Each run's timeline of
 * `npm start`'s own phases (ANIMELOG_START_TIMING=1, printed on stderr by local/start.ts) is shown on stderr.
 *
 *   npm run bench:start [-- --runs 3]
 *
 * Last line: one JSON object {"secondStartMs", "secondStartCpuMs" (CPU time of the start's processes, npm,
 * node and java, until the first answer: comparable on a busy machine), "runsMs", "firstStartMs", "phases"
 * (median ms since launch at which each phase ended), "loadAverage"}.
 * Exit code 1 when a start fails or takes longer than --timeout-ms (default 60 s).
 */
import { spawn } from 'node:child_process';
import { loadavg, availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';

const ROOT = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '3' }, 'timeout-ms': { type: 'string', default: '60000' } } });
const runs = Math.min(20, Math.max(1, Number(args.runs) || 3));
const timeoutMs = Number(args['timeout-ms']) || 60_000;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface StartRun {
  ms: number;
  /** CPU time of the start's processes (npm, node, java) until the first answer; Linux only, else 0. */
  cpuMs: number;
  cpuByCommand: Record<string, number>;
  /** Milliseconds since start.ts began, per phase, as start.ts reports them. */
  phases: Record<string, number>;
  output: string;
}

async function firstAnswer(graphqlUrl: string, apiKey: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: '{"query":"{ __typename }"}',
        signal: AbortSignal.timeout(2000),
      });
      const body = (await response.json()) as { data?: { __typename?: string } };
      if (body.data?.__typename === 'Query') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no answer from ${graphqlUrl} within the timeout`);
}

/**
 * CPU seconds used so far by the live processes of a process group (/proc; clock ticks at 100 Hz): the
 * work a start does, which a busy machine does not inflate the way it does wall time.
 */
function groupCpuMs(pgid: number): Record<string, number> {
  const byCommand: Record<string, number> = {};
  if (process.platform !== 'linux') return byCommand;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      // Fields after the command's closing parenthesis: state ppid pgrp … utime(14) stime(15) cutime cstime.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const command = /\((.*)\)/s.exec(stat)?.[1] ?? '?';
      const fields = stat.replace(/^.*\) /s, '').split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      if (Number(fields[2]) === pgid) byCommand[command] = (byCommand[command] ?? 0) + ticks * 10;
    } catch {
      // exited meanwhile
    }
  }
  return byCommand;
}

/** One `npm start`: launched, timed to its first answer, stopped with SIGINT; resolves once it exited. */
async function startOnce(): Promise<StartRun> {
  const started = performance.now();
  const launchedAt = Date.now();
  const deadline = Date.now() + timeoutMs;
  // Its own process group, so Ctrl-C reaches npm, tsx and node as a terminal's would.
  const child = spawn(NPM, ['start', '--silent', '--', '--port', '0'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The sandbox, not real MAL, whatever the developer's shell has configured.
    env: { ...process.env, MAL_CLIENT_ID: '', MAL_CLIENT_SECRET: '', REDIRECT_URI: '', ANIMELOG_START_TIMING: '1' },
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  try {
    const banner = await new Promise<string>((resolveBanner, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner within ${timeoutMs} ms:\n${output}`)), timeoutMs);
      const check = () => {
        if (/API key: \S+/.test(output) && /GraphQL:\s+http\S+/.test(output)) {
          clearTimeout(timer);
          resolveBanner(output);
        }
      };
      child.stdout!.on('data', check);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited with ${code} before its banner:\n${output}`));
      });
    });
    const bannerMs = Math.round(performance.now() - started);
    const graphqlUrl = /GraphQL:\s+(http:\/\/127\.0\.0\.1:\d+\/graphql)/.exec(banner)![1]!;
    const apiKey = /API key: (\S+)/.exec(banner)![1]!;
    await firstAnswer(graphqlUrl, apiKey, deadline);
    const ms = Math.round(performance.now() - started);
    const cpuByCommand = groupCpuMs(child.pid!);
    const cpuMs = Object.values(cpuByCommand).reduce((a, b) => a + b, 0);
    // Phases in ms since the launch: first npm's and tsx's own start-up (until start.ts's process began),
    // then start.ts's marks (relative to its process), then the banner and the first answer.
    const began = /^\[start\] process-began (\d+)$/m.exec(output);
    const offset = began ? Number(began[1]) - launchedAt : 0;
    const phases: Record<string, number> = { 'node-began': offset };
    for (const [, name, at] of output.matchAll(/^\[start\] ([\w:-]+) at (\d+) ms$/gm)) phases[name!] = offset + Number(at);
    phases.banner = bannerMs;
    phases['first-answer'] = ms;
    return { ms, cpuMs, cpuByCommand, phases, output };
  } finally {
    kill('SIGINT');
    const forced = setTimeout(() => kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(forced);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : Math.round((s[s.length / 2 - 1]! + s[s.length / 2]!) / 2);
};

const load = loadavg()[0]!;
console.error(`load average ${load.toFixed(2)} on ${availableParallelism()} cores (times inflate when it exceeds the cores)`);
try {
  const first = await startOnce();
  const builds = first.output.match(/^build: .*$/gm) ?? [];
  console.error(`first start  ${first.ms} ms  ${builds.join('; ')}`);
  const second: StartRun[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await startOnce();
    if (/^build: \w+ \(/m.test(run.output)) throw new Error(`a second start rebuilt something:\n${run.output}`);
    second.push(run);
    console.error(`second start ${run.ms} ms (cpu ${run.cpuMs} ms: ${JSON.stringify(run.cpuByCommand)})  ${Object.entries(run.phases).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  const secondStartMs = median(second.map((r) => r.ms));
  const phaseNames = [...new Set(second.flatMap((r) => Object.keys(r.phases)))];
  const phases = Object.fromEntries(phaseNames.map((name) => [name, median(second.map((r) => r.phases[name] ?? 0))]));
  const secondStartCpuMs = median(second.map((r) => r.cpuMs));
  console.log(JSON.stringify({ secondStartMs, secondStartCpuMs, runsMs: second.map((r) => r.ms), firstStartMs: first.ms, phases, loadAverage: Math.round(load * 100) / 100 }));
} catch (error) {
  console.error(`bench:start: ${(error as Error).message}`);
  process.exitCode = 1;
}
