/**
 * A minimal HTTP/1.1 client for one origin, used by the data sources' DynamoDB client: keep-alive
 * connections (at most `maxConnections`, further requests queue), one request at a time on each (no
 * pipelining), responses framed by Content-Length or chunked encoding. node:http's client spent about
 * twice the CPU per call (request object, header validation, agent bookkeeping, streams), which mattered
 * at two DynamoDB calls per GraphQL request.
 *
 * A connection the server closed, or that failed, rejects its request with an error whose `code` is
 * Node's (ECONNRESET, EPIPE, ECONNREFUSED, ...), as node:http does, so callers can retry.
 */
import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface Http1Response {
  status: number;
  /** Header names in lower case; a repeated header keeps its first value. */
  headers: Record<string, string>;
  body: Buffer;
}

/** The server closed the connection before it answered (node:http calls this "socket hang up"). */
export class ConnectionClosedError extends Error {
  readonly code = 'ECONNRESET';
  constructor() {
    super('socket hang up');
    this.name = 'ConnectionClosedError';
  }
}

const HEADER_END = Buffer.from('\r\n\r\n');

interface Pending {
  resolve(response: Http1Response): void;
  reject(error: Error): void;
}

/** The body of a chunked response starting at `start`, or undefined while it is incomplete. */
export function decodeChunked(buffer: Buffer, start: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(buffer.toString('latin1', at, lineEnd).split(';')[0]!.trim(), 16);
    if (!Number.isInteger(size) || size < 0) throw new Error('bad chunk size in the response');
    at = lineEnd + 2;
    if (size === 0) {
      // Optional trailers, then an empty line.
      const trailerEnd = buffer.subarray(at - 2).indexOf(HEADER_END);
      if (trailerEnd < 0) return undefined;
      return { body: Buffer.concat(parts), end: at - 2 + trailerEnd + 4 };
    }
    if (buffer.length < at + size + 2) return undefined;
    parts.push(buffer.subarray(at, at + size));
    at += size + 2;
  }
}

class Connection {
  private buffer: Buffer | undefined;
  private pending: Pending | undefined;
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly onIdle: (connection: Connection) => void,
    private readonly onClosed: (connection: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.data(chunk);
      } catch (error) {
        this.fail(error as Error);
      }
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new ConnectionClosedError()));
    socket.on('end', () => socket.destroy());
  }

  send(request: string, pending: Pending): void {
    this.pending = pending;
    this.socket.ref();
    this.socket.write(request);
  }

  destroy(): void {
    this.fail(new Error('the client was destroyed'));
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.onClosed(this);
  }

  private fail(error: Error): void {
    this.close();
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }

  private data(chunk: Buffer): void {
    if (!this.pending) throw new Error('the server sent data without a request');
    const buffer = this.buffer ? Buffer.concat([this.buffer, chunk]) : chunk;
    this.buffer = buffer;
    const headEnd = buffer.indexOf(HEADER_END);
    if (headEnd < 0) return;
    const lines = buffer.toString('latin1', 0, headEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1]);
    if (!status) throw new Error(`not an HTTP/1.1 response: ${lines[0]!.slice(0, 80)}`);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (!(name in headers)) headers[name] = line.slice(colon + 1).trim();
    }
    const start = headEnd + 4;
    let body: Buffer;
    let end: number;
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0);
      end = start;
    } else if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const decoded = decodeChunked(buffer, start);
      if (!decoded) return;
      ({ body, end } = decoded);
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (!Number.isInteger(length) || length < 0) throw new Error('bad content-length in the response');
      if (buffer.length < start + length) return;
      body = buffer.subarray(start, start + length);
      end = start + length;
    } else {
      // Framed by the connection's end: not something DynamoDB sends; refuse rather than guess.
      throw new Error('a response without content-length or chunked encoding');
    }
    if (end !== buffer.length) throw new Error('the server sent more than the response');
    const pending = this.pending;
    this.pending = undefined;
    this.buffer = undefined;
    if (headers.connection?.toLowerCase() === 'close') this.close();
    else {
      // An idle connection does not keep the process alive (as node:http's keep-alive agent).
      this.socket.unref();
      this.onIdle(this);
    }
    pending.resolve({ status, headers, body });
  }
}

export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  private readonly waiting: Array<() => void> = [];
  private readonly host: string;
  private readonly port: number;
  private readonly secure: boolean;
  private destroyed = false;

  constructor(
    private readonly origin: URL,
    private readonly maxConnections = 50,
  ) {
    this.secure = origin.protocol === 'https:';
    this.host = origin.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(origin.port) || (this.secure ? 443 : 80);
  }

  /** POSTs `body` (a string, sent as UTF-8) to `path` with `headers` (names in lower case, no host/content-length). */
  post(path: string, headers: Record<string, string>, body: string): Promise<Http1Response> {
    let request = `POST ${path} HTTP/1.1\r\nhost: ${this.origin.host}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
    for (const name in headers) request += `${name}: ${headers[name]}\r\n`;
    request += `\r\n${body}`;
    return new Promise((resolve, reject) => {
      const start = () => {
        if (this.destroyed) return reject(new Error('the client was destroyed'));
        (this.idle.pop() ?? this.connect()).send(request, { resolve, reject });
      };
      if (this.idle.length > 0 || this.open.size < this.maxConnections) start();
      else this.waiting.push(start);
    });
  }

  /** Closes every connection; requests in flight or queued are rejected. */
  destroy(): void {
    this.destroyed = true;
    for (const connection of [...this.open]) connection.destroy();
    for (const start of this.waiting.splice(0)) start();
  }

  private connect(): Connection {
    const socket = this.secure ? tlsConnect({ host: this.host, port: this.port, servername: isIP(this.host) ? undefined : this.host }) : connect({ host: this.host, port: this.port });
    const connection = new Connection(
      socket,
      (idle) => {
        this.idle.push(idle);
        this.waiting.shift()?.();
      },
      (closed) => {
        this.open.delete(closed);
        const at = this.idle.indexOf(closed);
        if (at >= 0) this.idle.splice(at, 1);
        // A queued request may now open a connection of its own.
        if (!this.destroyed) this.waiting.shift()?.();
      },
    );
    this.open.add(connection);
    return connection;
  }
}
