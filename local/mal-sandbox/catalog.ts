/**
 * The sandbox's anime catalog: loads the shared MAL catalog (or the small fixture) and answers what MAL's
 * `/v2/anime` endpoints answer — MAL-shaped nodes, related_anime derived from TVDB siblings, and a
 * title-based ranked search.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CatalogLoadError, loadCatalog as readCatalogFile, type CatalogEntry } from '../../functions/matching/catalog-source';

/**
 * One line of `mal-catalog.jsonl(.gz)` (see /work/shared/data/README.md): the matcher's catalog format,
 * plus two optional fields only the sandbox reads: MAL's `nsfw` rating and explicit `related_anime`.
 */
export type CatalogRecord = CatalogEntry & {
  /** MAL's rating: `white` (safe), `gray` (shown), `black` (hidden from searches and lists unless `nsfw=true`). */
  nsfw?: NsfwLevel | null;
  /** Relations MAL states, in addition to those derived from TVDB siblings. */
  related_anime?: Array<{ id: number; relation_type: string }> | null;
};

export type NsfwLevel = 'white' | 'gray' | 'black';
export { CatalogLoadError };

export const DEFAULT_CATALOG_PATH = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'catalog.jsonl');

export interface RelatedAnime {
  node: { id: number; title: string };
  relation_type: string;
  relation_type_formatted: string;
}

/** Every relation type MAL's `related_anime` uses, with its `relation_type_formatted` label. */
export const RELATION_LABELS: Record<string, string> = {
  sequel: 'Sequel',
  prequel: 'Prequel',
  alternative_setting: 'Alternative setting',
  alternative_version: 'Alternative version',
  side_story: 'Side story',
  parent_story: 'Parent story',
  summary: 'Summary',
  full_story: 'Full story',
  spin_off: 'Spin-off',
  other: 'Other',
  character: 'Character',
};

/** The relation MAL shows on the other entry of a pair (a spin-off names its source as parent story). */
const INVERSE_RELATION: Record<string, string> = {
  sequel: 'prequel',
  prequel: 'sequel',
  alternative_setting: 'alternative_setting',
  alternative_version: 'alternative_version',
  side_story: 'parent_story',
  parent_story: 'side_story',
  summary: 'full_story',
  full_story: 'summary',
  spin_off: 'parent_story',
  other: 'other',
  character: 'character',
};

const MEDIA_TYPES = new Set(['tv', 'ova', 'movie', 'special', 'ona', 'music', 'tv_special', 'cm', 'pv']);

/** Lower case, accents dropped, punctuation to spaces: what both the index and the query go through. */
export function normalizeForSearch(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

interface IndexedEntry {
  record: CatalogRecord;
  /** Normalised main title first, then English, Japanese and synonyms. */
  titles: string[];
  titleTokens: string[][];
}

export class CatalogUpdateError extends Error {
  override name = 'CatalogUpdateError';
}

export class Catalog {
  private readonly byId = new Map<number, IndexedEntry>();
  /** Relations set at run time (tests, admin), by entry. */
  private readonly addedRelations = new Map<number, Array<{ id: number; relation_type: string }>>();
  /** Every title word, sorted, with the entries whose titles have it: built on the first search. */
  private wordIndex?: { words: string[]; owners: IndexedEntry[][] };

  constructor(records: Iterable<CatalogRecord>) {
    for (const record of records) {
      const titles = [record.title, record.title_english, record.title_japanese, ...(record.synonyms ?? [])]
        .filter((t): t is string => typeof t === 'string' && t.length > 0)
        .map(normalizeForSearch)
        .filter((t) => t.length > 0);
      this.byId.set(record.mal_id, { record, titles, titleTokens: titles.map((t) => t.split(' ')) });
    }
  }

  get size(): number {
    return this.byId.size;
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  get(id: number): CatalogRecord | undefined {
    return this.byId.get(id)?.record;
  }

  /** MAL leaves `black` entries out of searches and lists unless the caller sends `nsfw=true`. */
  hiddenUnlessNsfw(id: number): boolean {
    return this.get(id)?.nsfw === 'black';
  }

  /** Rates an entry (MAL rates some entries wrongly: tests use this to flag an ordinary title). */
  setNsfw(id: number, level: NsfwLevel): void {
    const record = this.get(id);
    if (!record) throw new CatalogUpdateError(`no catalog entry ${id}`);
    if (!['white', 'gray', 'black'].includes(level)) throw new CatalogUpdateError(`nsfw is white, gray or black, got ${JSON.stringify(level)}`);
    record.nsfw = level;
  }

  /** States a relation from `id` to `otherId` and its inverse on `otherId`, as MAL shows both sides. */
  addRelation(id: number, otherId: number, relationType: string): void {
    if (!this.has(id) || !this.has(otherId) || id === otherId) throw new CatalogUpdateError(`a relation needs two different catalog entries, got ${id} and ${otherId}`);
    if (!(relationType in RELATION_LABELS)) throw new CatalogUpdateError(`unknown relation type ${JSON.stringify(relationType)}`);
    const add = (from: number, to: number, type: string) => {
      const list = (this.addedRelations.get(from) ?? []).filter((r) => r.id !== to);
      list.push({ id: to, relation_type: type });
      this.addedRelations.set(from, list);
    };
    add(id, otherId, relationType);
    add(otherId, id, INVERSE_RELATION[relationType]);
  }

  /**
   * MAL-like search: every query word must start a word of one of the entry's titles (CJK queries match as
   * substrings, having no spaces); when nothing matches all words, entries matching most words are given,
   * as MAL's fuzzy search does. Ranked by exactness, main title before alternatives, then shorter titles.
   */
  search(query: string, options: { nsfw?: boolean } = {}): CatalogRecord[] {
    const normalizedQuery = normalizeForSearch(query);
    const queryTokens = normalizedQuery.split(' ').filter((t) => t.length > 0);
    if (queryTokens.length === 0) return [];
    const scored: Array<{ entry: IndexedEntry; score: number; matched: number; length: number }> = [];
    let bestMatchedCount = 0;
    for (const entry of this.candidates(queryTokens)) {
      if (!options.nsfw && entry.record.nsfw === 'black') continue;
      let best = 0;
      let bestMatched = 0;
      let bestLength = Number.MAX_SAFE_INTEGER;
      entry.titles.forEach((title, titleIndex) => {
        const tokens = entry.titleTokens[titleIndex];
        let matched = 0;
        for (const q of queryTokens) {
          if (tokens.some((t) => t.startsWith(q)) || (q.length >= 2 && !/^[a-z0-9]+$/.test(q) && title.includes(q))) {
            matched += 1;
          }
        }
        if (matched === 0) return;
        let score = matched * 10;
        if (matched === queryTokens.length) {
          score += 100;
          if (title === normalizedQuery) score += 1000;
          else if (title.startsWith(normalizedQuery)) score += 300;
          else if (title.includes(normalizedQuery)) score += 150;
        }
        if (titleIndex === 0) score += 5;
        if (score > best || (score === best && title.length < bestLength)) {
          best = score;
          bestMatched = matched;
          bestLength = title.length;
        }
      });
      if (best > 0) {
        scored.push({ entry, score: best, matched: bestMatched, length: bestLength });
        bestMatchedCount = Math.max(bestMatchedCount, bestMatched);
      }
    }
    // Partial matches only count when no entry matches every word, and then only the best-matching ones.
    const required = bestMatchedCount === queryTokens.length ? queryTokens.length : Math.max(1, Math.ceil(queryTokens.length / 2));
    return scored
      .filter((s) => s.matched >= required)
      .sort((a, b) => b.score - a.score || a.length - b.length || a.entry.record.mal_id - b.entry.record.mal_id)
      .map((s) => s.entry.record);
  }

  /**
   * The entries that can match at all: those with a title word starting with a query word (looked up in
   * the sorted word index instead of scanning 28,000 entries per search). A CJK query word matches inside
   * titles too, so such queries scan everything.
   */
  private candidates(queryTokens: string[]): Iterable<IndexedEntry> {
    if (queryTokens.some((q) => q.length >= 2 && !/^[a-z0-9]+$/.test(q))) return this.byId.values();
    const index = this.buildWordIndex();
    const found = new Set<IndexedEntry>();
    for (const q of queryTokens) {
      let low = 0;
      let high = index.words.length;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (index.words[middle] < q) low = middle + 1;
        else high = middle;
      }
      for (let i = low; i < index.words.length && index.words[i].startsWith(q); i += 1) {
        for (const entry of index.owners[i]) found.add(entry);
      }
    }
    return found;
  }

  private buildWordIndex(): { words: string[]; owners: IndexedEntry[][] } {
    if (this.wordIndex) return this.wordIndex;
    const byWord = new Map<string, Set<IndexedEntry>>();
    for (const entry of this.byId.values()) {
      for (const tokens of entry.titleTokens) {
        for (const token of tokens) {
          let owners = byWord.get(token);
          if (!owners) byWord.set(token, (owners = new Set()));
          owners.add(entry);
        }
      }
    }
    const words = [...byWord.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.wordIndex = { words, owners: words.map((w) => [...byWord.get(w)!]) };
    return this.wordIndex;
  }

  /**
   * Sequel/prequel chain from TVDB siblings: entries of TVDB seasons ≥ 1 ordered by season then start
   * date; season-0 entries (films, OVAs) are side stories of the chain and have its first entry as parent.
   */
  relatedAnime(id: number): RelatedAnime[] {
    const record = this.get(id);
    if (!record) return [];
    const related: RelatedAnime[] = [];
    const add = (otherId: number, relation: string) => {
      const other = this.get(otherId);
      if (!other || related.some((r) => r.node.id === otherId)) return;
      related.push({
        node: { id: other.mal_id, title: other.title },
        relation_type: relation,
        relation_type_formatted: RELATION_LABELS[relation] ?? relation,
      });
    };
    // Stated relations first: they are MAL's own word; the TVDB-derived chain fills in the rest.
    for (const stated of [...(record.related_anime ?? []), ...(this.addedRelations.get(id) ?? [])]) add(stated.id, stated.relation_type);
    const ownSeason = record.tvdb?.season;
    const siblings = (record.relations?.tvdb_siblings ?? [])
      .filter(([siblingId]) => siblingId !== id && this.has(siblingId))
      .map(([siblingId, season, epoffset]) => ({ id: siblingId, season, epoffset }));
    if (ownSeason === undefined || ownSeason === null || siblings.length === 0) return related;
    const chain = [{ id, season: ownSeason, epoffset: record.tvdb?.epoffset ?? 0 }, ...siblings]
      .filter((s) => s.season >= 1)
      .sort(
        (a, b) =>
          a.season - b.season ||
          (this.get(a.id)?.start_date ?? '9999').localeCompare(this.get(b.id)?.start_date ?? '9999') ||
          a.epoffset - b.epoffset,
      );
    if (ownSeason >= 1) {
      const position = chain.findIndex((s) => s.id === id);
      if (position > 0) add(chain[position - 1].id, 'prequel');
      if (position >= 0 && position < chain.length - 1) add(chain[position + 1].id, 'sequel');
      for (const sibling of siblings) if (sibling.season === 0) add(sibling.id, 'side_story');
    } else if (chain.length > 0) {
      add(chain[0].id, 'parent_story');
    }
    return related;
  }

  /** MAL's anime node for the requested top-level fields (id and title always; see `parseFields`). */
  toNode(record: CatalogRecord, fields: { has(name: string): boolean }, includeRelated: boolean): Record<string, unknown> {
    const node: Record<string, unknown> = { id: record.mal_id, title: record.title };
    if (fields.has('alternative_titles')) {
      node.alternative_titles = {
        synonyms: record.synonyms ?? [],
        en: record.title_english ?? '',
        ja: record.title_japanese ?? '',
      };
    }
    if (fields.has('start_date') && record.start_date) node.start_date = record.start_date;
    if (fields.has('end_date') && record.end_date) node.end_date = record.end_date;
    if (fields.has('num_episodes')) node.num_episodes = record.episodes ?? 0;
    if (fields.has('media_type')) node.media_type = record.type && MEDIA_TYPES.has(record.type) ? record.type : 'unknown';
    if (fields.has('status')) node.status = airingStatus(record);
    if (fields.has('nsfw')) node.nsfw = record.nsfw ?? 'white';
    if (fields.has('start_season') && record.year && record.season) {
      node.start_season = { year: record.year, season: record.season };
    }
    if (includeRelated && fields.has('related_anime')) node.related_anime = this.relatedAnime(record.mal_id);
    return node;
  }
}

/** MAL's airing status; the catalog leaves most unset, so dates decide. */
function airingStatus(record: CatalogRecord): string {
  const status = record.status?.toLowerCase();
  if (status === 'finished airing') return 'finished_airing';
  if (status === 'currently airing') return 'currently_airing';
  if (status === 'not yet aired') return 'not_yet_aired';
  const today = new Date().toISOString().slice(0, 10);
  if (!record.start_date || record.start_date > today) return record.start_date ? 'not_yet_aired' : 'finished_airing';
  if (record.end_date && record.end_date <= today) return 'finished_airing';
  if (record.episodes && record.episodes > 1 && !record.end_date && record.year && record.year >= new Date().getFullYear() - 1) {
    return 'currently_airing';
  }
  return 'finished_airing';
}

/**
 * MAL's `fields` parameter: top-level names mapped to their sub-field names
 * (`a,b{c,d},e` → a → {}, b → {c, d}, e → {}).
 */
export function parseFields(fields: string | null | undefined): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  if (!fields) return names;
  let depth = 0;
  let current = '';
  let currentSub = '';
  let subs = new Set<string>();
  const flushName = () => {
    if (current.trim()) names.set(current.trim(), subs);
    current = '';
    subs = new Set<string>();
  };
  for (const ch of fields) {
    if (ch === '{') {
      depth += 1;
      currentSub = '';
    } else if (ch === '}') {
      if (depth === 1 && currentSub.trim()) subs.add(currentSub.trim());
      currentSub = '';
      depth = Math.max(0, depth - 1);
    } else if (ch === ',' && depth === 0) {
      flushName();
    } else if (ch === ',' && depth === 1) {
      if (currentSub.trim()) subs.add(currentSub.trim());
      currentSub = '';
    } else if (depth === 0) current += ch;
    else if (depth === 1) currentSub += ch;
  }
  flushName();
  return names;
}

export async function loadCatalog(path: string = DEFAULT_CATALOG_PATH): Promise<Catalog> {
  if (!existsSync(path)) throw new CatalogLoadError(`catalog file not found: ${path}`);
  return new Catalog(await readCatalogFile(path));
}
