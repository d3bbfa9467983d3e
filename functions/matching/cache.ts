/**
 * The mapping cache the matcher consults before searching. Production stores it in DynamoDB (written
 * elsewhere); this module holds the interface and an in-memory implementation for tests and the CLI.
 */
import type { MatchSegment } from './types';

export type MappingSource = 'automatic' | 'user' | 'global';

export interface CachedMapping {
  seasonKey: string;
  malId: number;
  episodeOffset: number;
  segments?: MatchSegment[];
  confidence: number;
  source: MappingSource;
  /** ISO timestamp of when the mapping was stored. */
  updatedAt: string;
}

export interface MappingCache {
  get(seasonKey: string): Promise<CachedMapping | undefined>;
  put(mapping: CachedMapping): Promise<void>;
}

export class InMemoryMappingCache implements MappingCache {
  private readonly mappings = new Map<string, CachedMapping>();

  async get(seasonKey: string): Promise<CachedMapping | undefined> {
    const found = this.mappings.get(seasonKey);
    return found ? structuredClone(found) : undefined;
  }

  async put(mapping: CachedMapping): Promise<void> {
    this.mappings.set(mapping.seasonKey, structuredClone(mapping));
  }

  get size(): number {
    return this.mappings.size;
  }
}
