/**
 * A CandidateSource over an offline MAL catalog (the JSONL format of ../shared/data/mal-catalog.jsonl.gz).
 * It answers like MAL's search — by title and alternative titles only, at most 100 hits — and derives
 * sequel/prequel relations from the catalog's TVDB season placement, the only relation data it has.
 *
 * Product code never imports catalog data; callers (CLI, benchmarks, tests, the MAL sandbox) load a
 * catalog by path with `loadCatalog` and hand it to `CatalogCandidateSource`.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { countedSimilarity, normaliseTitle, prepareNormalised, tokens, trigramCodes } from './text';
import type {
  CandidateSource,
  MalAiringStatus,
  MalAnimeDetails,
  MalCandidate,
  MalMediaType,
  MalRelatedAnime,
  MalSeasonName,
} from './types';

/** One line of the catalog file. */
export interface CatalogEntry {
  mal_id: number;
  title: string;
  title_english?: string | null;
  title_japanese?: string | null;
  synonyms?: string[] | null;
  type?: string | null;
  episodes?: number | null;
  year?: number | null;
  season?: string | null;
  start_date?: string | null;
  end_date?: string | null;
  status?: string | null;
  tvdb?: { id: number; season: number; epoffset: number } | null;
  relations?: {
    tvdb_siblings?: Array<[number, number, number]>;
    episode_redirects?: Array<[string, number, string]>;
  } | null;
}

export class CatalogLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CatalogLoadError';
  }
}

/** Reads a catalog from a `.jsonl` or `.jsonl.gz` file (gzip detected by its magic bytes too). */
export async function loadCatalog(path: string): Promise<CatalogEntry[]> {
  const entries: CatalogEntry[] = [];
  let lineNumber = 0;
  try {
    const raw = createReadStream(path);
    const gzipped = path.endsWith('.gz');
    const input = gzipped ? raw.pipe(createGunzip()) : raw;
    // A read error on the file must reach the gunzip stream that readline consumes.
    if (input !== raw) raw.on('error', (error) => input.emit('error', error));
    const lines = createInterface({ input, crlfDelay: Infinity });
    for await (const line of lines) {
      lineNumber++;
      if (line.trim().length === 0) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (cause) {
        throw new CatalogLoadError(`${path}:${lineNumber}: not valid JSON`, { cause });
      }
      const entry = parsed as Partial<CatalogEntry>;
      if (typeof entry.mal_id !== 'number' || typeof entry.title !== 'string') {
        throw new CatalogLoadError(`${path}:${lineNumber}: expected numeric mal_id and string title`);
      }
      entries.push(entry as CatalogEntry);
    }
  } catch (cause) {
    if (cause instanceof CatalogLoadError) throw cause;
    throw new CatalogLoadError(`cannot read catalog ${path}: ${(cause as Error).message}`, { cause });
  }
  return entries;
}

const MEDIA_TYPES = new Set<MalMediaType>(['tv', 'ova', 'movie', 'special', 'ona', 'music', 'tv_special', 'cm', 'pv']);
const SEASON_NAMES = new Set<MalSeasonName>(['winter', 'spring', 'summer', 'fall']);
const STATUS_BY_CATALOG: Record<string, MalAiringStatus> = {
  'finished airing': 'finished_airing',
  'currently airing': 'currently_airing',
  'not yet aired': 'not_yet_aired',
};

/**
 * Some catalog sources join several synonyms into one string ("A, B") next to the separate ones; MAL's
 * API lists them separately, so a joined string whose parts are all listed anyway is left out.
 */
function apiSynonyms(entry: CatalogEntry): string[] {
  const synonyms = (entry.synonyms ?? []).filter((s): s is string => typeof s === 'string');
  if (!synonyms.some((s) => s.includes(', '))) return synonyms;
  const known = new Set([entry.title, entry.title_english, entry.title_japanese, ...synonyms]);
  return synonyms.filter((s) => !s.includes(', ') || !s.split(', ').every((part) => known.has(part)));
}

function toCandidate(entry: CatalogEntry, candidateCache: WeakMap<CatalogEntry, MalCandidate>): MalCandidate {
  const cached = candidateCache.get(entry);
  if (cached) return cached;
  const candidate: MalCandidate = {
    id: entry.mal_id,
    title: entry.title,
    alternative_titles: {
      synonyms: apiSynonyms(entry),
      en: entry.title_english ?? '',
      ja: entry.title_japanese ?? '',
    },
    media_type: MEDIA_TYPES.has(entry.type as MalMediaType) ? (entry.type as MalMediaType) : 'unknown',
  };
  if (typeof entry.episodes === 'number' && entry.episodes > 0) candidate.num_episodes = entry.episodes;
  if (typeof entry.year === 'number') {
    const season = entry.season?.toLowerCase() as MalSeasonName | undefined;
    if (season && SEASON_NAMES.has(season)) candidate.start_season = { year: entry.year, season };
  }
  if (entry.start_date) candidate.start_date = entry.start_date;
  else if (typeof entry.year === 'number') candidate.start_date = String(entry.year);
  candidateCache.set(entry, candidate);
  return candidate;
}

const HISTOGRAM_BINS = 2048;

function histogramBin(value: number): number {
  return Math.min(HISTOGRAM_BINS - 1, Math.floor(value * HISTOGRAM_BINS));
}

// The index pass's inner loops, kept small and monomorphic so V8 optimises them on their own. Per row,
// `hits` holds the query trigrams found (low 16 bits) and the query's distinct words found (high 16 bits):
// one array read per posting, and a row with no word found needs no read of its word weight.
const WORD_HIT = 65_536;
const GRAM_HITS = 0xffff;

function addGramHits(rows: Int32Array, hits: Uint32Array, touched: Int32Array, touchedCount: number): number {
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    // No word is counted yet here: the tokens come after the trigrams.
    if (hits[row] === 0) touched[touchedCount++] = row;
    hits[row] += 1;
  }
  return touchedCount;
}

interface IndexPass {
  touched: Int32Array;
  touchedCount: number;
  hits: Uint32Array;
  tokenHits: Float64Array;
  titleGramCount: Uint16Array;
}

/** The cheap estimate of every touched row; keeps those ≥ 0.2 in `out` and clears the hits. Returns how many. */
function estimateTouched(
  pass: IndexPass,
  gramTotal: number,
  tokenWeightTotal: number,
  out: { rows: Int32Array; values: Float64Array; dice: Float64Array; shared: Uint16Array },
): number {
  const { touched, touchedCount, hits, tokenHits, titleGramCount } = pass;
  let count = 0;
  for (let k = 0; k < touchedCount; k++) {
    const row = touched[k];
    const packed = hits[row];
    hits[row] = 0;
    const gramHits = packed & GRAM_HITS;
    const words = packed >>> 16;
    const gramSum = gramTotal + titleGramCount[row];
    // Most rows share a few trigrams and no word: Dice 2h/(G+T) below 0.2 by a whole count (10h < G+T)
    // is below it whatever the rounding, so they are dropped without a division.
    if (words === 0 && gramHits < gramTotal && 10 * gramHits < gramSum) continue;
    const dice = (2 * gramHits) / gramSum;
    // A row without a word found has weight 0 there (never written this search).
    const wordShare = words > 0 && tokenWeightTotal > 0 ? tokenHits[row] / tokenWeightTotal : 0;
    // Containment of the whole query needs every query trigram present (slug abbreviations).
    const containsAllGrams = gramHits >= gramTotal ? 0.5 : 0;
    const estimate = Math.max(dice, 0.9 * wordShare + 0.1 * dice, containsAllGrams);
    if (estimate >= 0.2) {
      out.rows[count] = row;
      out.values[count] = estimate;
      out.dice[count] = dice;
      out.shared[count] = words;
      count++;
    }
    if (words > 0) tokenHits[row] = 0;
  }
  return count;
}

function addTokenHits(rows: Int32Array, weight: number, hits: Uint32Array, tokenHits: Float64Array, touched: Int32Array, touchedCount: number): number {
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    // Untouched means no trigram and no word yet (a word's weight is always > 0).
    if (hits[row] === 0) touched[touchedCount++] = row;
    tokenHits[row] += weight;
    // A posting list holds a row once, so this counts the query's distinct words the row shares.
    hits[row] += WORD_HIT;
  }
  return touchedCount;
}

export interface CatalogSearchOptions {
  /** Title strings considered for exact scoring after the index pass. */
  shortlistSize?: number;
}

/**
 * Indexes a catalog once (token inverted index + trigram index over every title and alternative title)
 * and serves search/details from memory.
 */
export class CatalogCandidateSource implements CandidateSource {
  private readonly entries: CatalogEntry[];
  private readonly entryIndexById = new Map<number, number>();
  /** One row per title string: which entry, normalised and compact forms. */
  private readonly titleEntry: number[] = [];
  private readonly titleText: string[] = [];
  /** titleText without spaces, and its count of distinct words: what exact scoring needs besides the hits. */
  private readonly titleCompact: string[] = [];
  private readonly titleTokenCount: Uint16Array;
  /** Distinct trigrams per row (capped at 65,535: no real title comes near). */
  private readonly titleGramCount: Uint16Array;
  private readonly tokenIndex = new Map<string, Int32Array>();
  private readonly gramIndex = new Map<number, Int32Array>();
  private readonly relations = new Map<number, MalRelatedAnime[]>();
  private readonly shortlistSize: number;
  /** Query trigrams and words found per row (see addGramHits): 16 bits each hold any query's (≤ 64 characters, even after NFKC expands them). */
  private readonly hits: Uint32Array;
  private readonly tokenHits: Float64Array;
  /** Scratch buffers of searchSync (one search at a time: it is synchronous). */
  private readonly touched: Int32Array;
  private readonly estimateRows: Int32Array;
  private readonly estimateValues: Float64Array;
  private readonly estimateDice: Float64Array;
  private readonly estimateShared: Uint16Array;
  private readonly histogram = new Uint32Array(HISTOGRAM_BINS);
  private readonly entryBest: Float64Array;
  /** Entries as MAL answers them, made on first use (per source, so a new source starts cold). */
  private readonly candidates = new WeakMap<CatalogEntry, MalCandidate>();

  constructor(entries: CatalogEntry[], options: CatalogSearchOptions = {}) {
    this.entries = entries;
    this.shortlistSize = options.shortlistSize ?? 120;
    entries.forEach((entry, index) => this.entryIndexById.set(entry.mal_id, index));
    const tokenLists = new Map<string, number[]>();
    const gramLists = new Map<number, number[]>();
    // Per row, while indexing: its count of distinct trigrams and of distinct words.
    const gramCounts: number[] = [];
    const tokenCounts: number[] = [];
    entries.forEach((entry, index) => this.indexTitles(entry, index, { tokenLists, gramLists, gramCounts, tokenCounts }));
    for (const [key, rows] of tokenLists) this.tokenIndex.set(key, Int32Array.from(rows));
    for (const [key, rows] of gramLists) this.gramIndex.set(key, Int32Array.from(rows));
    this.titleGramCount = Uint16Array.from(gramCounts, (n) => Math.min(n, 65_535));
    this.titleTokenCount = Uint16Array.from(tokenCounts, (n) => Math.min(n, 65_535));
    this.touched = new Int32Array(this.titleEntry.length);
    this.estimateRows = new Int32Array(this.titleEntry.length);
    this.estimateValues = new Float64Array(this.titleEntry.length);
    this.estimateDice = new Float64Array(this.titleEntry.length);
    this.estimateShared = new Uint16Array(this.titleEntry.length);
    this.hits = new Uint32Array(this.titleEntry.length);
    this.tokenHits = new Float64Array(this.titleEntry.length);
    this.entryBest = new Float64Array(entries.length);
    this.deriveRelations();
  }

  static async fromFile(path: string, options?: CatalogSearchOptions): Promise<CatalogCandidateSource> {
    return new CatalogCandidateSource(await loadCatalog(path), options);
  }

  get size(): number {
    return this.entries.length;
  }

  private indexTitles(
    entry: CatalogEntry,
    entryIndex: number,
    { tokenLists, gramLists, gramCounts, tokenCounts }: { tokenLists: Map<string, number[]>; gramLists: Map<number, number[]>; gramCounts: number[]; tokenCounts: number[] },
  ): void {
    const synonyms = entry.synonyms ?? [];
    // Some catalog sources join several synonyms into one string ("A, B"); index the parts as well.
    const parts = synonyms.flatMap((s) => (typeof s === 'string' && s.includes(', ') ? s.split(', ').filter((p) => p.length >= 3) : []));
    const all = [entry.title, entry.title_english, entry.title_japanese, ...synonyms, ...parts];
    const seen = new Set<string>();
    for (const raw of all) {
      if (typeof raw !== 'string') continue;
      const normalised = normaliseTitle(raw);
      if (normalised.length === 0 || seen.has(normalised)) continue;
      seen.add(normalised);
      const row = this.titleEntry.length;
      const compact = normalised.replace(/ /g, '');
      const grams = trigramCodes(compact);
      const distinct = new Set(tokens(normalised));
      this.titleEntry.push(entryIndex);
      this.titleText.push(normalised);
      this.titleCompact.push(compact);
      tokenCounts.push(distinct.size);
      gramCounts.push(grams.length);
      for (const token of distinct) push(tokenLists, token, row);
      for (const gram of grams) push(gramLists, gram, row);
    }
  }

  /**
   * TVDB places each MAL entry in a show's season (with an episode offset for split cours); entries of
   * seasons ≥ 1 ordered by (season, offset, start date) form the sequel chain, season-0 entries are
   * side stories of the show. Continuous-numbering redirects add sequel links too.
   */
  private deriveRelations(): void {
    const byShow = new Map<number, CatalogEntry[]>();
    for (const entry of this.entries) if (entry.tvdb) push(byShow, entry.tvdb.id, entry);
    const add = (from: CatalogEntry, to: CatalogEntry, relation_type: MalRelatedAnime['relation_type']) => {
      const list = this.relations.get(from.mal_id) ?? [];
      if (!list.some((r) => r.node.id === to.mal_id)) list.push({ node: { id: to.mal_id, title: to.title }, relation_type });
      this.relations.set(from.mal_id, list);
    };
    for (const members of byShow.values()) {
      const mainLine = members
        .filter((e) => (e.tvdb?.season ?? 0) >= 1)
        .sort((a, b) => a.tvdb!.season - b.tvdb!.season || a.tvdb!.epoffset - b.tvdb!.epoffset || dateKey(a).localeCompare(dateKey(b)));
      for (let i = 1; i < mainLine.length; i++) {
        add(mainLine[i - 1], mainLine[i], 'sequel');
        add(mainLine[i], mainLine[i - 1], 'prequel');
      }
      const parent = mainLine[0];
      if (!parent) continue;
      for (const extra of members.filter((e) => (e.tvdb?.season ?? 0) < 1)) {
        add(extra, parent, 'parent_story');
        add(parent, extra, 'side_story');
      }
    }
    for (const entry of this.entries) {
      for (const [, target] of entry.relations?.episode_redirects ?? []) {
        const other = this.entryById(target);
        if (!other || other.mal_id === entry.mal_id) continue;
        if (this.relations.get(entry.mal_id)?.some((r) => r.node.id === other.mal_id)) continue;
        add(entry, other, 'sequel');
        add(other, entry, 'prequel');
      }
    }
  }

  private entryById(id: number): CatalogEntry | undefined {
    const index = this.entryIndexById.get(id);
    return index === undefined ? undefined : this.entries[index];
  }

  async search(query: string, limit: number): Promise<MalCandidate[]> {
    return this.searchSync(query, limit);
  }

  /** Synchronous search: token/trigram index pass, then exact similarity over a shortlist. */
  searchSync(query: string, limit: number): MalCandidate[] {
    const trimmed = query.trim();
    if (trimmed.length < 3 || trimmed.length > 64) {
      throw new RangeError(`search query must be 3–64 characters, got ${trimmed.length}`);
    }
    const cappedLimit = Math.max(1, Math.min(100, Math.floor(limit)));
    const normalised = normaliseTitle(trimmed);
    if (normalised.length === 0) return [];
    const prepared = prepareNormalised(normalised);
    const queryGrams = trigramCodes(prepared.compact);
    const queryTokens = prepared.distinctTokens;

    const { hits, tokenHits, touched, estimateRows, estimateValues, estimateDice, estimateShared } = this;
    let touchedCount = 0;
    for (let g = 0; g < queryGrams.length; g++) {
      const rows = this.gramIndex.get(queryGrams[g]);
      if (!rows) continue;
      touchedCount = addGramHits(rows, hits, touched, touchedCount);
    }
    for (const token of queryTokens) {
      const rows = this.tokenIndex.get(token);
      if (!rows) continue;
      const weight = Math.log(1 + this.titleEntry.length / rows.length);
      touchedCount = addTokenHits(rows, weight, hits, tokenHits, touched, touchedCount);
    }
    // Cheap estimate: trigram Dice plus the share of query words present, rare words counting more.
    let tokenWeightTotal = 0;
    for (const token of queryTokens) {
      const rows = this.tokenIndex.get(token);
      tokenWeightTotal += Math.log(1 + this.titleEntry.length / (rows ? rows.length : 1));
    }
    const count = estimateTouched(
      { touched, touchedCount, hits, tokenHits, titleGramCount: this.titleGramCount },
      queryGrams.length,
      tokenWeightTotal,
      { rows: estimateRows, values: estimateValues, dice: estimateDice, shared: estimateShared },
    );
    // The shortlist: the best `shortlistSize` estimates. A histogram over the estimates (0.2..~1) finds
    // the cut in linear time; only the rows above it are sorted (ties in touch order, as before).
    const histogram = this.histogram;
    histogram.fill(0);
    for (let k = 0; k < count; k++) histogram[histogramBin(estimateValues[k])]++;
    let cutBin = HISTOGRAM_BINS - 1;
    for (let seen = 0; cutBin > 0; cutBin--) {
      seen += histogram[cutBin];
      if (seen >= this.shortlistSize) break;
    }
    const order: number[] = [];
    for (let k = 0; k < count; k++) if (histogramBin(estimateValues[k]) >= cutBin) order.push(k);
    // Comparators answer -1/0/1 (or a small integer), not a difference of doubles: no number boxed per comparison.
    order.sort((a, b) => (estimateValues[b] > estimateValues[a] ? 1 : estimateValues[b] < estimateValues[a] ? -1 : a - b));
    if (order.length > this.shortlistSize) order.length = this.shortlistSize;

    // Each entry's best score, in a per-entry scratch array (zero between searches) instead of a Map.
    const entryBest = this.entryBest;
    const scoredEntries: number[] = [];
    for (let o = 0; o < order.length; o++) {
      const k = order[o];
      const row = estimateRows[k];
      const entryIndex = this.titleEntry[row];
      const similarity = countedSimilarity(prepared, this.titleText[row], this.titleCompact[row], this.titleTokenCount[row], estimateShared[k], estimateDice[k]);
      const score = Math.max(similarity, estimateValues[k] * 0.9);
      if (score > entryBest[entryIndex]) {
        if (entryBest[entryIndex] === 0) scoredEntries.push(entryIndex);
        entryBest[entryIndex] = score;
      }
    }
    const entries = this.entries;
    scoredEntries.sort((a, b) => (entryBest[b] > entryBest[a] ? 1 : entryBest[b] < entryBest[a] ? -1 : entries[a].mal_id - entries[b].mal_id));
    for (const entryIndex of scoredEntries) entryBest[entryIndex] = 0;
    const found: MalCandidate[] = [];
    for (let i = 0; i < scoredEntries.length && i < cappedLimit; i++) found.push(toCandidate(entries[scoredEntries[i]], this.candidates));
    return found;
  }

  async details(ids: number[]): Promise<MalAnimeDetails[]> {
    return this.detailsSync(ids);
  }

  detailsSync(ids: number[]): MalAnimeDetails[] {
    const result: MalAnimeDetails[] = [];
    for (const id of ids) {
      const entry = this.entryById(id);
      if (!entry) continue;
      const details: MalAnimeDetails = { ...toCandidate(entry, this.candidates), related_anime: [...(this.relations.get(id) ?? [])] };
      const status = entry.status ? STATUS_BY_CATALOG[entry.status.toLowerCase()] : undefined;
      if (status) details.status = status;
      if (entry.end_date) details.end_date = entry.end_date;
      result.push(details);
    }
    return result;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function dateKey(entry: CatalogEntry): string {
  return entry.start_date ?? (entry.year ? String(entry.year) : '9999');
}
