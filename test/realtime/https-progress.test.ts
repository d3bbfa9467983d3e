/**
 * Live progress over `npm start -- --https`: a client that trusts only the stack's self-signed
 * certificate signs in over https://, subscribes over wss:// with AppSync's real-time protocol, and
 * receives the sync worker's progress events of a whole sync.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { FAST_MAL_CLIENT, useTestStack } from '../support/stack';
import { RealtimeClient, tokenHeader } from './support';

const stack = useTestStack({ temporaryHttps: true, console: false, malSandbox: { rateLimit: false }, env: FAST_MAL_CLIENT });
let ca: string;

beforeAll(() => {
  ca = readFileSync(stack.tls!.certPath, 'utf8');
});

/** GraphQL over https:// trusting exactly the stack's certificate (never the system store's). */
function gqlTls(query: string, variables: Record<string, unknown>, headers: Record<string, string>): Promise<{ data?: any; errors?: any[] }> {
  return new Promise((resolve, reject) => {
    const req = request(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, ca, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.end(JSON.stringify({ query, variables }));
  });
}

async function signInTls(malUser: string): Promise<string> {
  const apiKey = { 'x-api-key': stack.apiKey };
  const secret = randomBytes(32).toString('base64url');
  const secretHash = createHash('sha256').update(secret).digest('base64url');
  const started = await gqlTls('mutation($r: AWSURL!, $h: String!) { startLogin(redirectUri: $r, loginSecretHash: $h) { authorizeUrl } }', { r: stack.redirectUris.at(-1), h: secretHash }, apiKey);
  expect(started.errors).toBeUndefined();
  const authorize = new URL(started.data.startLogin.authorizeUrl);
  authorize.searchParams.set('sandbox_user', malUser);
  const consent = await fetch(authorize, { redirect: 'manual' });
  const back = new URL(consent.headers.get('location')!);
  const completed = await gqlTls(
    'mutation($c: String!, $s: String!, $k: String!) { completeLogin(code: $c, state: $s, loginSecret: $k) { sessionToken } }',
    { c: back.searchParams.get('code'), s: back.searchParams.get('state'), k: secret },
    apiKey,
  );
  expect(completed.errors).toBeUndefined();
  return completed.data.completeLogin.sessionToken;
}

const HISTORY = {
  items: [1, 2, 3].map((n) => ({
    seriesId: 'GSG',
    seriesTitle: 'Steins;Gate',
    seasonId: 'GSG1',
    seasonNumber: 1,
    episodeNumber: n,
    durationMs: 1_440_000,
    fullyWatched: true,
    watchedAt: `2026-01-0${n}T20:00:00Z`,
  })),
};

describe('live progress over HTTPS/WSS', () => {
  it('delivers every phase of a sync, to its last event, to a wss:// subscriber that trusts only the local certificate', async () => {
    const token = await signInTls('https_watcher');
    const ws = await RealtimeClient.connect(stack.realtimeUrl, tokenHeader(stack.graphqlUrl, token), 'subprotocol', { ca });
    try {
      expect((await ws.init()).type).toBe('connection_ack');
      const subscription = 'subscription { onSyncProgress { jobId seq status phase summary } }';
      expect(await ws.start('p1', subscription, {}, tokenHeader(stack.graphqlUrl, token))).toEqual({ type: 'start_ack', id: 'p1' });

      const queued = await gqlTls(
        'mutation($i: ProcessHistoryInput!) { processHistory(input: $i) { jobId } }',
        { i: { format: 'COMPACT', history: JSON.stringify(HISTORY) } },
        { authorization: token },
      );
      expect(queued.errors).toBeUndefined();
      const jobId = queued.data.processHistory.jobId as string;

      const last = await ws.waitFor((m) => m.id === 'p1' && m.type === 'data' && m.payload.data.onSyncProgress.summary !== null, 30_000);
      expect(last.payload.data.onSyncProgress).toMatchObject({ jobId, status: 'SUCCEEDED', phase: 'DONE' });
      const phases = ws.of('p1').map((m) => m.payload.data.onSyncProgress.phase);
      for (const phase of ['NORMALISING', 'MATCHING', 'READING_LIST', 'PLANNING', 'APPLYING', 'DONE']) expect(phases).toContain(phase);
      const seqs = ws.of('p1').map((m) => m.payload.data.onSyncProgress.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs[0]).toBe(1);
    } finally {
      await ws.close();
    }
  }, 60_000);
});
