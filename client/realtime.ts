/**
 * AppSync's real-time protocol for the extension, with the AnimeLog session token: one WebSocket for any
 * number of subscriptions. `connection_init` → `connection_ack{connectionTimeoutMs}`; each subscription
 * `start` → `start_ack` → `data`…; `stop` → `complete`. A connection that hears nothing (not even `ka`)
 * for connectionTimeoutMs is dead: the helper closes it, reconnects with exponential backoff and jitter,
 * and starts every live subscription again. Uses the platform's WebSocket (browsers, Node 22).
 */

export interface RealtimeAuth {
  /** `Authorization` (session token) or `x-api-key`, as for HTTP requests. */
  [header: string]: string;
}

export interface RealtimeOptions {
  realtimeUrl: string;
  /** Host of the GraphQL endpoint (AppSync checks it in the auth header). */
  graphqlHost: string;
  /** Current auth headers; called on every (re)connect, so a refreshed token is picked up. */
  auth: () => RealtimeAuth;
  /** First reconnect delay (doubles each failed attempt, with jitter), default 500 ms. */
  reconnectBaseMs?: number;
  /** Longest reconnect delay, default 30 s. */
  reconnectMaxMs?: number;
  /** Consecutive failed connects before giving up (each subscription gets `error`), default 8. */
  maxReconnectAttempts?: number;
  /** The WebSocket constructor (default: globalThis.WebSocket). */
  WebSocket?: typeof WebSocket;
}

export interface SubscriptionHandlers<T> {
  next(data: T): void;
  error?(error: RealtimeError): void;
  complete?(): void;
}

export class RealtimeError extends Error {
  constructor(
    message: string,
    readonly errors: unknown[] = [],
  ) {
    super(message);
    this.name = 'RealtimeError';
  }
}

interface Active {
  id: string;
  query: string;
  variables: Record<string, unknown>;
  handlers: SubscriptionHandlers<unknown>;
  acknowledged: boolean;
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export class RealtimeConnection {
  private socket: WebSocket | undefined;
  private readonly active = new Map<string, Active>();
  private ready = false;
  private stopped = false;
  private attempts = 0;
  private keepAliveTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private connectionTimeoutMs = 300_000;
  private readonly WebSocketImpl: typeof WebSocket;
  /** How many times a connection was (re)established; for callers that show connection state. */
  connects = 0;

  constructor(private readonly options: RealtimeOptions) {
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (!impl) throw new RealtimeError('no WebSocket implementation in this environment');
    this.WebSocketImpl = impl;
  }

  /** Subscribes; returns an unsubscribe function (sends `stop`). */
  subscribe<T>(query: string, variables: Record<string, unknown>, handlers: SubscriptionHandlers<T>): () => void {
    if (this.stopped) throw new RealtimeError('the real-time connection is stopped');
    const id = crypto.randomUUID();
    const entry: Active = { id, query, variables, handlers: handlers as SubscriptionHandlers<unknown>, acknowledged: false };
    this.active.set(id, entry);
    if (this.ready) this.start(entry);
    else this.connect();
    return () => {
      if (!this.active.delete(id)) return;
      if (this.ready) this.send({ type: 'stop', id });
      if (this.active.size === 0) this.closeSocket();
    };
  }

  /** Resolves when every current subscription has its `start_ack`. */
  async started(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ([...this.active.values()].some((a) => !a.acknowledged)) {
      if (Date.now() > deadline) throw new RealtimeError('subscriptions were not acknowledged in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Ends every subscription and the connection; nothing reconnects after it. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    for (const entry of this.active.values()) {
      if (this.ready) this.send({ type: 'stop', id: entry.id });
      entry.handlers.complete?.();
    }
    this.active.clear();
    this.closeSocket();
  }

  private header(): Record<string, string> {
    return { host: this.options.graphqlHost, ...this.options.auth() };
  }

  private connect(): void {
    if (this.socket || this.stopped || this.reconnectTimer) return;
    const url = `${this.options.realtimeUrl}?header=${encodeURIComponent(base64(JSON.stringify(this.header())))}&payload=${encodeURIComponent(base64('{}'))}`;
    const socket = new this.WebSocketImpl(url, ['graphql-ws']);
    this.socket = socket;
    socket.addEventListener('open', () => this.send({ type: 'connection_init' }));
    socket.addEventListener('message', (event) => this.onMessage(String(event.data)));
    socket.addEventListener('close', () => this.onClose(socket));
    socket.addEventListener('error', () => {
      // 'close' follows; reconnecting happens there.
    });
  }

  private onMessage(text: string): void {
    let message: { type?: string; id?: string; payload?: { data?: unknown; errors?: unknown[]; connectionTimeoutMs?: number } };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    this.armKeepAlive();
    switch (message.type) {
      case 'connection_ack':
        this.ready = true;
        this.attempts = 0;
        this.connects += 1;
        if (message.payload?.connectionTimeoutMs) this.connectionTimeoutMs = message.payload.connectionTimeoutMs;
        this.armKeepAlive();
        for (const entry of this.active.values()) this.start(entry);
        break;
      case 'start_ack': {
        const entry = message.id ? this.active.get(message.id) : undefined;
        if (entry) entry.acknowledged = true;
        break;
      }
      case 'data': {
        const entry = message.id ? this.active.get(message.id) : undefined;
        const data = message.payload?.data as Record<string, unknown> | undefined;
        if (entry && data) entry.handlers.next(Object.values(data)[0]);
        break;
      }
      case 'error': {
        const entry = message.id ? this.active.get(message.id) : undefined;
        if (entry) {
          this.active.delete(entry.id);
          entry.handlers.error?.(new RealtimeError('subscription refused', message.payload?.errors ?? []));
        }
        break;
      }
      case 'complete': {
        const entry = message.id ? this.active.get(message.id) : undefined;
        if (entry) {
          this.active.delete(entry.id);
          entry.handlers.complete?.();
        }
        break;
      }
      case 'connection_error':
        // Refused credentials will not get better by retrying: end every subscription.
        this.failAll(new RealtimeError('connection refused', message.payload?.errors ?? []));
        break;
      default:
        break; // ka: only the keep-alive timer cares
    }
  }

  private start(entry: Active): void {
    entry.acknowledged = false;
    this.send({
      id: entry.id,
      type: 'start',
      payload: { data: JSON.stringify({ query: entry.query, variables: entry.variables }), extensions: { authorization: this.header() } },
    });
  }

  private armKeepAlive(): void {
    clearTimeout(this.keepAliveTimer);
    if (!this.socket) return;
    const socket = this.socket;
    this.keepAliveTimer = setTimeout(() => {
      // Silence past the server's own timeout: treat the connection as dead.
      if (this.socket === socket) socket.close(4000, 'keep-alive timeout');
    }, this.connectionTimeoutMs);
  }

  private onClose(socket: WebSocket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.ready = false;
    clearTimeout(this.keepAliveTimer);
    if (this.stopped || this.active.size === 0) return;
    this.attempts += 1;
    const max = this.options.maxReconnectAttempts ?? 8;
    if (this.attempts > max) {
      this.failAll(new RealtimeError(`could not reconnect to ${this.options.realtimeUrl} after ${max} attempts`));
      return;
    }
    const base = this.options.reconnectBaseMs ?? 500;
    const cap = this.options.reconnectMaxMs ?? 30_000;
    const delay = Math.min(cap, base * 2 ** (this.attempts - 1)) * (0.5 + Math.random() / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private failAll(error: RealtimeError): void {
    const entries = [...this.active.values()];
    this.active.clear();
    for (const entry of entries) entry.handlers.error?.(error);
    this.closeSocket();
  }

  private closeSocket(): void {
    clearTimeout(this.keepAliveTimer);
    const socket = this.socket;
    this.socket = undefined;
    this.ready = false;
    if (socket && (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)) socket.close(1000);
  }

  private send(message: unknown): void {
    if (this.socket && this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }
}
