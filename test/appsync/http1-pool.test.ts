/**
 * The data sources' HTTP/1.1 client against a raw TCP server on 127.0.0.1 that writes its answers byte
 * by byte as scripted: framing (Content-Length split across packets, chunked), connection reuse and
 * its limit, and a connection dropped mid-answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { Http1Pool, decodeChunked } from '../../local/appsync/http1-pool';

type Script = (socket: Socket, request: string) => void;
let server: Server;
let origin: URL;
const scripts: Script[] = [];
const requests: string[] = [];
let connections = 0;
const sockets = new Set<Socket>();

/** A whole request has arrived once its head and content-length bytes of body are in. */
function complete(text: string): boolean {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return false;
  const length = Number(/content-length: (\d+)/i.exec(text.slice(0, headEnd))?.[1] ?? 0);
  return Buffer.byteLength(text.slice(headEnd + 4)) >= length;
}

beforeAll(async () => {
  server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      if (!complete(text)) return;
      requests.push(text);
      const request = text;
      text = '';
      (scripts.shift() ?? ok('{}'))(socket, request);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = new URL(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

function ok(body: string, extra = ''): Script {
  return (socket) => socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

describe('Http1Pool', () => {
  it('sends one well-formed request and reads an answer split across packets', async () => {
    const pool = new Http1Pool(origin);
    requests.length = 0;
    const body = '{"é":"ü"}';
    scripts.push((socket) => {
      const answer = Buffer.from(`HTTP/1.1 400 Bad Request\r\nX-Amzn-ErrorType: Oops\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      // One byte at a time: the head and the body both arrive in pieces.
      let i = 0;
      const next = () => {
        if (i < answer.length) socket.write(answer.subarray(i, ++i), next);
      };
      next();
    });
    const response = await pool.post('/', { 'x-amz-target': 'DynamoDB_20120810.GetItem' }, body);
    expect(response.status).toBe(400);
    expect(response.headers['x-amzn-errortype']).toBe('Oops');
    expect(response.body.toString('utf8')).toBe(body);
    expect(requests[0]).toMatch(/^POST \/ HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\ncontent-length: 11\r\nx-amz-target: DynamoDB_20120810\.GetItem\r\n\r\n\{"é":"ü"\}$/);
    pool.destroy();
  });

  it('reads a chunked answer', async () => {
    const pool = new Http1Pool(origin);
    scripts.push((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      setTimeout(() => socket.write('6;ext=1\r\n world\r\n0\r\n\r\n'), 20);
    });
    const response = await pool.post('/', {}, '{}');
    expect(response.body.toString()).toBe('hello world');
    expect(decodeChunked(Buffer.from('3\r\nabc\r\n'), 0)).toBeUndefined();
    expect(() => decodeChunked(Buffer.from('zz\r\n'), 0)).toThrow(/chunk size/);
    pool.destroy();
  });

  it('reuses a kept-alive connection, opens no more than its limit, and queues the rest', async () => {
    const pool = new Http1Pool(origin, 2);
    const before = connections;
    for (let i = 0; i < 3; i++) expect((await pool.post('/', {}, `{"i":${i}}`)).status).toBe(200);
    expect(connections - before).toBe(1);
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.post('/', {}, `{"i":${i}}`)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(connections - before).toBe(2);
    pool.destroy();
  });

  it('opens a new connection after the server answers with connection: close', async () => {
    const pool = new Http1Pool(origin);
    const before = connections;
    scripts.push((socket) => {
      ok('{"a":1}', 'connection: close\r\n')(socket, '');
      socket.end();
    });
    expect((await pool.post('/', {}, '{}')).body.toString()).toBe('{"a":1}');
    expect((await pool.post('/', {}, '{}')).body.toString()).toBe('{}');
    expect(connections - before).toBe(2);
    pool.destroy();
  });

  it('rejects with ECONNRESET when the server drops the connection mid-answer, then works again', async () => {
    const pool = new Http1Pool(origin);
    scripts.push((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"partial"');
      setTimeout(() => socket.destroy(), 10);
    });
    await expect(pool.post('/', {}, '{}')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect((await pool.post('/', {}, '{}')).status).toBe(200);
    pool.destroy();
    await expect(pool.post('/', {}, '{}')).rejects.toThrow(/destroyed/);
  });
});
