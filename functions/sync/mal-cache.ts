/**
 * The matcher's CandidateSource over MAL with two caches in front: one per sync (every search and anime
 * asked once per job, however many seasons share a franchise) and one shared by every user in the
 * mal-cache table (MAL's public answers only, each with an expiry), so the second user who watched a
 * show costs no MAL read for it.
 *
 * mal-cache items (pk cacheKey): SEARCH#v2#<limit>#<query folded to lower case> → the hits;
 * ANIME#<malId> → the anime's details (or `missing: true` when MAL has no such id). `data` holds the
 * JSON, `expiresAtEpoch` the expiry (DynamoDB TTL removes them; reads ignore expired ones before that).
 */
import { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { malAnimeCacheKey, malSearchCacheKey } from '#contract/keys';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';
import { MalNotFoundError } from '../mal/errors';
import type { MalAnime } from '../mal/types';
import type { CandidateSource, MalAnimeDetails, MalCandidate } from '../matching/types';
import type { AnimeInfo } from './planner';
import { candidateOf, detailsOf, type MalSessionLike } from './mal-source';
import { componentLogger } from '../shared/logger';

const log = componentLogger('mal-cache');

const DAY_S = 86_400;
/** Searches change when MAL adds entries; details of finished shows hardly ever change. */
export const SEARCH_TTL_DAYS = 3;
export const FINISHED_DETAILS_TTL_DAYS = 30;
export const AIRING_DETAILS_TTL_DAYS = 1;
/** "MAL has no such id" is remembered briefly (an id may be about to appear). */
export const MISSING_TTL_DAYS = 1;

export interface MalReadCounts {
  /** Requests sent to MAL. */
  searches: number;
  details: number;
  /** Answers taken from the shared cache instead. */
  sharedSearches: number;
  sharedDetails: number;
}

interface CacheItem {
  cacheKey: string;
  data: string;
  expiresAtEpoch: number;
}

const table = () => tableName('mal-cache');
const nowEpoch = () => Math.floor(Date.now() / 1000);

/** The shared table; every failure to read or write it only costs a MAL request, never the sync. */
export class SharedMalCache {
  async getMany(keys: string[]): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += 100) {
      let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = { [table()]: { Keys: unique.slice(i, i + 100).map((cacheKey) => ({ cacheKey })) } };
      for (let attempt = 0; request && Object.keys(request).length > 0 && attempt < 4; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const response = await documents().send(new BatchGetCommand({ RequestItems: request as never }));
        for (const item of (response.Responses?.[table()] ?? []) as CacheItem[]) {
          if (item.expiresAtEpoch > nowEpoch()) out.set(item.cacheKey, JSON.parse(item.data));
        }
        request = response.UnprocessedKeys as typeof request;
      }
    }
    return out;
  }

  async putMany(items: Array<{ key: string; value: unknown; ttlDays: number }>): Promise<void> {
    const expires = (days: number) => nowEpoch() + Math.round(days * DAY_S);
    for (let i = 0; i < items.length; i += 25) {
      let requests: Record<string, unknown[]> | undefined = {
        [table()]: items.slice(i, i + 25).map((it) => ({ PutRequest: { Item: { cacheKey: it.key, data: JSON.stringify(it.value), expiresAtEpoch: expires(it.ttlDays) } } })),
      };
      for (let attempt = 0; requests && Object.keys(requests).length > 0 && attempt < 4; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const out = await documents().send(new BatchWriteCommand({ RequestItems: requests as never }));
        requests = out.UnprocessedItems as typeof requests;
      }
    }
  }
}

/** MAL matches titles case-insensitively; spacing aside, the same query gets the same hits. */
export function foldQuery(query: string): string {
  return query.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

function detailsTtlDays(details: MalAnimeDetails): number {
  return details.status === 'finished_airing' ? FINISHED_DETAILS_TTL_DAYS : AIRING_DETAILS_TTL_DAYS;
}

type StoredDetails = MalAnimeDetails | { missing: true };

function logCacheFault(error: unknown): void {
  log.warn('shared MAL cache unavailable; asking MAL', { error: (error as Error)?.name });
}

export class CachedMalSource implements CandidateSource {
  /** Every anime this source saw, by id (for the planner's episode counts). */
  readonly seen = new Map<number, AnimeInfo>();
  /** Start year of each anime seen, when MAL gave one. */
  readonly years = new Map<number, number>();
  readonly counts: MalReadCounts = { searches: 0, details: 0, sharedSearches: 0, sharedDetails: 0 };
  private readonly searches = new Map<string, MalCandidate[]>();
  private readonly known = new Map<number, MalAnimeDetails | null>();
  private readonly shared: SharedMalCache | undefined;

  constructor(
    private readonly session: MalSessionLike,
    options: { shared?: SharedMalCache | false } = {},
  ) {
    this.shared = options.shared === false ? undefined : (options.shared ?? new SharedMalCache());
  }

  /** MAL requests this source made. */
  get malRequests(): number {
    return this.counts.searches + this.counts.details;
  }

  private rememberCandidate(candidate: MalCandidate, status?: string): void {
    const previous = this.seen.get(candidate.id);
    this.seen.set(candidate.id, {
      malId: candidate.id,
      title: candidate.title,
      numEpisodes: candidate.num_episodes && candidate.num_episodes > 0 ? candidate.num_episodes : null,
      airingStatus: (status as AnimeInfo['airingStatus']) ?? previous?.airingStatus ?? null,
    });
    const year = candidate.start_season?.year ?? (candidate.start_date ? Number(candidate.start_date.slice(0, 4)) : NaN);
    if (Number.isFinite(year)) this.years.set(candidate.id, year);
  }

  private async sharedGet(keys: string[]): Promise<Map<string, unknown>> {
    if (!this.shared || keys.length === 0) return new Map();
    try {
      return await this.shared.getMany(keys);
    } catch (error) {
      logCacheFault(error);
      return new Map();
    }
  }

  private async sharedPut(items: Array<{ key: string; value: unknown; ttlDays: number }>): Promise<void> {
    if (!this.shared || items.length === 0) return;
    await this.shared.putMany(items).catch(logCacheFault);
  }

  async search(query: string, limit: number): Promise<MalCandidate[]> {
    const key = malSearchCacheKey(foldQuery(query), limit);
    let hits = this.searches.get(key);
    if (!hits) {
      const stored = (await this.sharedGet([key])).get(key) as MalCandidate[] | undefined;
      if (stored) {
        this.counts.sharedSearches += 1;
        hits = stored;
      } else {
        const found: MalAnime[] = await this.session.searchAnime({ q: query, limit });
        this.counts.searches += 1;
        hits = found.map(candidateOf);
        for (const anime of found) this.rememberCandidate(candidateOf(anime), anime.status);
        await this.sharedPut([{ key, value: hits, ttlDays: SEARCH_TTL_DAYS }]);
      }
      this.searches.set(key, hits);
      // The matcher asks details of the best hits next: one shared read for all of them.
      await this.preload(hits.map((h) => h.id));
    }
    for (const hit of hits) if (!this.seen.get(hit.id)?.airingStatus) this.rememberCandidate(hit, hit.status);
    return hits.map((h) => structuredClone(h));
  }

  /** Loads what the shared cache knows of these ids into this job's memory (no MAL request). */
  private async preload(ids: number[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.known.has(id));
    if (missing.length === 0) return;
    const stored = await this.sharedGet(missing.map(malAnimeCacheKey));
    for (const id of missing) {
      const value = stored.get(malAnimeCacheKey(id)) as StoredDetails | undefined;
      if (!value) continue;
      this.counts.sharedDetails += 1;
      if ('missing' in value) {
        this.known.set(id, null);
        continue;
      }
      this.known.set(id, value);
      this.rememberCandidate(value, value.status);
    }
  }

  async details(ids: number[]): Promise<MalAnimeDetails[]> {
    await this.preload(ids);
    const fetched: Array<{ key: string; value: StoredDetails; ttlDays: number }> = [];
    for (const id of new Set(ids)) {
      if (this.known.has(id)) continue;
      try {
        const anime = await this.session.getAnimeDetails(id);
        this.counts.details += 1;
        const details = detailsOf(anime);
        this.known.set(id, details);
        this.rememberCandidate(details, details.status);
        fetched.push({ key: malAnimeCacheKey(id), value: details, ttlDays: detailsTtlDays(details) });
      } catch (error) {
        if (!(error instanceof MalNotFoundError)) throw error;
        this.counts.details += 1;
        this.known.set(id, null);
        fetched.push({ key: malAnimeCacheKey(id), value: { missing: true }, ttlDays: MISSING_TTL_DAYS });
      }
    }
    await this.sharedPut(fetched);
    const out: MalAnimeDetails[] = [];
    for (const id of ids) {
      const details = this.known.get(id);
      if (details) out.push(structuredClone(details));
    }
    // Chain walks ask the prequels and sequels next, one at a time: read them from the shared cache at once.
    await this.preload(out.flatMap((d) => d.related_anime.filter((r) => r.relation_type === 'sequel' || r.relation_type === 'prequel').map((r) => r.node.id)));
    return out;
  }

  /** Whether MAL has this id (from the caches, else one details request). */
  async exists(id: number): Promise<MalAnimeDetails | null> {
    const [details] = await this.details([id]);
    return details ?? null;
  }
}
