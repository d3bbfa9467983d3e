/** The sandbox's admin endpoints under `/__sandbox` (tests and developers; MAL has nothing like them). */
import { CatalogUpdateError, type NsfwLevel } from './catalog';
import { badRequest, notFound, readBody } from './http';
import { LIST_STATUSES, type SandboxSeedEntry } from './lists';
import { getList, seedList, setFaults, type Context, type MalSandboxFaultUpdate, type SandboxState } from './state';

async function readJson(ctx: Context, fallback: string, what: string): Promise<unknown> {
  try {
    return JSON.parse((await readBody(ctx.request)) || fallback) as unknown;
  } catch {
    throw badRequest(`${what} must be JSON`);
  }
}

/** A list seed: `[{animeId, status?, score?, num_episodes_watched?, …}]`, checked so a typo is not stored. */
function checkSeed(state: SandboxState, value: unknown): SandboxSeedEntry[] {
  if (!Array.isArray(value)) throw badRequest('a list seed is a JSON array of {animeId, status?, score?, num_episodes_watched?, ...}');
  value.forEach((entry: Partial<SandboxSeedEntry>, i) => {
    if (typeof entry !== 'object' || entry === null || !Number.isInteger(entry.animeId) || !state.catalog.has(entry.animeId!)) {
      throw badRequest(`seed[${i}].animeId must be the id of a catalog entry`);
    }
    if (entry.status !== undefined && !LIST_STATUSES.includes(entry.status)) throw badRequest(`seed[${i}].status must be one of ${LIST_STATUSES.join(', ')}`);
  });
  return value as SandboxSeedEntry[];
}

/** `POST /__sandbox/anime/{id}` `{nsfw?: white|gray|black, related?: [{id, relation_type}]}`. */
function updateAnime(state: SandboxState, animeId: number, value: unknown) {
  if (typeof value !== 'object' || value === null) throw badRequest('an anime update is a JSON object');
  const update = value as { nsfw?: NsfwLevel; related?: Array<{ id: number; relation_type: string }> };
  try {
    if (update.nsfw !== undefined) state.catalog.setNsfw(animeId, update.nsfw);
    for (const relation of update.related ?? []) state.catalog.addRelation(animeId, relation.id, relation.relation_type);
  } catch (error) {
    if (error instanceof CatalogUpdateError) throw badRequest(error.message);
    throw error;
  }
  const record = state.catalog.get(animeId)!;
  return { id: animeId, nsfw: record.nsfw ?? 'white', related_anime: state.catalog.relatedAnime(animeId) };
}

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
      seedList(state, userName, checkSeed(state, await readJson(ctx, '[]', 'a list seed')));
      return getList(state, userName);
    }
  }
  const animeMatch = /^\/__sandbox\/anime\/(\d+)$/.exec(path);
  if (animeMatch && method === 'POST') return updateAnime(state, Number(animeMatch[1]), await readJson(ctx, '{}', 'an anime update'));
  if (path === '/__sandbox' && method === 'GET') {
    return { authBaseUrl: `${state.baseUrl}/v1/oauth2`, apiBaseUrl: `${state.baseUrl}/v2`, clientId: state.clientId, catalogSize: state.catalog.size };
  }
  throw notFound();
}
