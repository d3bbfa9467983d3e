/** The sandbox's API v2: users/@me, anime search and details, user lists, list-status writes. */
import { parseFields } from './catalog';
import { badRequest, notFound, readBody } from './http';
import { LIST_STATUSES, defaultListStatus, malTimestamp, type SandboxListStatus, type SandboxListStatusName, type SandboxUser } from './lists';
import { authenticate, pagingUrl, type Context, type SandboxState } from './state';

const DATE_FORMAT = /^\d{4}(-\d{2}(-\d{2})?)?$/;

/** MAL's `nsfw` parameter: `true` includes entries rated `black`; anything else leaves them out. */
function wantsNsfw(params: URLSearchParams): boolean {
  const value = params.get('nsfw');
  return value === 'true' || value === '1';
}

function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw badRequest(`invalid ${name}`);
  const value = Number(raw);
  if (value < min || value > max) throw badRequest(`invalid ${name}`);
  return value;
}

function listStatusForRead(status: SandboxListStatus, subFields: Set<string> | undefined): Record<string, unknown> {
  const read: Record<string, unknown> = {
    status: status.status,
    score: status.score,
    num_episodes_watched: status.num_episodes_watched,
    is_rewatching: status.is_rewatching,
    updated_at: status.updated_at,
  };
  if (status.start_date) read.start_date = status.start_date;
  if (status.finish_date) read.finish_date = status.finish_date;
  // Like MAL, the rarer fields only when asked for: list_status{num_times_rewatched,...}.
  for (const extra of ['num_times_rewatched', 'priority', 'rewatch_value', 'tags', 'comments'] as const) {
    if (subFields?.has(extra)) read[extra] = status[extra];
  }
  return read;
}

/** The PATCH answer: MAL returns the full list status (reads' names: `num_episodes_watched`). */
function listStatusForWrite(status: SandboxListStatus): Record<string, unknown> {
  return listStatusForRead(status, new Set(['num_times_rewatched', 'priority', 'rewatch_value', 'tags', 'comments']));
}

function animeNode(state: SandboxState, id: number, fields: Map<string, Set<string>>, user: SandboxUser | undefined, details: boolean) {
  const record = state.catalog.get(id);
  if (!record) return undefined;
  const node = state.catalog.toNode(record, fields, details);
  if (fields.has('my_list_status') && user) {
    const status = user.list.get(id);
    if (status) node.my_list_status = listStatusForRead(status, fields.get('my_list_status'));
  }
  return node;
}

function searchAnime(state: SandboxState, ctx: Context, user: SandboxUser | undefined) {
  const params = ctx.url.searchParams;
  const q = params.get('q') ?? '';
  if (q.length < 3 || q.length > 64) throw badRequest('invalid q');
  const limit = intParam(params, 'limit', 100, 1, 100);
  const offset = intParam(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const fields = parseFields(params.get('fields'));
  const results = state.catalog.search(q, { nsfw: wantsNsfw(params) });
  const page = results.slice(offset, offset + limit);
  const paging: Record<string, string> = {};
  if (offset + limit < results.length) paging.next = pagingUrl(state, '/v2/anime', params, offset + limit);
  if (offset > 0) paging.previous = pagingUrl(state, '/v2/anime', params, Math.max(0, offset - limit));
  return { data: page.map((r) => ({ node: animeNode(state, r.mal_id, fields, user, false) })), paging };
}

function animeList(state: SandboxState, ctx: Context, user: SandboxUser, path: string) {
  const params = ctx.url.searchParams;
  const limit = intParam(params, 'limit', 100, 1, 1000);
  const offset = intParam(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const statusFilter = params.get('status');
  if (statusFilter && !LIST_STATUSES.includes(statusFilter as SandboxListStatusName)) throw badRequest('invalid status');
  const sort = params.get('sort') ?? 'anime_title';
  const fields = parseFields(params.get('fields'));
  const nsfw = wantsNsfw(params);
  const entries = [...user.list.entries()]
    .filter(([, status]) => !statusFilter || status.status === statusFilter)
    // Without nsfw=true MAL silently leaves NSFW entries out of a list read too.
    .filter(([id]) => nsfw || !state.catalog.hiddenUnlessNsfw(id))
    .map(([id, status]) => ({ id, status, title: state.catalog.get(id)?.title ?? '' }));
  const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
  switch (sort) {
    case 'anime_title':
      entries.sort((a, b) => a.title.localeCompare(b.title) || byId(a, b));
      break;
    case 'list_updated_at':
      entries.sort((a, b) => b.status.updated_at.localeCompare(a.status.updated_at) || byId(a, b));
      break;
    case 'list_score':
      entries.sort((a, b) => b.status.score - a.status.score || byId(a, b));
      break;
    case 'anime_id':
      entries.sort(byId);
      break;
    default:
      throw badRequest('invalid sort');
  }
  const page = entries.slice(offset, offset + limit);
  const paging: Record<string, string> = {};
  if (offset + limit < entries.length) paging.next = pagingUrl(state, path, params, offset + limit);
  if (offset > 0) paging.previous = pagingUrl(state, path, params, Math.max(0, offset - limit));
  return {
    data: page.map((entry) => ({
      node: animeNode(state, entry.id, fields, user, false) ?? { id: entry.id, title: entry.title },
      ...(fields.has('list_status') ? { list_status: listStatusForRead(entry.status, fields.get('list_status')) } : {}),
    })),
    paging,
  };
}

function parseBoolean(value: string, name: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw badRequest(`invalid ${name}`);
}

function parseBoundedInt(value: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw badRequest(`invalid ${name}`);
  const parsed = Number(value);
  if (parsed < min || parsed > max) throw badRequest(`invalid ${name}`);
  return parsed;
}

async function updateListStatus(state: SandboxState, ctx: Context, user: SandboxUser, animeId: number) {
  const record = state.catalog.get(animeId);
  if (!record) throw notFound();
  const contentType = ctx.request.headers['content-type'] ?? '';
  const body = await readBody(ctx.request);
  if (body && !contentType.startsWith('application/x-www-form-urlencoded')) throw badRequest('invalid content type');
  const form = new URLSearchParams(body);
  const status = { ...(user.list.get(animeId) ?? defaultListStatus()) };
  for (const [name, value] of form) {
    switch (name) {
      case 'status':
        if (!LIST_STATUSES.includes(value as SandboxListStatusName)) throw badRequest('invalid status');
        status.status = value as SandboxListStatusName;
        break;
      case 'is_rewatching':
        status.is_rewatching = parseBoolean(value, name);
        break;
      case 'score':
        status.score = parseBoundedInt(value, name, 0, 10);
        break;
      case 'num_watched_episodes': {
        const episodes = parseBoundedInt(value, name, 0, 100_000);
        // MAL caps progress at the known episode count.
        status.num_episodes_watched = record.episodes ? Math.min(episodes, record.episodes) : episodes;
        break;
      }
      case 'num_times_rewatched':
        status.num_times_rewatched = parseBoundedInt(value, name, 0, 1000);
        break;
      case 'priority':
        status.priority = parseBoundedInt(value, name, 0, 2);
        break;
      case 'rewatch_value':
        status.rewatch_value = parseBoundedInt(value, name, 0, 5);
        break;
      case 'start_date':
      case 'finish_date':
        if (value === '') delete status[name];
        else if (DATE_FORMAT.test(value)) status[name] = value;
        else throw badRequest(`invalid ${name}`);
        break;
      case 'tags':
        status.tags = value.split(',').map((t) => t.trim()).filter(Boolean);
        break;
      case 'comments':
        status.comments = value;
        break;
      default:
        // MAL refuses a parameter it does not know (e.g. the read name num_episodes_watched).
        throw badRequest(`invalid ${name}`);
    }
  }
  status.updated_at = malTimestamp();
  user.list.set(animeId, status);
  state.lists.changed();
  return listStatusForWrite(status);
}

export async function handleApi(state: SandboxState, ctx: Context): Promise<unknown> {
  const method = ctx.request.method ?? 'GET';
  const path = ctx.url.pathname;
  if (method === 'GET' && path === '/v2/users/@me') {
    const { user } = authenticate(state, ctx, true);
    const me = user!;
    return { id: me.id, name: me.name, location: '', joined_at: me.joined_at };
  }
  const listMatch = /^\/v2\/users\/([^/]+)\/animelist$/.exec(path);
  if (method === 'GET' && listMatch) {
    const { user } = authenticate(state, ctx, listMatch[1] === '@me');
    const owner = listMatch[1] === '@me' ? user! : state.lists.findUser(decodeURIComponent(listMatch[1]));
    if (!owner) throw notFound();
    return animeList(state, ctx, owner, path);
  }
  if (method === 'GET' && path === '/v2/anime') {
    const { user } = authenticate(state, ctx, false);
    return searchAnime(state, ctx, user);
  }
  const detailMatch = /^\/v2\/anime\/([^/]+)$/.exec(path);
  if (method === 'GET' && detailMatch) {
    const { user } = authenticate(state, ctx, false);
    if (!/^\d+$/.test(detailMatch[1])) throw badRequest('invalid anime_id');
    const node = animeNode(state, Number(detailMatch[1]), parseFields(ctx.url.searchParams.get('fields')), user, true);
    if (!node) throw notFound();
    return node;
  }
  const statusMatch = /^\/v2\/anime\/([^/]+)\/my_list_status$/.exec(path);
  if (statusMatch && (method === 'PATCH' || method === 'PUT' || method === 'DELETE')) {
    const { user } = authenticate(state, ctx, true);
    if (!/^\d+$/.test(statusMatch[1])) throw badRequest('invalid anime_id');
    const animeId = Number(statusMatch[1]);
    if (method === 'DELETE') {
      if (!user!.list.delete(animeId)) throw notFound();
      state.lists.changed();
      return [];
    }
    return updateListStatus(state, ctx, user!, animeId);
  }
  throw notFound();
}
