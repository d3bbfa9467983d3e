/**
 * The MAL sandbox: an HTTP server on 127.0.0.1 that follows MyAnimeList's OAuth 2 and API v2 contract
 * for what AnimeLog uses, with switchable misbehaviour (throttling, 5xx, latency, early token expiry).
 * This module routes requests and applies faults; oauth.ts, api.ts and admin.ts answer them over the
 * one state object of state.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Catalog, loadCatalog, DEFAULT_CATALOG_PATH } from './catalog';
import { ListStore, type SandboxListStatus, type SandboxSeedEntry } from './lists';
import { HttpProblem, escapeHtml, notFound, sendJson } from './http';
import { handleAuthorize, handleToken } from './oauth';
import { handleApi } from './api';
import { handleAdmin } from './admin';
import {
  clientKeyFor,
  createState,
  getList,
  isThrottled,
  record,
  seedList,
  setFaults,
  shouldInjectFailure,
  type Context,
  type MalSandboxFaults,
  type MalSandboxFaultUpdate,
  type MalSandboxOptions,
  type MalSandboxRequestLogEntry,
  type MalSandboxStats,
  type SandboxState,
} from './state';

export type { MalSandboxFaults, MalSandboxFaultUpdate, MalSandboxOptions, MalSandboxRequestLogEntry, MalSandboxStats } from './state';

export interface MalSandbox {
  url: string;
  authBaseUrl: string;
  apiBaseUrl: string;
  clientId: string;
  /** Empty for apps without a secret (`appType: 'other'`). */
  clientSecret: string;
  appType: 'web' | 'other';
  port: number;
  catalog: Catalog;
  /** Where the catalog came from: its file path, or `in-memory` for a Catalog passed in. */
  catalogSource: string;
  close(): Promise<void>;
  seedList(userName: string, entries: SandboxSeedEntry[]): void;
  getList(userName: string): Array<{ animeId: number; listStatus: SandboxListStatus }>;
  setFaults(update: MalSandboxFaultUpdate): MalSandboxFaults;
  getFaults(): MalSandboxFaults;
  /** Live, newest last; bounded by `requestLogLimit`. Never contains tokens. */
  readonly requestLog: MalSandboxRequestLogEntry[];
  readonly stats: MalSandboxStats;
}

function sendThrottled(state: SandboxState, response: ServerResponse): void {
  const { faults } = state;
  const headers: Record<string, string> =
    faults.throttleRetryAfterSeconds === null ? {} : { 'Retry-After': String(faults.throttleRetryAfterSeconds) };
  // Both carry MAL's JSON error shape; 403 is the one MAL's reference documents ("DoS detected").
  if (faults.throttleStatus === 429) sendJson(response, 429, { error: 'too_many_requests', message: '' }, headers);
  else sendJson(response, 403, { error: 'forbidden', message: '' }, headers);
}

async function handle(state: SandboxState, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const started = Date.now();
  const url = new URL(request.url ?? '/', state.baseUrl);
  const requestId = request.headers['x-request-id'];
  const log: MalSandboxRequestLogEntry = {
    seq: ++state.seq,
    at: new Date(started).toISOString(),
    method: request.method ?? 'GET',
    path: url.pathname,
    query: url.search,
    status: 0,
    durationMs: 0,
    ...(typeof requestId === 'string' ? { requestId } : {}),
  };
  const ctx: Context = { request, url, log };
  const isApi = url.pathname.startsWith('/v2/');
  const isToken = url.pathname === '/v1/oauth2/token';
  try {
    if (url.pathname.startsWith('/__sandbox')) {
      sendJson(response, 200, await handleAdmin(state, ctx));
    } else if (url.pathname === '/v1/oauth2/authorize') {
      await handleAuthorize(state, ctx, response);
    } else if (isApi || isToken) {
      if (state.faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, state.faults.latencyMs));
      if (isApi) {
        const clientKey = clientKeyFor(state, request);
        log.clientId = clientKey;
        if (isThrottled(state, clientKey)) {
          log.fault = 'throttled';
          sendThrottled(state, response);
          return;
        }
      }
      if (shouldInjectFailure(state)) {
        log.fault = 'injected';
        if (state.faults.failBody === 'json') {
          sendJson(response, state.faults.failStatus, { error: state.faults.failStatus === 403 ? 'forbidden' : 'sandbox_failure', message: '' });
        } else {
          response.writeHead(state.faults.failStatus, { 'Content-Type': 'text/html; charset=UTF-8' });
          response.end(`<html><body><h1>${state.faults.failStatus} sandbox failure</h1></body></html>`);
        }
        return;
      }
      sendJson(response, 200, isApi ? await handleApi(state, ctx) : await handleToken(state, ctx));
    } else if (url.pathname === '/' && request.method === 'GET') {
      sendJson(response, 200, { name: 'MAL sandbox', authBaseUrl: `${state.baseUrl}/v1/oauth2`, apiBaseUrl: `${state.baseUrl}/v2` });
    } else {
      throw notFound();
    }
  } catch (error) {
    if (error instanceof HttpProblem) {
      if (typeof error.body.error === 'string') log.error = error.body.error;
      if (url.pathname === '/v1/oauth2/authorize') {
        response.writeHead(error.status, { 'Content-Type': 'text/html; charset=UTF-8' });
        response.end(`<!doctype html><html><body><h1>Authorization error</h1><p>${escapeHtml(error.message)}</p></body></html>`);
      } else sendJson(response, error.status, error.body, error.headers);
    } else {
      sendJson(response, 500, { error: 'internal_error', message: error instanceof Error ? error.message : String(error) });
    }
  } finally {
    if (url.pathname !== '/__sandbox/requests') {
      log.status = response.statusCode;
      log.durationMs = Date.now() - started;
      record(state, log);
    }
  }
}

export async function startMalSandbox(options: MalSandboxOptions = {}): Promise<MalSandbox> {
  const catalogSource = options.catalog instanceof Catalog ? 'in-memory' : (options.catalog ?? DEFAULT_CATALOG_PATH);
  const catalog = options.catalog instanceof Catalog ? options.catalog : await loadCatalog(catalogSource);
  const lists = new ListStore(options.listsFile);
  const clientId = options.clientId ?? randomBytes(16).toString('hex');
  const clientSecret = options.appType === 'other' ? '' : (options.clientSecret ?? randomBytes(32).toString('hex'));
  const state = createState(options, catalog, lists, clientId, clientSecret);

  const server = createServer((request, response) => {
    handle(state, request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: 'internal_error', message: String(error) });
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  state.baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: state.baseUrl,
    authBaseUrl: `${state.baseUrl}/v1/oauth2`,
    apiBaseUrl: `${state.baseUrl}/v2`,
    clientId,
    clientSecret,
    appType: state.appType,
    port,
    catalog,
    catalogSource,
    async close() {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      await lists.flush();
    },
    seedList: (userName, entries) => seedList(state, userName, entries),
    getList: (userName) => getList(state, userName),
    setFaults: (update) => setFaults(state, update),
    getFaults: () => ({ ...state.faults }),
    requestLog: state.requestLog,
    get stats() {
      return { ...state.stats, byStatus: { ...state.stats.byStatus } };
    },
  };
}
