/**
 * Title text utilities shared by the matcher and the catalog search: normalisation that survives the
 * ways Crunchyroll titles get mangled (URL slugs lose punctuation, apostrophes and "&"), season-marker
 * parsing ("Season 2", "2nd Season", "II", "第2期") and cheap similarity measures.
 */

const COMBINING_MARKS = /[\u0300-\u036f]/g;
/** Apostrophes vanish inside words ("Journey's" → "journeys"), the way URL slugs write them. */
const APOSTROPHES = /['’`´‘]/g;
const NON_WORD = /[^\p{L}\p{N}]+/gu;

/** Lower case, accents removed, punctuation turned into single spaces. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ASCII_NON_WORD = /[^a-z0-9]+/g;
const CLEAN_ASCII = /^[a-z0-9]+(?: [a-z0-9]+)*$/;

export function normaliseTitle(raw: string): string {
  // Fast path (most titles): Unicode normalisation and the katakana rule cannot change plain ASCII.
  if (PRINTABLE_ASCII.test(raw)) {
    const lower = raw.toLowerCase();
    // Half the ASCII titles are plain words and single spaces already: nothing to replace.
    return CLEAN_ASCII.test(lower) ? lower : lower.replace(APOSTROPHES, '').replace(ASCII_NON_WORD, ' ').trim();
  }
  return raw
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFD')
    .replace(COMBINING_MARKS, '')
    .normalize('NFC')
    .replace(APOSTROPHES, '')
    .replace(/×/g, ' x ')
    // A katakana long-vowel mark next to Latin text is being used as a dash ("ーTHE WAKE OF SINー").
    .replace(/ー(?=[a-z0-9\s]|$)|(?<=[a-z0-9\s]|^)ー/g, ' ')
    .replace(NON_WORD, ' ')
    .trim();
}

/** Normalised with the spaces removed too: "Steins;Gate" and the slug "steinsgate" meet here. */
export function compactTitle(raw: string): string {
  return normaliseTitle(raw).replace(/ /g, '');
}

export function tokens(normalised: string): string[] {
  return normalised.length === 0 ? [] : normalised.split(' ');
}

/** Padded character trigrams of a compact string (short strings still yield at least one). */
export function trigrams(compact: string): string[] {
  if (compact.length === 0) return [];
  const padded = `  ${compact} `;
  const grams: string[] = [];
  for (let i = 0; i + 3 <= padded.length; i++) grams.push(padded.slice(i, i + 3));
  return grams;
}

const trigramSetCache = new Map<string, Set<string>>();
const TRIGRAM_CACHE_LIMIT = 200_000;

export function clearTrigramMemo(): void {
  trigramSetCache.clear();
}

/** Distinct trigrams of a compact string, memoised (the same titles recur across queries and cases). */
export function trigramSet(compact: string): Set<string> {
  let set = trigramSetCache.get(compact);
  if (!set) {
    if (trigramSetCache.size >= TRIGRAM_CACHE_LIMIT) trigramSetCache.clear();
    set = new Set(trigrams(compact));
    trigramSetCache.set(compact, set);
  }
  return set;
}

/** Sørensen–Dice coefficient over distinct trigrams. */
export function trigramDice(a: string, b: string): number {
  if (a === b) return a.length > 0 ? 1 : 0;
  const ga = trigramSet(a);
  const gb = trigramSet(b);
  if (ga.size === 0 || gb.size === 0) return 0;
  const [small, large] = ga.size <= gb.size ? [ga, gb] : [gb, ga];
  let shared = 0;
  for (const g of small) if (large.has(g)) shared++;
  return (2 * shared) / (ga.size + gb.size);
}

/** Dice over token sets. */
export function tokenDice(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const setB = new Set(b);
  let shared = 0;
  for (const t of new Set(a)) if (setB.has(t)) shared++;
  return (2 * shared) / (new Set(a).size + setB.size);
}

/**
 * Similarity of two titles in 0..1. Exact normalised or compact equality is 1; otherwise the best of
 * token overlap, trigram overlap on the compact form (spelling-level differences: slugs, romanisation
 * variants) and containment (a slug abbreviation, or a title wrapped in extra words), containment
 * scaled by how much of the longer title it covers so an exact title always wins.
 */
export function titleSimilarity(a: string, b: string): number {
  return normalisedSimilarity(normaliseTitle(a), normaliseTitle(b));
}

/**
 * `titleSimilarity` for strings already passed through `normaliseTitle`. `knownTrigramDice` lets an
 * index that already counted shared trigrams skip recomputing them.
 */
export function normalisedSimilarity(na: string, nb: string, knownTrigramDice?: number): number {
  if (na.length === 0 || nb.length === 0) return 0;
  if (na === nb) return 1;
  const ca = na.replace(/ /g, '');
  const cb = nb.replace(/ /g, '');
  if (ca === cb) return 0.98;
  const ta = tokens(na);
  const tb = tokens(nb);
  let best = Math.max(tokenDice(ta, tb), knownTrigramDice ?? trigramDice(ca, cb)) * 0.97;
  const [shortC, longC] = ca.length <= cb.length ? [ca, cb] : [cb, ca];
  if (shortC.length >= 4 && longC.startsWith(shortC)) best = Math.max(best, 0.6 + 0.35 * (shortC.length / longC.length));
  else if (shortC.length >= 6 && longC.includes(shortC)) best = Math.max(best, 0.5 + 0.35 * (shortC.length / longC.length));
  // Every word of `na` (the query side) found in `nb`: the way a search finds "X: Subtitle" for "X".
  // The reverse (the title's words all inside a longer query) is weaker evidence.
  const setA = new Set(ta);
  const setB = new Set(tb);
  if (setA.size >= 2 && ta.every((t) => setB.has(t))) best = Math.max(best, 0.62 + 0.33 * (setA.size / setB.size));
  else if (setB.size >= 2 && tb.every((t) => setA.has(t))) best = Math.max(best, 0.55 + 0.35 * (setB.size / setA.size));
  return best;
}

/** A normalised title with the derived forms `normalisedSimilarity` needs, computed once. */
export interface PreparedTitle {
  text: string;
  compact: string;
  tokens: string[];
  /**
   * The distinct tokens in first-seen order (`tokens` itself when none repeats). Titles have a few words,
   * so looking one up in this array is as quick as in a Set, without building a Set per title.
   */
  distinctTokens: string[];
  /** Distinct trigrams of `compact` as sorted numeric codes (see `trigramCodes`), filled in on first use. */
  grams?: Float64Array;
}

export function prepareNormalised(normalised: string): PreparedTitle {
  const list = tokens(normalised);
  return {
    text: normalised,
    compact: list.length > 1 ? normalised.replace(/ /g, '') : normalised,
    tokens: list,
    distinctTokens: distinctInOrder(list),
    grams: undefined,
  };
}

function distinctInOrder(list: string[]): string[] {
  if (list.length > 16) return [...new Set(list)];
  for (let i = 1; i < list.length; i++) {
    for (let j = 0; j < i; j++) {
      if (list[j] === list[i]) return [...new Set(list)];
    }
  }
  return list;
}

/** One trigram as a number (three UTF-16 code units), so sets of trigrams are sorted number arrays. */
export function trigramCode(gram: string): number {
  return packTrigram(gram.charCodeAt(0), gram.charCodeAt(1), gram.charCodeAt(2));
}

/** ASCII trigrams pack into 21 bits (small integers make fast Map keys); others above that range. */
function packTrigram(a: number, b: number, c: number): number {
  if (a < 128 && b < 128 && c < 128) return (a << 14) | (b << 7) | c;
  return 2 ** 21 + (a * 65536 + b) * 65536 + c;
}

/**
 * Codes are sorted in a scratch buffer and copied into a shared arena: each title gets a small view of
 * it, not an array (and an off-heap store) of its own. Views never overlap, so one cannot touch another.
 */
let gramScratch = new Float64Array(256);
const GRAM_ARENA_SIZE = 65_536;
let gramArena = new Float64Array(GRAM_ARENA_SIZE);
let gramArenaUsed = 0;

/** Distinct padded trigrams of a compact string as sorted numeric codes. */
export function trigramCodes(compact: string): Float64Array {
  const length = compact.length;
  if (length === 0) return new Float64Array(0);
  // Same grams as `trigrams`: the string padded with two spaces in front and one behind. Titles are
  // short, so an insertion sort into the distinct prefix beats sorting and deduplicating afterwards.
  const n = length + 1;
  if (gramScratch.length < n) gramScratch = new Float64Array(2 * n);
  const codes = gramScratch;
  let a = 32;
  let b = 32;
  let unique = 0;
  for (let i = 0; i < n; i++) {
    const c = i < length ? compact.charCodeAt(i) : 32;
    const code = packTrigram(a, b, c);
    a = b;
    b = c;
    let j = unique - 1;
    while (j >= 0 && codes[j] > code) j--;
    if (j >= 0 && codes[j] === code) continue;
    for (let m = unique; m > j + 1; m--) codes[m] = codes[m - 1];
    codes[j + 1] = code;
    unique++;
  }
  if (unique > GRAM_ARENA_SIZE / 4) return codes.slice(0, unique);
  if (gramArenaUsed + unique > GRAM_ARENA_SIZE) {
    gramArena = new Float64Array(GRAM_ARENA_SIZE);
    gramArenaUsed = 0;
  }
  const start = gramArenaUsed;
  for (let i = 0; i < unique; i++) gramArena[start + i] = codes[i];
  gramArenaUsed += unique;
  return gramArena.subarray(start, start + unique);
}

function preparedTrigramDice(a: PreparedTitle, b: PreparedTitle): number {
  const ga = (a.grams ??= trigramCodes(a.compact));
  const gb = (b.grams ??= trigramCodes(b.compact));
  if (ga.length === 0 || gb.length === 0) return 0;
  let i = 0;
  let j = 0;
  let shared = 0;
  while (i < ga.length && j < gb.length) {
    if (ga[i] === gb[j]) {
      shared++;
      i++;
      j++;
    } else if (ga[i] < gb[j]) i++;
    else j++;
  }
  return (2 * shared) / (ga.length + gb.length);
}

/** `normalisedSimilarity` over prepared titles (same result, no re-tokenising): `a` is the query side. */
export function preparedSimilarity(a: PreparedTitle, b: PreparedTitle, knownTrigramDice?: number): number {
  const na = a.text;
  const nb = b.text;
  if (na.length === 0 || nb.length === 0) return 0;
  if (na === nb) return 1;
  const ca = a.compact;
  const cb = b.compact;
  if (ca === cb) return 0.98;
  const listA = a.distinctTokens;
  const listB = b.distinctTokens;
  let shared = 0;
  for (let i = 0; i < listA.length; i++) if (listB.includes(listA[i])) shared++;
  return similarityBeyondEquality(ca, cb, listA.length, b.distinctTokens.length, shared, knownTrigramDice ?? preparedTrigramDice(a, b));
}

/**
 * `preparedSimilarity` of the query `a` and a title known by its normalised text, compact form, count of
 * distinct words, the query's distinct words it shares and the trigram Dice: what the catalog index
 * counts anyway, so its shortlist needs no prepared title per row.
 */
export function countedSimilarity(a: PreparedTitle, nb: string, cb: string, sizeB: number, shared: number, trigramDice: number): number {
  const na = a.text;
  if (na.length === 0 || nb.length === 0) return 0;
  if (na === nb) return 1;
  const ca = a.compact;
  if (ca === cb) return 0.98;
  return similarityBeyondEquality(ca, cb, a.distinctTokens.length, sizeB, shared, trigramDice);
}

function similarityBeyondEquality(ca: string, cb: string, sizeA: number, sizeB: number, shared: number, trigramDice: number): number {
  const dice = sizeA === 0 || sizeB === 0 ? 0 : (2 * shared) / (sizeA + sizeB);
  let best = Math.max(dice, trigramDice) * 0.97;
  // The query as an abbreviation of the title (a cut slug) is good evidence; the title as a prefix of a
  // longer query leaves part of the query unexplained and counts less.
  const queryIsShort = ca.length <= cb.length;
  const shortC = queryIsShort ? ca : cb;
  const longC = queryIsShort ? cb : ca;
  if (shortC.length >= 4 && longC.startsWith(shortC)) best = Math.max(best, (queryIsShort ? 0.6 : 0.52) + 0.35 * (shortC.length / longC.length));
  else if (shortC.length >= 6 && longC.includes(shortC)) best = Math.max(best, (queryIsShort && longC.endsWith(shortC) ? 0.55 : 0.5) + 0.35 * (shortC.length / longC.length));
  if (sizeA >= 2 && shared === sizeA) best = Math.max(best, 0.62 + 0.33 * (sizeA / sizeB));
  else if (sizeB >= 2 && shared === sizeB) best = Math.max(best, 0.55 + 0.35 * (sizeB / sizeA));
  return best;
}

// ---------------------------------------------------------------------------------------------------
// Season markers

const ORDINAL_WORDS: Record<string, number> = {
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9, tenth: 10,
};
const ROMAN: Record<string, number> = { ii: 2, iii: 3, iv: 4, v: 5, vi: 6, vii: 7, viii: 8, ix: 9, x: 10 };
const KANJI_DIGITS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9, 十: 10 };

export interface SeasonMarker {
  /** The season (or cour/part) number the marker states. */
  number: number;
  kind: 'season' | 'part' | 'roman' | 'trailing-number';
}

/** Parentheticals and suffixes that describe the audio/subtitle version, not the show. */
const VERSION_TAG =
  /\s*[([]\s*[^()[\]]*\b(?:dub|dubbed|dublado|doblaje|doblado|sub|subbed|subtitled|uncut|simulcast|english|german|french|spanish|castilian|portuguese|italian|russian|arabic|hindi|tamil|telugu|latin american|brazilian|japanese|korean|thai|indonesian|chinese|mandarin|cantonese)\b[^()[\]]*[)\]]\s*/giu;
const TRAILING_DUB = /\s*[-–:]\s*(?:english |german |french |spanish |portuguese |italian |russian |hindi )?dub(?:bed)?\s*$/iu;

/** Either tag needs a bracket or "dub": most titles have neither and skip both patterns. */
const MAY_HAVE_VERSION_TAG = /[([]|dub/iu;
/** Whitespace that the collapse below would change: anything but a single space. */
const UNTIDY_SPACE = /[^\S ]| {2}/;

/** Removes "(English Dub)", "(German)", "- Dub" and similar audio-version tags. */
export function stripVersionTags(title: string): string {
  const stripped = MAY_HAVE_VERSION_TAG.test(title) ? title.replace(VERSION_TAG, ' ').replace(TRAILING_DUB, '') : title;
  return (UNTIDY_SPACE.test(stripped) ? stripped.replace(/\s+/g, ' ') : stripped).trim();
}

export function hasVersionTag(title: string): boolean {
  return stripVersionTags(title) !== title.replace(/\s+/g, ' ').trim();
}

interface MarkerPattern {
  pattern: RegExp;
  kind: SeasonMarker['kind'];
  read: (m: RegExpMatchArray) => number | undefined;
}

const num = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const lower = s.toLowerCase();
  if (/^\d+$/.test(lower)) return Number(lower);
  if (lower in ORDINAL_WORDS) return ORDINAL_WORDS[lower];
  if (lower in ROMAN) return ROMAN[lower];
  if (s.length === 1 && s in KANJI_DIGITS) return KANJI_DIGITS[s];
  return undefined;
};

/** What every marker pattern below needs somewhere (a superset): most titles have none of it. */
const MAY_HAVE_MARKER = /season|part|cour|第|期|s\d|\s(?:ii|iii|iv|v|vi|vii|viii|ix|\d)$/u;

// Ordered: the most explicit forms first. Each works on the normalised title (lower case, no punctuation).
const MARKER_PATTERNS: MarkerPattern[] = [
  { pattern: /\bseason (\d+|[ivx]+)\b/, kind: 'season', read: (m) => num(m[1]) },
  { pattern: /\b(\d+)(?:st|nd|rd|th) season\b/, kind: 'season', read: (m) => num(m[1]) },
  { pattern: /\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth) season\b/, kind: 'season', read: (m) => num(m[1]) },
  { pattern: /\bs(\d{1,2})\b/, kind: 'season', read: (m) => num(m[1]) },
  { pattern: /第\s*(\d+|[一二三四五六七八九十])\s*(?:期|シーズン)/u, kind: 'season', read: (m) => num(m[1]) },
  { pattern: /(?:^|\s)(\d+)\s*期/u, kind: 'season', read: (m) => num(m[1]) },
  { pattern: /\b(?:part|cour) (\d+|[ivx]+)\b/, kind: 'part', read: (m) => num(m[1]) },
  { pattern: /\b(\d+)(?:st|nd|rd|th) (?:part|cour)\b/, kind: 'part', read: (m) => num(m[1]) },
  { pattern: /\b(first|second|third|fourth|fifth) (?:part|cour)\b/, kind: 'part', read: (m) => num(m[1]) },
  { pattern: /\s(ii|iii|iv|v|vi|vii|viii|ix)$/, kind: 'roman', read: (m) => num(m[1]) },
  { pattern: /\s(\d)$/, kind: 'trailing-number', read: (m) => num(m[1]) },
];

/** The season/part markers a title states, most explicit first. */
export function seasonMarkers(title: string): SeasonMarker[] {
  return normalisedSeasonMarkers(normaliseTitle(stripVersionTags(title)));
}

/** `seasonMarkers` of a title already passed through `stripVersionTags` and `normaliseTitle`. */
export function normalisedSeasonMarkers(normalised: string): SeasonMarker[] {
  const markers: SeasonMarker[] = [];
  if (!MAY_HAVE_MARKER.test(normalised)) return markers;
  for (const { pattern, kind, read } of MARKER_PATTERNS) {
    const m = normalised.match(pattern);
    if (!m) continue;
    const n = read(m);
    if (n !== undefined && n > 0 && n < 100) markers.push({ number: n, kind });
  }
  return markers;
}

/** The season number a title states ("Season 2", "2nd Season", "II", "第2期"), if any. */
export function statedSeasonNumber(title: string, includeWeak = false): number | undefined {
  return statedSeasonIn(seasonMarkers(title), includeWeak);
}

/** `statedSeasonNumber` from a title's markers. */
export function statedSeasonIn(markers: readonly SeasonMarker[], includeWeak = false): number | undefined {
  for (const marker of markers) {
    if (marker.kind === 'season' || marker.kind === 'roman') return marker.number;
    if (includeWeak && marker.kind === 'trailing-number') return marker.number;
  }
  return undefined;
}

const STRIP_PATTERNS: RegExp[] = [
  /\bseason (?:\d+|[ivx]+)\b/g,
  /\b\d+(?:st|nd|rd|th) (?:season|part|cour)\b/g,
  /\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth) (?:season|part|cour)\b/g,
  /\b(?:part|cour) (?:\d+|[ivx]+)\b/g,
  /第\s*(?:\d+|[一二三四五六七八九十])\s*(?:期|シーズン)/gu,
  /\bs\d{1,2}\b/g,
  /\s(?:ii|iii|iv|v|vi|vii|viii|ix)$/g,
  /\bthe final season\b|\bfinal season\b/g,
];

/**
 * The title with season/part markers and version tags removed, normalised: the "base" franchise
 * title ("Attack on Titan Season 3 Part 2 (English Dub)" → "attack on titan").
 */
export function baseTitle(title: string): string {
  return withoutSeasonMarkers(normaliseTitle(stripVersionTags(title)));
}

/** What every strip pattern needs somewhere (a superset); a normalised title has single spaces already. */
const MAY_HAVE_STRIPPED_MARKER = /season|part|cour|第|s\d|\s(?:ii|iii|iv|v|vi|vii|viii|ix)$/u;

/** `baseTitle`'s second half: season/part markers removed from a title already normalised (version tags too). */
export function withoutSeasonMarkers(normalised: string): string {
  if (!MAY_HAVE_STRIPPED_MARKER.test(normalised)) return normalised;
  let stripped = normalised;
  for (const pattern of STRIP_PATTERNS) stripped = stripped.replace(pattern, ' ');
  return stripped.replace(/\s+/g, ' ').trim();
}

/** MAL's disambiguation suffixes: "Bonobono (TV)", "Osomatsu-kun (1988)", "Shelter (Music)". */
const DISAMBIGUATION_SUFFIX = /\s*\((?:tv|movie|ova|ona|special|music|\d{4}|tv \d{4})\)\s*$/i;

export function withoutDisambiguation(title: string): string {
  if (!title.includes(')')) return title.trim() || title;
  return title.replace(DISAMBIGUATION_SUFFIX, '').trim() || title;
}

/** Only a year among those suffixes ("Shaman King (2021)"): the one CR writes in its titles too. */
export function withoutYearSuffix(title: string): string {
  if (!title.includes(')')) return title;
  return title.replace(/\s*\(\d{4}\)\s*$/, '').trim() || title;
}

/** Cuts a query to at most `max` characters at a word boundary where possible. */
export function truncateAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const lastSpace = cut.lastIndexOf(' ');
  return (lastSpace >= Math.floor(max / 2) ? cut.slice(0, lastSpace) : cut).trim();
}
