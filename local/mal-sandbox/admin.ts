/** The sandbox's admin endpoints under `/__sandbox` (tests and developers; MAL has nothing like them). */
import { badRequest, notFound, readBody } from './http';
import type { SandboxSeedEntry } from './lists';
import { getList, seedList, setFaults, type Context, type MalSandboxFaultUpdate, type SandboxState } from './state';

export async function handleAdmin(state: SandboxState, ctx: Context): Promise<unknown> {
  const method = ctx.request.method ?? 'GET';
  const path = ctx.url.pathname;
  if (path === '/__sandbox/faults') {
    if (method === 'GET') return { ...state.faults };
    if (method === 'POST') {
      let update: MalSandboxFaultUpdate;
      try {
        update = JSON.parse((await readBody(ctx.request)) || '{}') as MalSandboxFaultUpdate;
      } catch {
        throw badRequest('faults must be a JSON object');
      }
      return setFaults(state, update);
    }
  }
  if (path === '/__sandbox/stats' && method === 'GET') return state.stats;
  if (path === '/__sandbox/requests' && method === 'GET') {
    const since = Number(ctx.url.searchParams.get('since') ?? 0);
    return state.requestLog.filter((entry) => entry.seq > since);
  }
  const listMatch = /^\/__sandbox\/lists\/([^/]+)$/.exec(path);
  if (listMatch) {
    const userName = decodeURIComponent(listMatch[1]);
    if (method === 'GET') return getList(state, userName);
    if (method === 'POST') {
      const entries = JSON.parse((await readBody(ctx.request)) || '[]') as SandboxSeedEntry[];
      if (!Array.isArray(entries)) throw badRequest('a list seed is a JSON array');
      seedList(state, userName, entries);
      return getList(state, userName);
    }
  }
  if (path === '/__sandbox' && method === 'GET') {
    return { authBaseUrl: `${state.baseUrl}/v1/oauth2`, apiBaseUrl: `${state.baseUrl}/v2`, clientId: state.clientId, catalogSize: state.catalog.size };
  }
  throw notFound();
}
