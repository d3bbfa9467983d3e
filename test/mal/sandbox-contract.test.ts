/**
 * Where MAL's real contract differs from a naive OAuth/REST server, the sandbox answers as MAL does:
 * refused refresh tokens, NSFW hiding, the documented 403 throttle, unknown PATCH fields, apps without a
 * client secret, the 31-day `expires_in`, every relation type, every media type, the user-name rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog, RELATION_LABELS, startMalSandbox, type MalSandbox } from '../../local/mal-sandbox';
import { REDIRECT_URI, authorizeAs, authorizeUrl, newVerifier, signIn, tokenRequest } from './helpers';

let sandbox: MalSandbox;

beforeAll(async () => {
  sandbox = await startMalSandbox({ rateLimit: false });
});
afterAll(async () => {
  await sandbox.close();
});

const api = (path: string, token?: string, init: RequestInit = {}) =>
  fetch(`${sandbox.apiBaseUrl}${path}`, {
    ...init,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : { 'X-MAL-CLIENT-ID': sandbox.clientId }), ...(init.headers ?? {}) },
  });

const patch = (token: string, animeId: number, form: Record<string, string>) =>
  api(`/anime/${animeId}/my_list_status`, token, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });

const REFUSED_REFRESH = { error: 'invalid_request', message: 'The refresh token is invalid.' };

describe('refresh tokens MAL refuses', () => {
  it('answers 400 invalid_request "The refresh token is invalid." for a spent, a revoked and an unknown refresh token', async () => {
    const tokens = await signIn(sandbox, 'refusal');
    const form = { grant_type: 'refresh_token', client_id: sandbox.clientId, client_secret: sandbox.clientSecret, refresh_token: tokens.refresh_token };
    const first = await tokenRequest(sandbox, form);
    expect(first.status).toBe(200);

    const spent = await tokenRequest(sandbox, form);
    expect(spent.status).toBe(400);
    expect(spent.body).toMatchObject(REFUSED_REFRESH);
    expect(spent.body.error).not.toBe('invalid_grant');

    sandbox.setFaults({ revokeRefreshTokens: 'refusal' });
    const revoked = await tokenRequest(sandbox, { ...form, refresh_token: first.body.refresh_token as string });
    expect(revoked).toMatchObject({ status: 400, body: REFUSED_REFRESH });

    const unknown = await tokenRequest(sandbox, { ...form, refresh_token: 'never-issued' });
    expect(unknown).toMatchObject({ status: 400, body: REFUSED_REFRESH });
  });

  it('keeps invalid_grant for authorization codes', async () => {
    const verifier = newVerifier();
    const code = await authorizeAs(sandbox, 'codeuser', verifier);
    const form = { grant_type: 'authorization_code', client_id: sandbox.clientId, client_secret: sandbox.clientSecret, code, code_verifier: verifier, redirect_uri: REDIRECT_URI };
    expect((await tokenRequest(sandbox, form)).status).toBe(200);
    expect(await tokenRequest(sandbox, form)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});

describe('NSFW entries', () => {
  it('leaves entries rated black out of searches and list reads unless nsfw=true; details still answer', async () => {
    const flagged = await fetch(`${sandbox.url}/__sandbox/anime/30276`, { method: 'POST', body: JSON.stringify({ nsfw: 'black' }) });
    expect(flagged.status).toBe(200);
    const ids = async (path: string, token?: string) =>
      ((await (await api(path, token)).json()) as { data: Array<{ node: { id: number } }> }).data.map((d) => d.node.id);

    expect(await ids('/anime?q=one%20punch%20man&limit=10')).not.toContain(30276);
    expect(await ids('/anime?q=one%20punch%20man&limit=10&nsfw=false')).not.toContain(30276);
    expect(await ids('/anime?q=one%20punch%20man&limit=10&nsfw=true')).toContain(30276);
    // Other entries of the same title still match without nsfw.
    expect(await ids('/anime?q=one%20punch%20man&limit=10')).toContain(34134);

    const details = (await (await api('/anime/30276?fields=nsfw')).json()) as { id: number; nsfw: string };
    expect(details).toMatchObject({ id: 30276, nsfw: 'black' });

    const tokens = await signIn(sandbox, 'nsfwlist');
    sandbox.seedList('nsfwlist', [{ animeId: 30276, status: 'completed' }, { animeId: 1, status: 'completed' }]);
    expect(await ids('/users/@me/animelist?fields=list_status', tokens.access_token)).toEqual([1]);
    expect((await ids('/users/@me/animelist?fields=list_status&nsfw=true', tokens.access_token)).sort((a, b) => a - b)).toEqual([1, 30276]);

    const refused = await fetch(`${sandbox.url}/__sandbox/anime/30276`, { method: 'POST', body: JSON.stringify({ nsfw: 'red' }) });
    expect(refused.status).toBe(400);
  });
});

describe('throttling as MAL documents it', () => {
  it('throttles with 403 {"error":"forbidden"} by default, and 429 when asked', async () => {
    const throttled = await startMalSandbox({ faults: { rateLimitPerSecond: 1 } });
    try {
      expect(throttled.getFaults().throttleStatus).toBe(403);
      const get = () => fetch(`${throttled.apiBaseUrl}/anime/1`, { headers: { 'X-MAL-CLIENT-ID': throttled.clientId } });
      expect((await get()).status).toBe(200);
      const second = await get();
      expect(second.status).toBe(403);
      expect(second.headers.get('content-type')).toContain('application/json');
      expect(await second.json()).toEqual({ error: 'forbidden', message: '' });
      throttled.setFaults({ throttleStatus: 429 });
      const third = await get();
      expect(third.status).toBe(429);
    } finally {
      await throttled.close();
    }
  });
});

describe('list-status writes', () => {
  it('refuses a PATCH field MAL does not know with 400, and writes the known ones', async () => {
    const tokens = await signIn(sandbox, 'patcher');
    // The read name of progress is not a write field.
    const wrongName = await patch(tokens.access_token, 1, { status: 'watching', num_episodes_watched: '3' });
    expect(wrongName.status).toBe(400);
    expect(await wrongName.json()).toEqual({ error: 'bad_request', message: 'invalid num_episodes_watched' });
    expect(sandbox.getList('patcher')).toEqual([]);

    const known = await patch(tokens.access_token, 1, {
      status: 'watching', num_watched_episodes: '3', score: '7', is_rewatching: 'false', num_times_rewatched: '0', start_date: '2024-01-01', finish_date: '', priority: '1', rewatch_value: '0', tags: 'a,b', comments: 'c',
    });
    expect(known.status).toBe(200);
    expect(await known.json()).toMatchObject({ status: 'watching', num_episodes_watched: 3, score: 7, tags: ['a', 'b'] });
  });
});

describe('apps without a client secret (MAL app type "other")', () => {
  it('exchanges codes and refreshes with the client id alone, and refuses a secret', async () => {
    const other = await startMalSandbox({ appType: 'other', rateLimit: false });
    try {
      expect(other.clientSecret).toBe('');
      const verifier = newVerifier();
      const code = await authorizeAs(other, 'publicapp', verifier);
      const exchange = { grant_type: 'authorization_code', client_id: other.clientId, code, code_verifier: verifier, redirect_uri: REDIRECT_URI };
      const withSecret = await tokenRequest(other, { ...exchange, client_secret: 'anything' });
      expect(withSecret).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      const code2 = await authorizeAs(other, 'publicapp', verifier);
      const issued = await tokenRequest(other, { ...exchange, code: code2 });
      expect(issued.status).toBe(200);
      const refreshed = await tokenRequest(other, { grant_type: 'refresh_token', client_id: other.clientId, refresh_token: issued.body.refresh_token as string });
      expect(refreshed.status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('token lifetimes', () => {
  it('answers expires_in 2678400 (31 days) in the observed mode, 3600 as documented otherwise', async () => {
    const observed = await startMalSandbox({ tokenLifetimes: 'observed', rateLimit: false });
    try {
      expect((await signIn(observed, 'longlived')).expires_in).toBe(2_678_400);
    } finally {
      await observed.close();
    }
    expect((await signIn(sandbox, 'shortlived')).expires_in).toBe(3600);
  });
});

describe('related anime and media types', () => {
  it('states every MAL relation type with MAL’s labels, and its inverse on the other entry', async () => {
    const types = Object.keys(RELATION_LABELS);
    expect([...types].sort()).toEqual(
      ['alternative_setting', 'alternative_version', 'character', 'full_story', 'other', 'parent_story', 'prequel', 'sequel', 'side_story', 'spin_off', 'summary'].sort(),
    );
    const from = 9253; // Steins;Gate
    const targets = [1, 5, 6, 1535, 5114, 30276, 31240, 31964, 37999, 38000, 40748];
    const related = types.map((relation_type, i) => ({ id: targets[i], relation_type }));
    const posted = await fetch(`${sandbox.url}/__sandbox/anime/${from}`, { method: 'POST', body: JSON.stringify({ related }) });
    expect(posted.status).toBe(200);
    const details = (await (await api(`/anime/${from}?fields=related_anime`)).json()) as {
      related_anime: Array<{ node: { id: number }; relation_type: string; relation_type_formatted: string }>;
    };
    for (const { id, relation_type } of related) {
      expect(details.related_anime).toContainEqual(expect.objectContaining({ node: expect.objectContaining({ id }), relation_type, relation_type_formatted: RELATION_LABELS[relation_type] }));
    }
    // The summary names this entry as its full story; the sequel names it as its prequel.
    for (const [relation, inverse] of [['summary', 'full_story'], ['sequel', 'prequel'], ['spin_off', 'parent_story']]) {
      const target = related.find((r) => r.relation_type === relation)!.id;
      const other = (await (await api(`/anime/${target}?fields=related_anime`)).json()) as { related_anime: Array<{ node: { id: number }; relation_type: string }> };
      expect(other.related_anime).toContainEqual(expect.objectContaining({ node: expect.objectContaining({ id: from }), relation_type: inverse }));
    }
    const unknown = await fetch(`${sandbox.url}/__sandbox/anime/${from}`, { method: 'POST', body: JSON.stringify({ related: [{ id: 1, relation_type: 'cousin' }] }) });
    expect(unknown.status).toBe(400);
  });

  it('labels derived side stories as MAL does ("Side story")', async () => {
    const body = (await (await api('/anime/16498?fields=related_anime')).json()) as { related_anime: Array<{ node: { id: number }; relation_type: string; relation_type_formatted: string }> };
    expect(body.related_anime).toContainEqual(expect.objectContaining({ node: expect.objectContaining({ id: 18397 }), relation_type: 'side_story', relation_type_formatted: 'Side story' }));
  });

  it('answers tv_special, cm and pv media types as they are', async () => {
    const catalog = new Catalog([
      { mal_id: 101, title: 'Sandbox Special', type: 'tv_special' },
      { mal_id: 102, title: 'Sandbox Commercial', type: 'cm' },
      { mal_id: 103, title: 'Sandbox Promotion', type: 'pv' },
    ]);
    const small = await startMalSandbox({ catalog, rateLimit: false });
    try {
      const types = [];
      for (const id of [101, 102, 103]) {
        const node = (await (await fetch(`${small.apiBaseUrl}/anime/${id}?fields=media_type`, { headers: { 'X-MAL-CLIENT-ID': small.clientId } })).json()) as { media_type: string };
        types.push(node.media_type);
      }
      expect(types).toEqual(['tv_special', 'cm', 'pv']);
      expect(small.catalogSource).toBe('in-memory');
    } finally {
      await small.close();
    }
  });
});

describe('user names and list seeding', () => {
  it('takes MAL user names of 2–16 letters, digits, _ or - and says so when one is refused', async () => {
    const verifier = newVerifier();
    const ok = await fetch(authorizeUrl(sandbox, { code_challenge: verifier, sandbox_user: 'a_b-c_d-e_f-g_h1' }), { redirect: 'manual' });
    expect(ok.status).toBe(302);
    const tooLong = await fetch(authorizeUrl(sandbox, { code_challenge: verifier, sandbox_user: 'a'.repeat(17) }), { redirect: 'manual' });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.text()).toContain('2–16 letters, digits, _ or -');
  });

  it('seeds a list over HTTP from [{animeId, status, ...}] and refuses entries it cannot store', async () => {
    const seed = (body: unknown) => fetch(`${sandbox.url}/__sandbox/lists/seeder`, { method: 'POST', body: JSON.stringify(body) });
    const seeded = await seed([{ animeId: 1, status: 'completed', num_episodes_watched: 26, score: 9 }, { animeId: 5 }]);
    expect(seeded.status).toBe(200);
    expect(await seeded.json()).toEqual([
      { animeId: 1, listStatus: expect.objectContaining({ status: 'completed', num_episodes_watched: 26, score: 9 }) },
      { animeId: 5, listStatus: expect.objectContaining({ status: 'plan_to_watch', num_episodes_watched: 0 }) },
    ]);
    expect((await seed([{ animeId: 99999999 }])).status).toBe(400);
    expect((await seed([{ animeId: 1, status: 'finished' }])).status).toBe(400);
    expect((await seed({ animeId: 1 })).status).toBe(400);
  });
});
