/**
 * `npm start -- --mal-catalog FILE` as a developer runs it: a child process whose banner names the
 * catalog and its size, and whose MAL sandbox answers from that catalog (shows the fixture lacks).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { dynamodbEndpoint } from '../support/dynamo';

const ROOT = resolve(import.meta.dirname, '../..');
const FULL_CATALOG = '/work/shared/data/mal-catalog.jsonl.gz';
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** The program as a developer runs it; on the run's DynamoDB Local (starting one per program is slow on a busy machine). */
function start(args: string[]): ChildProcess {
  const child = spawn(resolve(ROOT, 'node_modules/.bin/tsx'), ['local/start.ts', '--port', '0', '--dynamodb-endpoint', dynamodbEndpoint(), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MAL_CLIENT_ID: '', MAL_CLIENT_SECRET: '', REDIRECT_URI: '' },
  });
  children.push(child);
  return child;
}

function output(proc: ChildProcess, until: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolveOutput, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${until} within ${timeoutMs} ms; output so far:\n${text}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (until.test(text)) {
        clearTimeout(timer);
        resolveOutput(text);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', () => {
      clearTimeout(timer);
      if (until.test(text)) resolveOutput(text);
      else reject(new Error(`exited before ${until}:\n${text}`));
    });
  });
}

describe('npm start -- --mal-catalog', () => {
  it('loads the given catalog into the sandbox and says which and how many entries in the banner', async () => {
    const child = start(['--mal-catalog', FULL_CATALOG]);
    const banner = await output(child, /API key: \S+/, 60_000);
    expect(banner).toMatch(/MAL catalog: \/work\/shared\/data\/mal-catalog\.jsonl\.gz \(28,206 entries\)/);
    const malUrl = /MAL:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(banner)![1]!;

    // A show the 50-entry fixture does not have.
    const { clientId } = (await (await fetch(`${malUrl}/__sandbox`)).json()) as { clientId: string };
    const search = (await (await fetch(`${malUrl}/v2/anime?q=mushishi&limit=3`, { headers: { 'X-MAL-CLIENT-ID': clientId } })).json()) as {
      data: Array<{ node: { id: number } }>;
    };
    expect(search.data.map((d) => d.node.id)).toContain(457);

    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 90_000);

  it('says so when it runs on the 50-entry fixture, and how to load the full catalog', async () => {
    const child = start([]);
    const banner = await output(child, /API key: \S+/, 60_000);
    expect(banner).toMatch(/MAL catalog: the test fixture \(50 entries\); for every show: --mal-catalog \.\.\/shared\/data\/mal-catalog\.jsonl\.gz/);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 90_000);

  it('refuses a catalog file that does not exist, naming it', async () => {
    const child = start(['--mal-catalog', 'no/such/catalog.jsonl.gz']);
    const text = await output(child, /--mal-catalog: no such file/, 30_000);
    const code = child.exitCode ?? (await new Promise<number | null>((r) => child.once('exit', r)));
    expect(code).toBe(2);
    expect(text).toContain(resolve(ROOT, 'no/such/catalog.jsonl.gz'));
  });
});
