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

/**
 * Subscribes and yields each `data` payload ({data} or {errors}) until the server completes, the socket
 * closes, or the consumer stops iterating (which sends `stop`).
 */
export async function* subscribe(options: {
  realtimeUrl: string;
  graphqlHost: string;
  auth: Record<string, string>;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string | null;
}): AsyncGenerator<RealtimeResult> {
  const header = { host: options.graphqlHost, ...options.auth };
  const socket = new WebSocket(options.realtimeUrl, ['graphql-ws', `header-${base64Url(JSON.stringify(header))}`]);
  const id = crypto.randomUUID();
  const queue: RealtimeResult[] = [];
  let done = false;
  let wake: (() => void) | null = null;
  const push = (item: RealtimeResult | null) => {
    if (item) queue.push(item);
    else done = true;
    wake?.();
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
        if (message.id === id) push({ data: message.payload?.data ?? null, ...(message.payload?.errors ? { errors: message.payload.errors } : {}) });
        break;
      case 'error':
      case 'connection_error':
        push({ errors: message.payload?.errors ?? [{ message: message.type }] });
        push(null);
        break;
      case 'complete':
        if (message.id === id) push(null);
        break;
      default:
        break; // ka, start_ack
    }
  });
  socket.addEventListener('close', () => push(null));
  socket.addEventListener('error', () => {
    push({ errors: [{ message: `Could not connect to ${options.realtimeUrl}` }] });
    push(null);
  });

  try {
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift()!;
        continue;
      }
      if (done) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: 'stop', id }));
      socket.close(1000);
    } else if (socket.readyState === WebSocket.CONNECTING) {
      socket.close();
    }
  }
}
