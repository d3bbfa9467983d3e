/// <reference lib="dom" />
/**
 * A small AppSync real-time client for the console page: one WebSocket per subscription, speaking the
 * protocol of local/realtime/server.ts exactly as AppSync's own clients do (subprotocol `graphql-ws`
 * plus a `header-<base64url>` subprotocol carrying the auth headers; `connection_init`, `start` with
 * `payload.data` as a JSON string and `payload.extensions.authorization`, `stop`).
 */

export interface RealtimeResult {
  data?: unknown;
  errors?: unknown[];
}

function base64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export interface Observer {
  next(value: RealtimeResult): void;
  error(error: unknown): void;
  complete(): void;
}

/**
 * Subscribes; an Observable as GraphiQL takes it. `unsubscribe()` sends `stop` and closes the socket at
 * once (an async generator could not: its `return()` waits behind a pending `next()`).
 */
export function subscribe(options: {
  realtimeUrl: string;
  graphqlHost: string;
  auth: Record<string, string>;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string | null;
}): { subscribe(observer: Partial<Observer>): { unsubscribe(): void } } {
  return {
    subscribe(observer) {
      const header = { host: options.graphqlHost, ...options.auth };
      const socket = new WebSocket(options.realtimeUrl, ['graphql-ws', `header-${base64Url(JSON.stringify(header))}`]);
      const id = crypto.randomUUID();
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        observer.complete?.();
        if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(1000);
      };
      const fail = (errors: unknown[]) => {
        if (finished) return;
        observer.next?.({ errors });
        finish();
      };

      socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
      socket.addEventListener('message', (event) => {
        const message = JSON.parse(String(event.data)) as { type: string; id?: string; payload?: { errors?: unknown[]; data?: unknown } };
        switch (message.type) {
          case 'connection_ack':
            socket.send(
              JSON.stringify({
                id,
                type: 'start',
                payload: {
                  data: JSON.stringify({ query: options.query, variables: options.variables ?? {}, operationName: options.operationName ?? undefined }),
                  extensions: { authorization: header },
                },
              }),
            );
            break;
          case 'data':
            if (message.id === id && !finished) observer.next?.({ data: message.payload?.data ?? null, ...(message.payload?.errors ? { errors: message.payload.errors } : {}) });
            break;
          case 'error':
          case 'connection_error':
            fail(message.payload?.errors ?? [{ message: message.type }]);
            break;
          case 'complete':
            if (message.id === id) finish();
            break;
          default:
            break; // ka, start_ack
        }
      });
      socket.addEventListener('close', finish);
      socket.addEventListener('error', () => fail([{ message: `Could not connect to ${options.realtimeUrl}` }]));

      return {
        unsubscribe() {
          if (finished) return;
          finished = true;
          if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'stop', id }));
          socket.close(1000);
        },
      };
    },
  };
}
