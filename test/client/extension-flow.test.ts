/**
 * The extension's typed client (client/) against the local stack: sign in through the MAL sandbox, send
 * a history in two parts, follow the job live over the real-time helper, review a season that needs it,
 * and revert the sync. Plus the helper's own behaviour: resubscribing after a dropped connection, and treating a silent
 * connection (no `ka` within connectionTimeoutMs) as dead.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  AnimeLogClient,
  AnimeLogRequestError,
  CompleteLoginDocument,
  ConfirmMatchDocument,
  MatchCandidatesDocument,
  MeDocument,
  OnSyncProgressDocument,
  ProcessHistoryDocument,
  RealtimeConnection,
  RevertSyncDocument,
  SeriesDocument,
  StartLoginDocument,
  SyncJobDocument,
  createLoginSecret,
  type OnSyncProgressSubscription,
} from '../../client';
import { FAST_MAL_CLIENT, useTestStack } from '../support/stack';
import { day, v2Episode } from '../sync/support';

const stack = useTestStack({ malSandbox: { rateLimit: false }, env: FAST_MAL_CLIENT });

type Progress = NonNullable<OnSyncProgressSubscription['onSyncProgress']>;

function client(): AnimeLogClient {
  return new AnimeLogClient({ graphqlUrl: stack.graphqlUrl, realtimeUrl: stack.realtimeUrl, apiKey: stack.apiKey, realtime: { reconnectBaseMs: 50 } });
}

/** The extension's sign-in: startLogin with the hash of a secret it keeps, MAL's consent, completeLogin. */
async function signInWith(api: AnimeLogClient, malUser: string) {
  const { secret, hash } = await createLoginSecret();
  const redirectUri = stack.redirectUris.at(-1)!;
  const started = await api.request(StartLoginDocument, { redirectUri, loginSecretHash: hash }, 'apiKey');
  const authorize = new URL(started.startLogin.authorizeUrl);
  authorize.searchParams.set('sandbox_user', malUser);
  const consent = await fetch(authorize, { redirect: 'manual' });
  const back = new URL(consent.headers.get('location')!);
  const done = await api.request(CompleteLoginDocument, { code: back.searchParams.get('code')!, state: back.searchParams.get('state')!, loginSecret: secret }, 'apiKey');
  api.sessionToken = done.completeLogin.sessionToken;
  return done.completeLogin.viewer;
}

function history(from: number, to: number) {
  const frieren = { seriesId: 'GFRIEREN', seriesTitle: "Frieren: Beyond Journey's End", seasonId: 'GFR1', seasonTitle: "Frieren: Beyond Journey's End" };
  const unknown = { seriesId: 'GZZQ', seriesTitle: 'Zzyzx Quantum Bakery Chronicles', seasonId: 'GZZQ1', seasonTitle: 'Zzyzx Quantum Bakery Chronicles' };
  const data = [];
  for (let n = from; n <= to; n++) data.push(v2Episode({ ...frieren, episode: n, played: day(10 + n) }));
  if (from === 1) data.push(v2Episode({ ...unknown, episode: 1, played: day(2) }));
  return JSON.stringify({ data });
}

async function until<T>(read: () => Promise<T> | T, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the extension client', () => {
  const clients: AnimeLogClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it('signs in, sends a history in parts, follows progress live, reviews a match and reverts the sync', async () => {
    const api = client();
    clients.push(api);
    await expect(api.request(MeDocument, {})).rejects.toThrow(/not signed in/);
    const viewer = await signInWith(api, 'clientflow');
    const me = await api.request(MeDocument, {});
    expect(me.me).toMatchObject({ userId: viewer.userId, malUserName: 'clientflow' });

    const events: Progress[] = [];
    api.subscribe(OnSyncProgressDocument, {}, { next: (event) => event && events.push(event) });
    await api.realtime().started();

    const first = await api.request(ProcessHistoryDocument, { input: { history: history(1, 6), part: 1, totalParts: 2 } });
    expect(first.processHistory.status).toBe('RECEIVING');
    const second = await api.request(ProcessHistoryDocument, { input: { history: history(7, 10), part: 2, totalParts: 2, jobId: first.processHistory.jobId } });
    expect(second.processHistory).toMatchObject({ jobId: first.processHistory.jobId, receivedParts: 2 });

    const jobId = first.processHistory.jobId;
    const finished = await until(
      () => api.request(SyncJobDocument, { id: jobId }),
      (r) => ['SUCCEEDED', 'PARTIAL', 'FAILED'].includes(r.syncJob?.status ?? ''),
    );
    expect(finished.syncJob?.status).toBe('SUCCEEDED');
    // Live progress reached the client, ending with the job's final status.
    await until(() => events, (e) => e.some((x) => x.jobId === jobId && x.status === 'SUCCEEDED'), 15_000);
    const seqs = events.filter((e) => e.jobId === jobId).map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // The unknown show needs review; the user picks a candidate and the series shows it.
    const series = await api.request(SeriesDocument, { limit: 50 });
    const review = series.series.items.flatMap((s) => s.seasons).find((s) => s.match?.needsReview);
    expect(review?.seasonKey).toBeTruthy();
    const candidates = await api.request(MatchCandidatesDocument, { seasonKey: review!.seasonKey });
    const frieren = series.series.items.find((s) => s.seriesId === 'GFRIEREN')!.seasons[0].match!;
    const chosen = candidates.matchCandidates[0]?.malId ?? frieren.malId!;
    const confirmed = await api.request(ConfirmMatchDocument, { input: { seasonKey: review!.seasonKey, malId: chosen } });
    expect(confirmed.confirmMatch).toMatchObject({ seasonKey: review!.seasonKey, malId: chosen, source: 'USER', needsReview: false });

    // Undo the sync: a revert job, followed live like the sync; Frieren (added by the sync) leaves the list.
    const reverted = await api.request(RevertSyncDocument, { jobId });
    expect(reverted.revertSync).toMatchObject({ revertsJobId: jobId, status: 'QUEUED' });
    const revertJob = reverted.revertSync.jobId;
    await until(() => events, (e) => e.some((x) => x.jobId === revertJob && x.status === 'SUCCEEDED'), 30_000);
    const revertDone = await api.request(SyncJobDocument, { id: revertJob });
    expect(revertDone.syncJob?.status).toBe('SUCCEEDED');
    expect(stack.malSandbox!.getList('clientflow').map((e) => e.animeId)).not.toContain(frieren.malId);

    // API errors arrive typed.
    const refused = await api.request(ConfirmMatchDocument, { input: { seasonKey: 'not-mine', malId: 1 } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AnimeLogRequestError);
    expect((refused as AnimeLogRequestError).errorType).toMatch(/NotFound|ValidationError/);
  });

  it('resubscribes after the connection drops, and still gets the events', async () => {
    const api = client();
    clients.push(api);
    await signInWith(api, 'clientdrop');
    const sockets: WebSocket[] = [];
    const Tracking = class extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    };
    const connection = new RealtimeConnection({
      realtimeUrl: stack.realtimeUrl,
      graphqlHost: new URL(stack.graphqlUrl).host,
      auth: () => ({ authorization: api.sessionToken! }),
      reconnectBaseMs: 50,
      WebSocket: Tracking as typeof WebSocket,
    });
    const events: Progress[] = [];
    connection.subscribe<Progress>(OnSyncProgressDocument.toString(), {}, { next: (e) => events.push(e) });
    await connection.started();
    expect(connection.connects).toBe(1);

    sockets[0].close(4001, 'network gone');
    await until(() => connection.connects, (n) => n === 2, 10_000);
    await connection.started();

    const sent = await api.request(ProcessHistoryDocument, { input: { history: history(1, 2) } });
    await until(() => events, (e) => e.some((x) => x.jobId === sent.processHistory.jobId && x.status === 'SUCCEEDED'), 60_000);
    connection.stop();
  });

  it('treats a connection that stays silent past connectionTimeoutMs as dead and reconnects', async () => {
    // A server that acknowledges with a short timeout and then never sends `ka`.
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    let connections = 0;
    server.on('connection', (socket) => {
      connections += 1;
      socket.on('message', (raw) => {
        const message = JSON.parse(String(raw)) as { type: string; id?: string };
        if (message.type === 'connection_init') socket.send(JSON.stringify({ type: 'connection_ack', payload: { connectionTimeoutMs: 300 } }));
        if (message.type === 'start') socket.send(JSON.stringify({ type: 'start_ack', id: message.id }));
      });
    });
    const { port } = server.address() as AddressInfo;
    const connection = new RealtimeConnection({ realtimeUrl: `ws://127.0.0.1:${port}`, graphqlHost: '127.0.0.1', auth: () => ({ authorization: 'x' }), reconnectBaseMs: 20 });
    try {
      connection.subscribe('subscription { onSyncProgress { jobId } }', {}, { next: () => undefined });
      await until(() => connections, (n) => n >= 3, 10_000);
      expect(connection.connects).toBeGreaterThanOrEqual(2);
    } finally {
      connection.stop();
      for (const socket of server.clients) socket.terminate();
      await new Promise((r) => server.close(r));
    }
  });
});
