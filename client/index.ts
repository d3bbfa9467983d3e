/**
 * The extension's typed AnimeLog client: every operation in client/operations/ as a typed document
 * (codegen), sent over HTTP with the API key or the session token, and subscriptions through the
 * real-time helper. `sessionToken` is kept on the client once sign-in completes.
 */
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import { RealtimeConnection, type RealtimeOptions, type SubscriptionHandlers } from './realtime';

export * from './generated/operations';
export { RealtimeConnection, RealtimeError, type SubscriptionHandlers } from './realtime';

export interface AnimeLogClientOptions {
  graphqlUrl: string;
  realtimeUrl: string;
  apiKey: string;
  sessionToken?: string;
  /** Reconnect tuning of the real-time helper. */
  realtime?: Pick<RealtimeOptions, 'reconnectBaseMs' | 'reconnectMaxMs' | 'maxReconnectAttempts'>;
  fetch?: typeof fetch;
}

/** A GraphQL error as AppSync returns it. */
export interface AnimeLogGraphQLError {
  message: string;
  errorType?: string;
  errorInfo?: Record<string, unknown> | null;
  path?: (string | number)[];
}

export class AnimeLogRequestError extends Error {
  constructor(
    message: string,
    readonly errors: AnimeLogGraphQLError[],
    readonly status: number,
  ) {
    super(message);
    this.name = 'AnimeLogRequestError';
  }

  /** The first error's type (ValidationError, LimitExceeded, …), for callers that branch on it. */
  get errorType(): string | undefined {
    return this.errors[0]?.errorType;
  }
}

type Doc<R, V> = DocumentTypeDecoration<R, V> & { toString(): string };

export class AnimeLogClient {
  sessionToken: string | undefined;
  private realtimeConnection: RealtimeConnection | undefined;

  constructor(private readonly options: AnimeLogClientOptions) {
    this.sessionToken = options.sessionToken;
  }

  private authHeaders(auth: 'apiKey' | 'session'): Record<string, string> {
    if (auth === 'apiKey') return { 'x-api-key': this.options.apiKey };
    if (!this.sessionToken) throw new AnimeLogRequestError('not signed in: complete a sign-in first', [], 0);
    return { authorization: this.sessionToken };
  }

  /** Runs one query or mutation; throws AnimeLogRequestError with AppSync's errors when it has any. */
  async request<R, V>(document: Doc<R, V>, variables: V, auth: 'apiKey' | 'session' = 'session'): Promise<R> {
    const response = await (this.options.fetch ?? fetch)(this.options.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.authHeaders(auth) },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    let body: { data?: R | null; errors?: AnimeLogGraphQLError[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new AnimeLogRequestError(`${this.options.graphqlUrl} answered ${response.status} without JSON`, [], response.status);
    }
    if (body.errors?.length) throw new AnimeLogRequestError(body.errors.map((e) => e.message).join('; '), body.errors, response.status);
    if (!response.ok || !body.data) throw new AnimeLogRequestError(`${this.options.graphqlUrl} answered ${response.status}`, [], response.status);
    return body.data;
  }

  /** Subscribes with the session token over the shared real-time connection; returns unsubscribe. */
  subscribe<R, V>(document: Doc<R, V>, variables: V, handlers: SubscriptionHandlers<R[keyof R]>): () => void {
    return this.realtime().subscribe(document.toString(), (variables ?? {}) as Record<string, unknown>, handlers as SubscriptionHandlers<unknown>);
  }

  /** The real-time connection (created on first use). */
  realtime(): RealtimeConnection {
    this.realtimeConnection ??= new RealtimeConnection({
      realtimeUrl: this.options.realtimeUrl,
      graphqlHost: new URL(this.options.graphqlUrl).host,
      auth: () => this.authHeaders('session'),
      ...this.options.realtime,
    });
    return this.realtimeConnection;
  }

  /** Closes the real-time connection. */
  close(): void {
    this.realtimeConnection?.stop();
    this.realtimeConnection = undefined;
  }
}

/** A client-held sign-in secret and its hash for startLogin (base64url SHA-256), with Web Crypto. */
export async function createLoginSecret(): Promise<{ secret: string; hash: string }> {
  const bytes = crypto.getRandomValues(new Uint8Array(48));
  const secret = base64Url(bytes);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret)));
  return { secret, hash: base64Url(digest) };
}

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
