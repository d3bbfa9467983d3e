/**
 * A raw AppSync real-time client for tests (the `ws` package): connects with either auth style, records
 * every message, and waits for the ones a test expects, always with a deadline.
 */
import WebSocket from 'ws';
import { HttpRequest } from '@smithy/protocol-http';
import { appsyncSigner, type IamCredentials } from '../../functions/shared/iam-signer';

export type Message = { type: string; id?: string; payload?: any };
export type AuthStyle = 'query' | 'subprotocol';

export class RealtimeClientTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RealtimeClientTimeout';
  }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export class RealtimeClient {
  readonly messages: Message[] = [];
  private waiters = new Set<() => void>();
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      this.messages.push(JSON.parse(raw.toString()));
      for (const wake of this.waiters) wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const wake of this.waiters) wake();
    });
  }

  /** Opens a connection; `header` is the auth header object AppSync clients send (host + credentials). */
  static connect(realtimeUrl: string, header: Record<string, unknown>, style: AuthStyle = 'query', options: { protocols?: string[]; ca?: string } = {}): Promise<RealtimeClient> {
    const url = style === 'query' ? `${realtimeUrl}?header=${encodeURIComponent(b64(header))}&payload=${encodeURIComponent(b64({}))}` : realtimeUrl;
    const protocols = options.protocols ?? (style === 'query' ? ['graphql-ws'] : ['graphql-ws', `header-${b64url(header)}`]);
    const socket = new WebSocket(url, protocols, { ca: options.ca });
    return new Promise((resolve, reject) => {
      const client = new RealtimeClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
    });
  }

  send(message: Record<string, unknown>) {
    this.socket.send(JSON.stringify(message));
  }

  /** connection_init and its connection_ack. */
  async init(timeoutMs = 5000): Promise<Message> {
    this.send({ type: 'connection_init' });
    return this.waitFor((m) => m.type === 'connection_ack' || m.type === 'connection_error', timeoutMs);
  }

  /** Sends `start` and waits for its start_ack or error. */
  async start(id: string, query: string, variables: Record<string, unknown>, authorization: Record<string, unknown>, timeoutMs = 5000): Promise<Message> {
    this.send({ id, type: 'start', payload: { data: JSON.stringify({ query, variables }), extensions: { authorization } } });
    return this.waitFor((m) => m.id === id && (m.type === 'start_ack' || m.type === 'error'), timeoutMs);
  }

  of(id: string, type = 'data'): Message[] {
    return this.messages.filter((m) => m.id === id && m.type === type);
  }

  /** The first message (from the start of the record) matching, or a timeout error. */
  waitFor(predicate: (m: Message) => boolean, timeoutMs = 5000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find(predicate);
        if (found) {
          done();
          resolve(found);
        } else if (this.closed) {
          done();
          reject(new RealtimeClientTimeout(`socket closed (${this.closed.code}) before the expected message; got ${JSON.stringify(this.messages.slice(-5))}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new RealtimeClientTimeout(`no matching message within ${timeoutMs} ms; last: ${JSON.stringify(this.messages.slice(-5))}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves once `count` messages match. */
  async waitForCount(predicate: (m: Message) => boolean, count: number, timeoutMs = 10_000): Promise<Message[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.filter(predicate);
      if (found.length >= count) return found;
      if (this.closed || Date.now() > deadline) throw new RealtimeClientTimeout(`only ${found.length}/${count} matching messages`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(1, deadline - Date.now()));
        this.waiters.add(wake);
      });
    }
  }

  waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new RealtimeClientTimeout('socket not closed in time')), timeoutMs);
      this.socket.once('close', (code, reason) => {
        clearTimeout(timer);
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  close(): Promise<void> {
    if (this.closed || this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.terminate();
        resolve();
      }, 1000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.close(1000);
    });
  }
}

export const apiKeyHeader = (graphqlUrl: string, apiKey: string) => ({ host: new URL(graphqlUrl).host, 'x-api-key': apiKey });
export const tokenHeader = (graphqlUrl: string, token: string) => ({ host: new URL(graphqlUrl).host, Authorization: token });

/**
 * IAM headers the way Amplify builds them: a SigV4 signature over a POST of `body` to `url`, with
 * accept, content-encoding and content-type signed as well.
 */
export async function iamHeader(url: string, body: string, region: string, credentials: IamCredentials): Promise<Record<string, string>> {
  const target = new URL(url);
  const request = new HttpRequest({
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port),
    path: target.pathname,
    headers: { accept: 'application/json, text/javascript', 'content-encoding': 'amz-1.0', 'content-type': 'application/json; charset=UTF-8', host: target.host },
    body,
  });
  const signed = await appsyncSigner(region, credentials).sign(request);
  return signed.headers as Record<string, string>;
}

/** Waits `ms` (to show that nothing more arrives). */
export const quiet = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
