/**
 * Shared by bench:sync and bench:capacity: GraphQL calls against a local stack, sign-in as a sandbox user,
 * sending a history and waiting for its job, and realistic Crunchyroll histories drawn from the MAL catalog.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { LocalStack } from '../local/stack';
import type { CatalogEntry } from '../functions/matching/catalog-source';

/** Deterministic PRNG (mulberry32): the same seed gives the same histories on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export class GraphQLCallError extends Error {
  constructor(
    message: string,
    readonly errorType?: string,
    readonly errorInfo?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** One GraphQL call; a LimitExceeded answer is waited out (bounded) and retried once per wait. */
export async function gql(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { data?: any; errors?: Array<{ message: string; errorType?: string; errorInfo?: Record<string, unknown> }> };
    const error = body.errors?.[0];
    if (!error) return body.data;
    if (error.errorType === 'LimitExceeded' && attempt < 3) {
      const retryAfter = Number(error.errorInfo?.retryAfterSeconds) || 1;
      await new Promise((r) => setTimeout(r, Math.min(retryAfter, 60) * 1000));
      continue;
    }
    throw new GraphQLCallError(`GraphQL: ${body.errors!.map((e) => `${e.errorType}: ${e.message}`).join('; ')}`, error.errorType, error.errorInfo);
  }
}

/** Signs `malUser` in through the API (the sandbox's scripted consent); returns the session headers. */
export async function signIn(stack: LocalStack, malUser: string): Promise<Record<string, string>> {
  // The client keeps a secret for the sign-in and sends only its hash first.
  const secret = randomBytes(32).toString('base64url');
  const hash = createHash('sha256').update(secret).digest('base64url');
  const login = await gql(
    stack.graphqlUrl,
    'mutation($r: AWSURL!, $h: String!) { startLogin(redirectUri: $r, loginSecretHash: $h) { authorizeUrl state } }',
    { r: stack.redirectUris.at(-1), h: hash },
    { 'x-api-key': stack.apiKey },
  );
  const authorize = new URL(login.startLogin.authorizeUrl);
  authorize.searchParams.set('sandbox_user', malUser);
  const redirect = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
  const completed = await gql(
    stack.graphqlUrl,
    'mutation($c: String!, $s: String!, $k: String!) { completeLogin(code: $c, state: $s, loginSecret: $k) { sessionToken } }',
    { c: redirect.searchParams.get('code'), s: redirect.searchParams.get('state'), k: secret },
    { 'x-api-key': stack.apiKey },
  );
  return { authorization: completed.completeLogin.sessionToken as string };
}

/** Sends `history` (a document's list key and its entries) in parts; returns the job id. */
export async function sendHistory(stack: LocalStack, headers: Record<string, string>, listKey: 'data' | 'items', entries: unknown[], partSize = 2000): Promise<string> {
  const totalParts = Math.max(1, Math.ceil(entries.length / partSize));
  let jobId: string | undefined;
  for (let part = 1; part <= totalParts; part++) {
    const slice = entries.slice((part - 1) * partSize, part * partSize);
    const history = JSON.stringify(listKey === 'data' ? { total: slice.length, data: slice, meta: {} } : { items: slice });
    const out = await gql(
      stack.graphqlUrl,
      'mutation($input: ProcessHistoryInput!) { processHistory(input: $input) { jobId status } }',
      { input: { history, part, totalParts, ...(jobId ? { jobId } : {}) } },
      headers,
    );
    jobId = out.processHistory.jobId;
  }
  return jobId!;
}

export const FINAL_STATUSES = ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'];

export interface JobView {
  status: string;
  phase: string;
  counts: { historyItems: number; seasons: number; matched: number; needsReview: number; planned: number; applied: number; failed: number };
  errors: Array<{ errorType: string; message: string }>;
}

/** Polls the job until it ends (bounded by `timeoutMs`). */
export async function waitForJob(stack: LocalStack, headers: Record<string, string>, jobId: string, timeoutMs: number, pollMs = 250): Promise<JobView> {
  const started = performance.now();
  for (;;) {
    const job = (await gql(stack.graphqlUrl, 'query($id: ID!) { syncJob(id: $id) { status phase counts { historyItems seasons matched needsReview planned applied failed } errors { errorType message } } }', { id: jobId }, headers))
      .syncJob as JobView;
    if (FINAL_STATUSES.includes(job.status)) return job;
    if (performance.now() - started > timeoutMs) throw new Error(`job ${jobId} did not finish in ${timeoutMs / 1000} s: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

// ---------- realistic CR histories from the MAL catalog ----------

/** One Crunchyroll season of a generated history, and the MAL entry it really is. */
export interface CrShowSeason {
  seriesId: string;
  seriesTitle: string;
  seasonId: string;
  seasonTitle: string;
  seasonNumber: number;
  /** The MAL entry this season is (a dub: the entry of its original). */
  malId: number;
  /** Episodes the MAL entry has (when the catalog knows; else what CR lists). */
  episodeCount: number;
  /** CR's episode numbers run on from the previous season (13, 14, … for a second season). */
  episodeNumberOffset: number;
  /** The MAL entry's first air date (YYYY-MM-DD) when the catalog has one: CR's air dates follow it. */
  startDate?: string;
  dub?: { of: string; versions: boolean };
}

/** What a franchise-season pool is built from: TV entries with a TVDB season, grouped by TVDB show. */
export interface CatalogFranchise {
  tvdbId: number;
  seasons: CatalogEntry[];
}

export function catalogFranchises(entries: CatalogEntry[]): CatalogFranchise[] {
  const byShow = new Map<number, Map<number, CatalogEntry>>();
  for (const entry of entries) {
    const tvdb = entry.tvdb;
    if (!tvdb || entry.type !== 'tv' || tvdb.season < 1 || tvdb.epoffset !== 0) continue;
    if (!entry.year || entry.year < 2006 || entry.year > 2024 || !entry.title) continue;
    const seasons = byShow.get(tvdb.id) ?? new Map<number, CatalogEntry>();
    const known = seasons.get(tvdb.season);
    if (!known || entry.mal_id < known.mal_id) seasons.set(tvdb.season, entry);
    byShow.set(tvdb.id, seasons);
  }
  const out: CatalogFranchise[] = [];
  for (const [tvdbId, seasons] of [...byShow].sort((a, b) => a[0] - b[0])) {
    // The run of consecutive seasons from 1: what a viewer who started at the beginning has seen.
    const run: CatalogEntry[] = [];
    for (let n = 1; seasons.has(n); n++) run.push(seasons.get(n)!);
    if (run.length > 0) out.push({ tvdbId, seasons: run });
  }
  return out;
}

export interface ShowPoolOptions {
  /** CR seasons wanted, dubs included. */
  seasons: number;
  /** Share of the seasons that are dubs of another season in the history. */
  dubShare?: number;
  /** Share of the multi-season franchises whose later seasons number their episodes on. */
  continuousShare?: number;
  /** Seasons taken per franchise at most. */
  maxSeasonsPerShow?: number;
  /** Prefix of the generated CR ids (another prefix gives other shows' ids, the same prefix the same ones). */
  idPrefix?: string;
}

/**
 * CR seasons named as Crunchyroll names them (the English title when MAL has one), drawn from the catalog:
 * series of 1–3 seasons, some numbering episodes on across seasons, some seasons watched in a dub too
 * (most dubs linked to their original through `versions`, some not).
 */
export function crShowSeasons(franchises: CatalogFranchise[], random: () => number, options: ShowPoolOptions): CrShowSeason[] {
  const dubShare = options.dubShare ?? 0.1;
  const continuousShare = options.continuousShare ?? 0.3;
  const maxPerShow = options.maxSeasonsPerShow ?? 3;
  const prefix = options.idPrefix ?? 'G';
  const dubs = Math.round(options.seasons * dubShare);
  const originals = options.seasons - dubs;
  const out: CrShowSeason[] = [];
  for (const franchise of shuffle(franchises, random)) {
    if (out.length >= originals) break;
    const first = franchise.seasons[0];
    const seriesTitle = first.title_english || first.title;
    const seriesId = `${prefix}S${franchise.tvdbId}`;
    const count = Math.min(franchise.seasons.length, maxPerShow, originals - out.length);
    const continuous = count > 1 && random() < continuousShare && franchise.seasons.slice(0, count - 1).every((s) => s.episodes);
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const entry = franchise.seasons[i];
      const episodeCount = Math.min(entry.episodes ?? 12, 26);
      out.push({
        seriesId,
        seriesTitle,
        seasonId: `${prefix}R${entry.mal_id}`,
        seasonTitle: i === 0 ? seriesTitle : entry.title_english || entry.title,
        seasonNumber: i + 1,
        malId: entry.mal_id,
        episodeCount,
        episodeNumberOffset: continuous ? offset : 0,
        ...(entry.start_date && /^\d{4}-\d{2}-\d{2}$/.test(entry.start_date) ? { startDate: entry.start_date } : {}),
      });
      offset += entry.episodes ?? 12;
    }
  }
  const originalSeasons = [...out];
  for (const original of shuffle(originalSeasons, random).slice(0, dubs)) {
    out.push({
      ...original,
      seasonId: `${original.seasonId}D`,
      seasonTitle: `${original.seasonTitle} (English Dub)`,
      dub: { of: original.seasonId, versions: random() < 0.75 },
    });
  }
  return out;
}

export interface WatchOptions {
  /** When the first episode was watched. */
  start: Date;
  /** Share of originals watched to the end (the rest stop half-way). */
  completedShare?: number;
  /** Episodes of a dub that were watched (the first N). */
  dubEpisodes?: number;
}

/** CR v2 watch-history entries (`data[]` of the API's own shape) for the seasons, newest last, with CR's air dates. */
export function crV2History(seasons: CrShowSeason[], random: () => number, options: WatchOptions): Record<string, unknown>[] {
  const completedShare = options.completedShare ?? 0.8;
  const dubEpisodes = options.dubEpisodes ?? 3;
  const entries: Record<string, unknown>[] = [];
  const bySeasonId = new Map(seasons.map((s) => [s.seasonId, s]));
  let at = options.start.getTime();
  for (const season of seasons) {
    const original = season.dub ? bySeasonId.get(season.dub.of)! : season;
    const watched = season.dub ? Math.min(dubEpisodes, season.episodeCount) : random() < completedShare ? season.episodeCount : Math.max(1, Math.floor(season.episodeCount / 2));
    const versions = season.dub?.versions || seasons.some((s) => s.dub?.of === season.seasonId && s.dub.versions)
      ? [
          { audio_locale: 'ja-JP', guid: `${original.seasonId}V`, season_guid: original.seasonId, original: true },
          { audio_locale: 'en-US', guid: `${original.seasonId}DV`, season_guid: `${original.seasonId}D`, original: false },
        ]
      : null;
    for (let e = 1; e <= watched; e++) {
      at += 30 * 60_000 + Math.floor(random() * 6 * 3_600_000);
      const number = e + season.episodeNumberOffset;
      const id = `${season.seasonId}E${e}`;
      // Weekly from the entry's start, as a simulcast airs; a dub four weeks behind.
      const airDate = original.startDate ? new Date(Date.parse(`${original.startDate}T15:00:00Z`) + ((e - 1) * 7 + (season.dub ? 28 : 0)) * 86_400_000).toISOString() : undefined;
      entries.push({
        id,
        date_played: new Date(at).toISOString(),
        playhead: 1430,
        fully_watched: true,
        panel: {
          id,
          type: 'episode',
          title: `Episode ${number}`,
          episode_metadata: {
            series_id: season.seriesId,
            series_title: season.seriesTitle,
            season_id: season.seasonId,
            season_title: season.seasonTitle,
            season_number: season.seasonNumber,
            season_sequence_number: season.seasonNumber,
            episode_number: number,
            sequence_number: number,
            episode: String(number),
            duration_ms: 1_440_000,
            ...(airDate ? { episode_air_date: airDate } : {}),
            audio_locale: season.dub ? 'en-US' : 'ja-JP',
            is_dubbed: Boolean(season.dub),
            versions,
          },
        },
      });
    }
  }
  return entries;
}

/** Distinct MAL entries the history's seasons are (what an empty list needs one change each for). */
export function distinctMalIds(seasons: CrShowSeason[]): number[] {
  return [...new Set(seasons.map((s) => s.malId))];
}
