/**
 * `npm start`'s program as a user runs it: a child process that prints its endpoints and API key,
 * serves GraphQL (sign in through the MAL sandbox, then settings round-trip through DynamoDB Local),
 * and stops cleanly, with everything it started, on Ctrl-C (SIGINT).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { statSync } from 'node:fs';
import { ensureBuilt } from '../../local/build-cache';
import { expectLoopbackOnly } from '../support/listening';

const ROOT = resolve(import.meta.dirname, '../..');
let child: ChildProcess | undefined;

afterAll(() => {
  // A failed test leaves it running: its whole process group goes, DynamoDB Local's JVM included.
  if (child && child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
});

function waitForOutput(proc: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolveOutput, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; output so far:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolveOutput(output);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}:\n${output}`));
    });
  });
}

async function post(url: string, body: unknown, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return (await response.json()) as { data?: any; errors?: any[] };
}

describe('npm start', () => {
  it('prints its endpoints and API key, serves settings through DynamoDB Local, and stops on Ctrl-C', async () => {
    // `npm start` is this command. Whatever is stale is built first (as a first start would), so this
    // start, like a second `npm start` with nothing changed, must build nothing.
    ensureBuilt({ root: ROOT });
    const manifest = resolve(ROOT, 'dist/resolvers/manifest.json');
    const manifestBefore = statSync(manifest).mtimeMs;
    const spawnedAt = performance.now();
    // package.json's start command, with start.ts's phase report (ANIMELOG_START_TIMING) on stderr.
    child = spawn(resolve(ROOT, 'node_modules/.bin/node'), ['--import', 'tsx', 'local/start.ts', '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MAL_CLIENT_ID: '', MAL_CLIENT_SECRET: '', REDIRECT_URI: '', ANIMELOG_START_TIMING: '1' },
      // Its own process group, so a failed test can stop everything it started (see afterAll).
      detached: true,
    });
    const banner = await waitForOutput(child, /API key: \S+[\s\S]*heavy modules loaded: .*\n|heavy modules loaded: .*\n[\s\S]*API key: \S+/, 60_000);
    const graphqlUrl = /GraphQL:\s+(http:\/\/127\.0\.0\.1:\d+\/graphql)/.exec(banner)![1]!;
    const apiKey = /API key: (\S+)/.exec(banner)![1]!;
    const dynamodbUrl = /DynamoDB:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(banner)![1]!;
    expect(banner).toMatch(/Real-time:\s+ws:\/\/127\.0\.0\.1:\d+\/graphql\/realtime/);
    expect(banner).toMatch(/Console:\s+http:\/\/127\.0\.0\.1:\d+\//);
    expect(banner).toContain('build: codegen, resolvers, console up to date');
    expect(banner).not.toMatch(/build: \w+ \(/);
    expect(statSync(manifest).mtimeMs).toBe(manifestBefore);
    // Nothing changed, so nothing that only a build or the bundle check needs was loaded (eslint alone took seconds).
    expect(banner).toContain('[start] heavy modules loaded: none');
    // DynamoDB Local was started before the build check, not after the stack's modules.
    const at = (phase: string) => Number(new RegExp(`\\[start\\] ${phase} at (\\d+) ms`).exec(banner)?.[1]);
    expect(at('dynamodb-spawned')).toBeLessThanOrEqual(at('build-check'));
    const first = await post(graphqlUrl, { query: '{ __typename }' }, { 'x-api-key': apiKey });
    expect(first).toEqual({ data: { __typename: 'Query' } });
    // Every server it started listens on 127.0.0.1 only, DynamoDB Local's JVM included (the kernel's view).
    if (process.platform === 'linux') {
      const malUrl = /MAL:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(banner)![1]!;
      for (const url of [graphqlUrl, dynamodbUrl, malUrl]) expectLoopbackOnly(Number(new URL(url).port), url);
    }
    // Depends on the machine's load (≤ 3 s measured on an idle 2-core machine): reported, not asserted.
    console.log(`npm start with nothing changed answered after ${((performance.now() - spawnedAt) / 1000).toFixed(2)} s`);

    // Sign in as a sandbox user: startLogin → MAL's authorize URL → completeLogin.
    const callback = graphqlUrl.replace(/\/graphql$/, '/auth/callback');
    const secret = randomBytes(32).toString('base64url');
    const secretHash = createHash('sha256').update(secret).digest('base64url');
    const started = await post(
      graphqlUrl,
      { query: 'mutation($r: AWSURL!, $h: String!) { startLogin(redirectUri: $r, loginSecretHash: $h) { authorizeUrl } }', variables: { r: callback, h: secretHash } },
      { 'x-api-key': apiKey },
    );
    expect(started.errors).toBeUndefined();
    const authorize = new URL(started.data.startLogin.authorizeUrl);
    authorize.searchParams.set('sandbox_user', 'npm_start_user');
    const redirect = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const completed = await post(
      graphqlUrl,
      {
        query: 'mutation($c: String!, $s: String!, $k: String!) { completeLogin(code: $c, state: $s, loginSecret: $k) { sessionToken } }',
        variables: { c: redirect.searchParams.get('code'), s: redirect.searchParams.get('state'), k: secret },
      },
      { 'x-api-key': apiKey },
    );
    const session = { authorization: completed.data.completeLogin.sessionToken as string };

    const updated = await post(graphqlUrl, { query: 'mutation { updateSettings(input: { watchedThreshold: 0.75 }) { watchedThreshold } }' }, session);
    expect(updated).toEqual({ data: { updateSettings: { watchedThreshold: 0.75 } } });
    const read = await post(graphqlUrl, { query: '{ settings { watchedThreshold } }' }, session);
    expect(read).toEqual({ data: { settings: { watchedThreshold: 0.75 } } });

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(fetch(graphqlUrl, { method: 'POST', body: '{}' })).rejects.toThrow();
    // The DynamoDB Local it started is gone too.
    await expect(fetch(dynamodbUrl)).rejects.toThrow();
  }, 90_000);

  it('refuses a bad port with a clear message', async () => {
    const bad = spawn(resolve(ROOT, 'node_modules/.bin/tsx'), ['local/start.ts', '--port', 'abc'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((r) => bad.once('exit', r));
    expect(code).toBe(2);
    expect(err).toContain('the port must be a whole number');
  });
});
