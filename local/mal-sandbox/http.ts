/** HTTP plumbing of the MAL sandbox: errors in MAL's shapes, bodies, answers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** An answer of the sandbox's own making, thrown by handlers and written by the server. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message ?? body.error));
    this.name = 'HttpProblem';
  }
}

const MAX_BODY_BYTES = 1_000_000;

export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpProblem(413, { error: 'payload_too_large', message: 'request body too large' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function invalidToken(message = 'token is invalid'): HttpProblem {
  return new HttpProblem(
    401,
    { error: 'invalid_token', message },
    { 'WWW-Authenticate': `Bearer realm="myanimelist", error="invalid_token", error_description="${message}"` },
  );
}

export function badRequest(message: string): HttpProblem {
  return new HttpProblem(400, { error: 'bad_request', message });
}

export function notFound(): HttpProblem {
  return new HttpProblem(404, { error: 'not_found', message: '' });
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', ...headers });
  response.end(JSON.stringify(body));
}

export function sendHtml(response: ServerResponse, status: number, html: string) {
  response.writeHead(status, { 'Content-Type': 'text/html; charset=UTF-8' });
  response.end(html);
}

export function redirect(response: ServerResponse, location: string) {
  response.writeHead(302, { Location: location });
  response.end();
}
