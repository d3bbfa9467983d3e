/**
 * The local stack's HTTP front: `POST /graphql` (AppSync's GraphQL endpoint), `GET /` (the console
 * page, when one is registered), and WebSocket upgrades for `/graphql/realtime` (registered by the
 * real-time server). Bound to 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GraphQLApi } from './appsync/graphql-api';

/** AppSync rejects larger requests; ours match so clients learn the limit locally. */
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024;

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

function sendJson(res: ServerResponse, status: number, body: unknown) {
  // Encoded once: the length and the bytes sent come from the same buffer.
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length });
  res.end(bytes);
}

function readBody(req: IncomingMessage, limit: number): Promise<{ body: string } | { tooLarge: true }> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      resolve({ tooLarge: true });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve({ tooLarge: true });
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve({ body: Buffer.concat(chunks).toString('utf8') });
    });
    req.on('error', reject);
  });
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export class LocalHttpServer {
  readonly server: Server;
  private readonly routes = new Map<string, RouteHandler>();
  private readonly upgrades = new Map<string, UpgradeHandler>();

  constructor(private readonly api: GraphQLApi) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        console.error('[http] request failed:', (error as Error).message);
        if (!res.headersSent) sendJson(res, 500, { errors: [{ errorType: 'InternalFailure', message: 'An internal error occurred.' }] });
        else res.destroy();
      });
    });
    this.server.on('upgrade', (req, socket, head) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const handler = this.upgrades.get(path);
      if (handler) handler(req, socket, head);
      else socket.destroy();
    });
  }

  route(method: string, path: string, handler: RouteHandler) {
    this.routes.set(`${method} ${path}`, handler);
  }

  onUpgrade(path: string, handler: UpgradeHandler) {
    this.upgrades.set(path, handler);
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/graphql') {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-origin': '*',
          'access-control-allow-headers': 'content-type, x-api-key, authorization, x-amz-date, x-amz-security-token',
          'access-control-allow-methods': 'POST, OPTIONS',
        });
        res.end();
        return;
      }
      if (req.method !== 'POST') return sendJson(res, 405, { errors: [{ errorType: 'MethodNotAllowed', message: 'Use POST for GraphQL requests.' }] });
      return this.graphql(req, res);
    }
    const handler = this.routes.get(`${req.method} ${path}`);
    if (handler) return handler(req, res);
    sendJson(res, 404, { errors: [{ errorType: 'NotFound', message: `Nothing at ${req.method} ${path}` }] });
  }

  private async graphql(req: IncomingMessage, res: ServerResponse) {
    res.setHeader('access-control-allow-origin', '*');
    const read = await readBody(req, MAX_REQUEST_BYTES);
    if ('tooLarge' in read) {
      res.setHeader('connection', 'close');
      return sendJson(res, 413, {
        errors: [{ errorType: 'PayloadTooLarge', message: `The request is larger than ${MAX_REQUEST_BYTES} bytes; send large histories in parts (ProcessHistoryInput.part/totalParts).` }],
      });
    }
    let request: unknown;
    try {
      request = JSON.parse(read.body);
    } catch {
      return sendJson(res, 400, { errors: [{ errorType: 'MalformedHttpRequestException', message: 'The request body is not valid JSON.' }] });
    }
    if (!request || typeof request !== 'object' || Array.isArray(request)) {
      return sendJson(res, 400, { errors: [{ errorType: 'MalformedHttpRequestException', message: 'The request body must be a JSON object with a query.' }] });
    }
    const response = await this.api.executeHttp(request as Record<string, unknown>, headersOf(req), read.body);
    sendJson(res, response.status, response.body);
  }
}
