/**
 * The shared mapping cache: what the sync consults before asking the matcher. Production stores it in
 * DynamoDB (functions/sync/mapping-store.ts); this module holds the shapes, the expiry policy and an
 * in-memory implementation for tests and the CLI.
 *
 * Automatic entries are keyed by season key AND the fingerprint of the request they were computed from
 * (from-history.ts): an automatic match is a function of that request, so a user who sends other facts
 * under a real season key only ever fills an entry that nobody with the real facts reads.
 */
import type { MatchSegment } from './types';

export type MappingSource = 'automatic' | 'user' | 'global';

/** A mapping in force for everyone (`global`: curated, never written from a user's input). */
export interface CachedMapping {
  seasonKey: string;
  malId: number;
  episodeOffset: number;
  segments?: MatchSegment[];
  confidence: number;
  source: MappingSource;
  /** Request fingerprint an automatic mapping was computed from (required for `automatic`). */
  fingerprint?: string;
  /** ISO timestamp of when the mapping was stored. */
  updatedAt: string;
}

/** The matcher's own result for one request fingerprint, whatever it decided (a match, review, nothing). */
export interface AutomaticEntry {
  seasonKey: string;
  fingerprint: string;
  /** null: no trustworthy candidate (a remembered "no match"). */
  malId: number | null;
  episodeOffset: number;
  /** In CR's numbers, as the matcher gave them. */
  segments: MatchSegment[];
  confidence: number;
  /** The matcher's own review flag (the user's threshold is applied on top by the sync). */
  needsReview: boolean;
  title: string | null;
  explanation: string;
  /** The candidates the matcher weighed: an agreement may only pick among them. */
  candidateIds: number[];
  computedAt: string;
  /** ISO timestamp after which the entry is ignored (and DynamoDB's TTL removes it). */
  expiresAt: string;
}

const DAY_MS = 86_400_000;
/** An accepted match stays valid for long; review and "no match" are re-decided weekly (MAL adds entries). */
export const ACCEPTED_TTL_DAYS = 90;
export const UNDECIDED_TTL_DAYS = 7;

export function automaticExpiry(entry: Pick<AutomaticEntry, 'malId' | 'needsReview'>, now = Date.now()): string {
  const days = entry.malId !== null && !entry.needsReview ? ACCEPTED_TTL_DAYS : UNDECIDED_TTL_DAYS;
  return new Date(now + days * DAY_MS).toISOString();
}

export function isLive(entry: { expiresAt?: string } | undefined, now = Date.now()): boolean {
  return !!entry && (!entry.expiresAt || Date.parse(entry.expiresAt) > now);
}

export interface MappingCache {
  get(seasonKey: string): Promise<CachedMapping | undefined>;
  put(mapping: CachedMapping): Promise<void>;
}

/** Automatic results by season key and fingerprint. */
export interface AutomaticCache {
  getAutomatic(seasonKey: string, fingerprint: string): Promise<AutomaticEntry | undefined>;
  putAutomatic(entry: AutomaticEntry): Promise<void>;
}

const autoKey = (seasonKey: string, fingerprint: string) => `${seasonKey}\u0000${fingerprint}`;

export class InMemoryMappingCache implements MappingCache, AutomaticCache {
  private readonly mappings = new Map<string, CachedMapping>();
  private readonly automatic = new Map<string, AutomaticEntry>();

  async get(seasonKey: string): Promise<CachedMapping | undefined> {
    const found = this.mappings.get(seasonKey);
    return found ? structuredClone(found) : undefined;
  }

  async put(mapping: CachedMapping): Promise<void> {
    if (mapping.source === 'automatic') {
      // Automatic mappings are only ever stored under their fingerprint.
      if (!mapping.fingerprint) throw new Error('an automatic mapping needs the fingerprint of its request');
      await this.putAutomatic({
        seasonKey: mapping.seasonKey,
        fingerprint: mapping.fingerprint,
        malId: mapping.malId,
        episodeOffset: mapping.episodeOffset,
        segments: mapping.segments ?? [{ malId: mapping.malId, firstEpisode: 1, lastEpisode: null, episodeOffset: mapping.episodeOffset }],
        confidence: mapping.confidence,
        needsReview: false,
        title: null,
        explanation: 'automatic',
        candidateIds: [mapping.malId],
        computedAt: mapping.updatedAt,
        expiresAt: automaticExpiry({ malId: mapping.malId, needsReview: false }),
      });
      return;
    }
    this.mappings.set(mapping.seasonKey, structuredClone(mapping));
  }

  async getAutomatic(seasonKey: string, fingerprint: string): Promise<AutomaticEntry | undefined> {
    const found = this.automatic.get(autoKey(seasonKey, fingerprint));
    return isLive(found) ? structuredClone(found) : undefined;
  }

  async putAutomatic(entry: AutomaticEntry): Promise<void> {
    this.automatic.set(autoKey(entry.seasonKey, entry.fingerprint), structuredClone(entry));
  }

  get size(): number {
    return this.mappings.size + this.automatic.size;
  }
}
