/**
 * Matches one Crunchyroll season to a MAL entry: mapping cache first, then MAL-style search with several
 * phrasings, details for the most promising candidates, and a score from generic signals — title
 * similarity over all alternative titles, position on the sequel chain, media type, year and episode
 * count. Low confidence goes to review; without a plausible candidate there is no guess at all.
 */
import type { MappingCache } from './cache';
import { decide, FITTED_MODEL, sameFranchise, type ModelCase } from './model';
import { buildQueries, combinedTitle } from './queries';
import {
  baseTitle,
  clearTrigramMemo,
  normaliseTitle,
  prepareNormalised,
  preparedSimilarity,
  type PreparedTitle,
  normalisedSeasonMarkers,
  seasonMarkers,
  type SeasonMarker,
  statedSeasonIn,
  statedSeasonNumber,
  stripVersionTags,
  withoutDisambiguation,
  withoutYearSuffix,
  withoutSeasonMarkers,
} from './text';
import type {
  CandidateSource,
  MalAnimeDetails,
  MalCandidate,
  MalMediaType,
  MatchRequest,
  MatchResult,
  MatchSegment,
  MatchSignals,
  ScoredCandidate,
} from './types';

export interface MatcherOptions {
  cache?: MappingCache;
  /** Results at or above this confidence are used without review. */
  autoAcceptThreshold?: number;
  /** Below this best title similarity no candidate is offered at all. */
  minimumTitleSimilarity?: number;
  /** Hits asked of each search query (MAL allows ≤ 100). */
  searchLimit?: number;
  /** Candidates whose details are fetched and fully scored. */
  detailsLimit?: number;
  /** Candidates reported in the result. */
  reportedCandidates?: number;
  /**
   * Decide a plain first season from the search answer when it can (default true). The fit script turns
   * it off: the models are fitted on the full path's view of every case.
   */
  decideFromSearch?: boolean;
}

export class MatchingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MatchingError';
  }
}

export const DEFAULT_AUTO_ACCEPT_THRESHOLD = FITTED_MODEL.autoAcceptThreshold;

const MAX_CHAIN_STEPS = 12;
const SEARCH_MEMO_LIMIT = 2000;
const SYNONYM_WEIGHT = 0.98;

interface RequestForms {
  /** Normalised titles as written (version tags removed). */
  full: string[];
  preparedFull: PreparedTitle[];
  preparedBase: PreparedTitle[];
  /** Normalised titles without season markers. */
  base: string[];
  wantedSeason: number | undefined;
  /** The season was named (season number or a marker such as "Season 2"), not merely implied. */
  seasonIsExplicit: boolean;
  /** The season number a request title itself states ("Season 2", "II", a trailing "2"); undefined when none. */
  titleSeason: number | undefined;
  /** Media type stated in the title ("… OVA", "… Movie") when the request gives none. */
  impliedMediaType: MalMediaType | undefined;
  /** Words of each request title form (full and base), for the word-recall signal. */
  words: string[][];
  /**
   * Words the season title adds to the series title (markers and version tags aside): an arc name,
   * "Side B", "Recap". Each one tells entries of one franchise apart, however similar the rest is.
   */
  distinct: string[];
  /** Every word of every request form: a candidate's word outside it is unexplained by the request. */
  allWords: Set<string>;
  /** Part/cour the season title names ("Part 2", "Cour 2", "2nd Cour"); undefined when none. */
  wantedPart: number | undefined;
  /** CR's own season number (or the identifier's "S2"), which may count cours, recaps or movies. */
  crSeason: number | undefined;
  /** CR episode numbers: lowest and highest (null when none given). */
  episodeRange: { low: number; high: number } | null;
  /** Earliest air date on CR as a day number (ms / 86400000), NaN when unknown. */
  firstAirDay: number;
  /**
   * One air date for episodes three or more apart: a catalog upload (an older show added at once), not
   * a broadcast, so the date says only that the entry had started by then.
   */
  airDatesBatch: boolean;
  /** Media type the episode duration implies: 'movie' for a long single episode, 'tv' for an episode length. */
  durationType: MalMediaType | undefined;
  /** Memo of plainTitleScore for this request. */
  plainTitle: Map<TitleForms, number>;
  /** Every base form is also a full form (no season marker in the request's titles): see titleSignal. */
  baseWithinFull: boolean;
  /** The same request with the series title's forms too: what names the franchise (itself when equal). */
  franchise: RequestForms;
}

interface TitleForms {
  raw: string[];
  normalised: string[];
  base: string[];
  preparedNormalised: PreparedTitle[];
  preparedBase: PreparedTitle[];
  /** Per title: 1 for the main and English titles, slightly less for synonyms (weaker evidence). */
  weight: number[];
  /** How many leading entries are the official titles (main, English, Japanese). */
  official: number;
  /** Each raw title as `seasonMarkers` reads it (version tags removed, normalised). */
  markerText: string[];
  /** Season markers of each raw title, made on first use. */
  markers: SeasonMarker[][] | undefined;
  /** Memoised statedSeasonOf (null until first asked) and isLaterPart (undefined until asked). */
  statedSeason: number | undefined | null;
  laterPart: boolean | undefined;
  /** Titles cut before a subtitle ("X: Subtitle" → "x"), made on first use (work titles of OVAs, movies). */
  preparedPrefix: PreparedTitle[] | undefined;
  /** Each title's base form is its normalised form (no marker, no version tag in any title). */
  baseIsNormalised: boolean;
}

interface Candidate {
  details: MalAnimeDetails;
  titles: TitleForms;
  root: number;
  position: number | null;
  statedSeason: number | undefined;
  /** Years from this (first-season) entry to the latest later TV season of its chain; 0 otherwise. */
  laterSpreadYears: number;
  /** Chain placement (see ChainPlace); null when the chain is unknown. */
  place: ChainPlace | null;
}

/** Where a TV/ONA entry sits on its sequel chain, in the ways CR may count it. */
interface ChainPlace {
  /** TV season, a later part/cour continuing its season. */
  position: number;
  /** 1-based among the chain's TV/ONA entries: every cour counted, as CR often does. */
  entryIndex: number;
  /** Part/cour within its season, 1-based. */
  part: number;
  /** Episodes of the earlier parts of its season (numbering that runs on within a season); NaN if unknown. */
  seasonOffset: number;
  /** Episodes of all earlier TV/ONA entries (numbering that runs on across the show); NaN if unknown. */
  absoluteOffset: number;
  /** Best title similarity of any entry of the chain: a later season titled only by its arc inherits it. */
  chainTitle: number;
  /** entryIndex of each season's first part on this chain (shared by the chain's places). */
  seasonStarts: Map<number, number>;
}

function rawTitles(candidate: MalCandidate): string[] {
  const alt = candidate.alternative_titles;
  return [candidate.title, alt?.en, alt?.ja, ...(alt?.synonyms ?? [])].filter(
    (t): t is string => typeof t === 'string' && t.trim().length > 0,
  );
}

/** Title forms by MAL id (search hits and details of one entry share them), checked against the titles. */
const titleFormsCache = new Map<number, CachedTitleForms>();

/** What a cached entry was made from (compared field by field: no key string per lookup). */
interface CachedTitleForms {
  title: string;
  en: string;
  ja: string;
  synonyms: number;
  forms: TitleForms;
}
const TITLE_FORMS_CACHE_LIMIT = 50_000;

/** Empties the module's memos (title forms, trigram sets): bench:match times a cold matcher with them. */
export function clearMatchingMemos(): void {
  titleFormsCache.clear();
  clearTrigramMemo();
}
function titleForms(candidate: MalCandidate): TitleForms {
  const alt = candidate.alternative_titles;
  const en = alt?.en ?? '';
  const ja = alt?.ja ?? '';
  const synonyms = alt?.synonyms?.length ?? 0;
  const cached = titleFormsCache.get(candidate.id);
  if (cached && cached.title === candidate.title && cached.en === en && cached.ja === ja && cached.synonyms === synonyms) return cached.forms;
  const forms = newTitleForms(candidate);
  if (titleFormsCache.size >= TITLE_FORMS_CACHE_LIMIT) titleFormsCache.clear();
  titleFormsCache.set(candidate.id, { title: candidate.title, en, ja, synonyms, forms });
  return forms;
}

/** The forms of a candidate's titles, made once per entry (titleForms, the frequent lookup, stays small). */
function newTitleForms(candidate: MalCandidate): TitleForms {
  const raw = rawTitles(candidate);
  const alt = candidate.alternative_titles;
  const n = raw.length;
  // Sized up front: these arrays never grow.
  const normalised = new Array<string>(n);
  const base = new Array<string>(n);
  const weight = new Array<number>(n);
  const preparedNormalised = new Array<PreparedTitle>(n);
  const preparedBase = new Array<PreparedTitle>(n);
  const markerText = new Array<string>(n);
  // Most titles have no version tag and no season marker: their base is their normalised form, and
  // equal strings (base and normalised, or two titles alike once normalised) share one prepared form.
  for (let i = 0; i < n; i++) {
    const title = raw[i];
    const plain = withoutDisambiguation(title);
    const text = normaliseTitle(plain);
    const untagged = stripVersionTags(plain);
    const untaggedText = untagged === plain ? text : normaliseTitle(untagged);
    const baseText = withoutSeasonMarkers(untaggedText);
    markerText[i] = title === plain ? untaggedText : normaliseTitle(stripVersionTags(title));
    normalised[i] = text;
    base[i] = baseText;
    weight[i] = title === candidate.title || title === alt?.en || title === alt?.ja ? 1 : SYNONYM_WEIGHT;
    preparedNormalised[i] = preparedAmong(preparedNormalised, i, text) ?? preparedAmong(preparedBase, i, text) ?? prepareNormalised(text);
    preparedBase[i] = preparedAmong(preparedNormalised, i + 1, baseText) ?? preparedAmong(preparedBase, i, baseText) ?? prepareNormalised(baseText);
  }
  return {
    raw,
    normalised,
    base,
    preparedNormalised,
    preparedBase,
    weight,
    markerText,
    official: [candidate.title, candidate.alternative_titles?.en, candidate.alternative_titles?.ja].filter((t) => typeof t === 'string' && t.trim().length > 0).length,
    baseIsNormalised: preparedBase.every((prepared, index) => prepared === preparedNormalised[index]),
    // Every field present from the start: one object shape for all forms.
    markers: undefined,
    statedSeason: null,
    laterPart: undefined,
    preparedPrefix: undefined,
  };
}

/** The prepared title of that text among the first `count` of `list`, if any. */
function preparedAmong(list: PreparedTitle[], count: number, text: string): PreparedTitle | undefined {
  for (let i = 0; i < count; i++) if (list[i].text === text) return list[i];
  return undefined;
}

const TYPE_WORDS: Array<[RegExp, MalMediaType]> = [
  [/\b(?:ova|oad|ovas)$/, 'ova'],
  [/\bspecials?$/, 'special'],
  [/\b(?:the movie|movie|film|gekijouban)\b/, 'movie'],
];

/** CR's "SERIES|S2|E17" identifier: its season number, when it states one. */
export function identifierSeason(identifier: string | null | undefined): number | undefined {
  const m = identifier?.match(/\|S(\d{1,3})(?:\||$)/);
  const n = m ? Number(m[1]) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

const DAY_MS = 86_400_000;
function dayNumber(date: string | undefined): number {
  if (!date) return NaN;
  const full = /^\d{4}-\d{2}-\d{2}/.test(date) ? Date.parse(`${date.slice(0, 10)}T00:00:00Z`) : NaN;
  return Number.isFinite(full) ? Math.floor(full / DAY_MS) : NaN;
}

function requestForms(request: MatchRequest): RequestForms {
  const combined = combinedTitle(request.seriesTitle, request.seasonTitle);
  const sources = [combined, request.seasonTitle, request.seriesTitle].filter((t): t is string => typeof t === 'string' && t.trim().length > 0);
  // Compared without a MAL-style "(2021)" after the name, as the candidates' titles are: CR writes it
  // where MAL does ("Shaman King (2021)"), and a series' year says nothing of its later seasons.
  const untagged = sources.map((t) => withoutYearSuffix(stripVersionTags(t)));
  const full = [...new Set(untagged.map((t) => normaliseTitle(t)).filter((t) => t.length > 0))];
  const base = [...new Set(untagged.map((t) => baseTitle(t)).filter((t) => t.length > 0))];
  const seriesWords = new Set(baseTitle(request.seriesTitle ?? '').split(' '));
  // Bare numbers are not words that name an entry: episode ranges ("(62-135)") and counts are read
  // by the episode and season signals.
  const distinct = request.seasonTitle ? [...new Set(baseTitle(request.seasonTitle).split(' ').filter((w) => w.length > 0 && !seriesWords.has(w) && !/^\d+$/.test(w)))] : [];
  const sourceMarkers = sources.map(seasonMarkers);
  let wantedPart: number | undefined;
  for (const markers of sourceMarkers) wantedPart ??= markers.find((m) => m.kind === 'part')?.number;
  // The season title's own marker ("… 2", "Season 3") beats the CR position, which counts only the
  // seasons of one CR series listing (a sequel listed as its own CR series is "season 1" there).
  let stated: number | undefined;
  let weak: number | undefined;
  for (const markers of sourceMarkers) {
    stated ??= statedSeasonIn(markers);
    // A trailing number is a season only when it is not a part's ("Final Season Part 2").
    if (!markers.some((m) => m.kind === 'part')) weak ??= statedSeasonIn(markers, true);
  }
  const explicitNumber = typeof request.seasonNumber === 'number' && request.seasonNumber > 0 ? request.seasonNumber : identifierSeason(request.identifier);
  const wantedSeason = stated ?? weak ?? explicitNumber;
  const seasonIsExplicit = stated !== undefined || explicitNumber !== undefined;
  const primary = full[0] ?? '';
  const impliedMediaType = TYPE_WORDS.find(([pattern]) => pattern.test(primary))?.[1];
  if (impliedMediaType) {
    // Compare the show's name without the type word; the type itself is scored separately.
    for (const [pattern] of TYPE_WORDS) {
      const stripped = primary.replace(pattern, ' ').replace(/\s+/g, ' ').trim();
      if (stripped !== primary && stripped.length > 0) base.push(baseTitle(stripped));
    }
  }
  const words = [...new Set([...full, ...base])].map((form) => form.split(' ').filter((w) => w.length > 0));
  const numbers = (request.episodeNumbers ?? []).filter((n) => Number.isFinite(n) && n >= 0);
  const episodeRange = numbers.length > 0 ? { low: Math.min(...numbers), high: Math.max(...numbers) } : null;
  let firstAirDay = NaN;
  const airDays = new Set<number>();
  for (const date of request.airDates ?? []) {
    const day = dayNumber(date);
    if (!Number.isFinite(day)) continue;
    airDays.add(day);
    if (!(day >= firstAirDay)) firstAirDay = day;
  }
  // The sync sends the first and last air dates only (from-history.ts): one day across three or more
  // episode numbers is a batch however the request lists them.
  const airDatesBatch = airDays.size === 1 && episodeRange !== null && episodeRange.high - episodeRange.low >= 2;
  const duration = request.durationMs ?? null;
  const single = !episodeRange || episodeRange.high - episodeRange.low < 1;
  const durationType: MalMediaType | undefined = duration && duration > 0 ? (duration >= 55 * 60_000 && single ? 'movie' : duration < 40 * 60_000 ? 'tv' : undefined) : undefined;
  const forms: RequestForms = {
    full,
    base,
    words,
    distinct,
    allWords: new Set(words.flat()),
    wantedPart,
    crSeason: explicitNumber,
    episodeRange,
    firstAirDay,
    airDatesBatch,
    durationType,
    plainTitle: new Map(),
    preparedFull: full.map(prepareNormalised),
    preparedBase: [...new Set(base)].map(prepareNormalised),
    wantedSeason,
    seasonIsExplicit,
    titleSeason: stated ?? weak,
    impliedMediaType,
    franchise: undefined as unknown as RequestForms,
    baseWithinFull: false,
  };
  forms.baseWithinFull = baseWithinFull(forms);
  forms.franchise = forms;
  if (distinct.length > 0 && request.seriesTitle) {
    // The season title adds words of its own: an entry's title is judged against the season's forms
    // only, so the bare series title cannot vouch for an entry that lacks those words. The series
    // title still names the franchise (pre-ranking, chain title).
    const seriesUntagged = withoutYearSuffix(stripVersionTags(request.seriesTitle));
    const seriesFull = normaliseTitle(seriesUntagged);
    const seriesBase = baseTitle(seriesUntagged);
    const entryFull = full.filter((f) => f !== seriesFull);
    const entryBase = base.filter((b) => b !== seriesBase);
    if (entryFull.length > 0 && entryBase.length > 0) {
      forms.full = entryFull;
      forms.base = entryBase;
      forms.preparedFull = entryFull.map(prepareNormalised);
      forms.preparedBase = [...new Set(entryBase)].map(prepareNormalised);
      forms.words = [...new Set([...entryFull, ...entryBase])].map((form) => form.split(' ').filter((w) => w.length > 0));
      // With its year the series title still names one of several namesake franchises (pre-ranking).
      const franchiseFull = [...new Set(sources.map((t) => normaliseTitle(stripVersionTags(t))).filter((t) => t.length > 0))];
      const franchiseBase = [...new Set(sources.map((t) => baseTitle(t)).filter((t) => t.length > 0))];
      const franchiseWords = [...new Set([...franchiseFull, ...franchiseBase])].map((form) => form.split(' ').filter((w) => w.length > 0));
      forms.franchise = { ...forms, full: franchiseFull, base: franchiseBase, words: franchiseWords, preparedFull: franchiseFull.map(prepareNormalised), preparedBase: [...new Set(franchiseBase)].map(prepareNormalised), plainTitle: new Map() };
      forms.franchise.franchise = forms.franchise;
      forms.baseWithinFull = baseWithinFull(forms);
      forms.franchise.baseWithinFull = baseWithinFull(forms.franchise);
    }
  }
  return forms;
}

function baseWithinFull(forms: RequestForms): boolean {
  return forms.preparedBase.every((b) => forms.preparedFull.some((f) => f.text === b.text));
}

function bestSimilarity(forms: PreparedTitle[], titles: PreparedTitle[], candidate: TitleForms): { score: number; on: string } {
  let bestScore = 0;
  let bestIndex = -1;
  for (let index = 0; index < titles.length; index++) {
    const title = titles[index];
    const weight = candidate.weight[index];
    // The same prepared title met before at no lower weight scored at least as much on every form.
    let repeated = false;
    for (let j = 0; j < index && !repeated; j++) repeated = titles[j] === title && candidate.weight[j] >= weight;
    if (repeated) continue;
    for (let f = 0; f < forms.length; f++) {
      const score = preparedSimilarity(forms[f], title) * weight;
      if (score > bestScore) {
        bestScore = score;
        bestIndex = index;
      }
    }
  }
  return { score: bestScore, on: bestIndex < 0 ? '' : candidate.raw[bestIndex] };
}

/** Request forms that equal two of the candidate's official titles written one after the other. */
function concatenatedTitleMatch(forms: RequestForms, titles: TitleForms): string | undefined {
  const official = titles.normalised.slice(0, Math.min(3, titles.official));
  for (const form of forms.full) {
    for (const a of official) {
      if (!form.startsWith(a) || form.length <= a.length) continue;
      for (const b of official) if (b !== a && form === `${a} ${b}`) return `${titles.raw[titles.normalised.indexOf(a)]} + ${titles.raw[titles.normalised.indexOf(b)]}`;
    }
  }
  return undefined;
}

/**
 * Best title similarity of a candidate: as written, or after removing season markers on both sides
 * (slightly weaker, unless the candidate's own marker names the season the request wants).
 */
/** titleSignal without season agreement, memoised per request (pre-ranking and chains ask it often). */
function plainTitleScore(forms: RequestForms, titles: TitleForms): number {
  let score = forms.plainTitle.get(titles);
  if (score === undefined) {
    score = titleSignal(forms, titles).score;
    forms.plainTitle.set(titles, score);
  }
  return score;
}

function titleSignal(forms: RequestForms, titles: TitleForms, candidateSeason?: number, laterPart = false, workTitle = false): { score: number; on: string } {
  const full = bestSimilarity(forms.preparedFull, titles.preparedNormalised, titles);
  if (full.score >= 1) return full;
  // With base forms that are full forms on both sides the base pass scores a subset of the pairs
  // just scored, so it cannot beat `full` (0.96 below it, or equal at best): skip it.
  const baseCannotWin = !workTitle && forms.baseWithinFull && titles.baseIsNormalised;
  let base = baseCannotWin ? { score: 0, on: '' } : bestSimilarity(forms.preparedBase, titles.preparedBase, titles);
  if (workTitle) {
    // "X OVA" names an OVA of X whose own title is "X: Subtitle": compare the franchise part before the subtitle.
    const prefix = bestSimilarity(forms.preparedBase, prefixTitles(titles), titles);
    if (prefix.score * WORK_TITLE_WEIGHT > base.score) base = { score: prefix.score * WORK_TITLE_WEIGHT, on: prefix.on };
  }
  const agrees = !laterPart && candidateSeason !== undefined && candidateSeason === (forms.wantedSeason ?? 1);
  const baseScore = base.score * (agrees ? 1 : 0.96);
  let best = baseScore > full.score ? { score: baseScore, on: base.on } : full;
  if (best.score < 0.97) {
    const joined = concatenatedTitleMatch(forms, titles);
    if (joined) best = { score: 0.97, on: joined };
  }
  return best;
}

const WORK_TITLE_WEIGHT = 0.9;
const SUBTITLE_CUT = /^(.{3,}?)\s*(?::|\s-\s|\s–\s)/u;

/** Each title's part before a subtitle (or the whole title when it has none), prepared once per entry. */
function prefixTitles(titles: TitleForms): PreparedTitle[] {
  titles.preparedPrefix ??= titles.raw.map((raw, index) => {
    const m = withoutDisambiguation(raw).match(SUBTITLE_CUT);
    return m ? prepareNormalised(baseTitle(m[1])) : titles.preparedBase[index];
  });
  return titles.preparedPrefix;
}

/**
 * Share of the request's words (by length) found among the words of one candidate title, best over
 * request forms and titles: "cobra the psychogun" finds all its words in "Cobra The Animation: The
 * Psychogun" but not in "Cobra The Animation".
 */
function wordRecall(forms: RequestForms, titles: TitleForms): number {
  let best = 0;
  for (const words of forms.words) {
    let total = 0;
    for (const w of words) total += w.length;
    if (total === 0) continue;
    for (const title of titles.preparedNormalised) {
      let found = 0;
      for (const w of words) if (title.distinctTokens.includes(w)) found += w.length;
      if (found / total > best) best = found / total;
      if (best >= 1) return 1;
    }
  }
  return best;
}

/**
 * Share of the season title's own words (see RequestForms.distinct) that the candidate's closest title
 * lacks. "Side A" against an entry titled "… Side B" misses "a" whatever the overall similarity.
 */
function distinctMissing(forms: RequestForms, titles: TitleForms): number {
  if (forms.distinct.length === 0) return 0;
  let best = forms.distinct.length;
  for (const title of titles.preparedNormalised) {
    let missing = 0;
    for (const w of forms.distinct) if (!title.distinctTokens.includes(w)) missing++;
    if (missing < best) best = missing;
    if (best === 0) break;
  }
  return best / forms.distinct.length;
}

/**
 * Words of the candidate's closest title that no request form explains (markers aside), capped at 3,
 * as a share of 3: "Recap", "Memories", a second arc name the request does not carry.
 */
function extraWords(forms: RequestForms, titles: TitleForms): number {
  let best = 3;
  for (const title of titles.preparedBase) {
    let extra = 0;
    for (const w of title.distinctTokens) if (!forms.allWords.has(w)) extra++;
    if (extra < best) best = extra;
    if (best === 0) break;
  }
  return best / 3;
}

/**
 * Part/cour agreement: the named part, or the first part when the request names none. A named part k
 * of season s also fits the (k − 1)-th entry after season s's first: MAL often lists a second cour as
 * a sequel with a title of its own.
 */
function partFit(forms: RequestForms, candidate: Candidate): number {
  const place = candidate.place;
  const part = place?.part ?? (isLaterPart(candidate.titles) ? 2 : 1);
  if (forms.wantedPart !== undefined) {
    if (part === forms.wantedPart) return 1;
    const start = place?.seasonStarts.get(forms.wantedSeason ?? 1);
    return place && start !== undefined && place.entryIndex === start + forms.wantedPart - 1 ? 0.8 : 0;
  }
  return part === 1 ? 0.5 : 0;
}

/**
 * Fit of the CR episode numbers to a candidate, and the offset they imply (MAL episode = CR episode −
 * offset). Numbers running on from an earlier season (13…24) fit the entry that starts after exactly
 * that many episodes of its chain, a little less when they begin mid-way in it (17…19); numbers within
 * the entry's own count fit it with no offset.
 */
function episodeRangeFit(range: { low: number; high: number }, candidate: Candidate): { fit: number; offset: number } {
  const episodes = candidate.details.num_episodes && candidate.details.num_episodes > 0 ? candidate.details.num_episodes : undefined;
  const place = candidate.place;
  if (range.low > 1) {
    for (const offset of [place?.seasonOffset, place?.absoluteOffset]) {
      if (offset === undefined || !Number.isFinite(offset) || offset <= 0 || offset !== range.low - 1) continue;
      return { fit: episodes === undefined || range.high - offset <= episodes ? 1 : 0.6, offset };
    }
    if (episodes === undefined) return { fit: 0.4, offset: 0 };
    if (range.high <= episodes) return { fit: 0.8, offset: 0 };
    // Past its own count but inside it once the episodes before it are counted: watched from mid-season.
    for (const offset of [place?.seasonOffset, place?.absoluteOffset]) {
      if (offset !== undefined && Number.isFinite(offset) && offset > 0 && range.low - offset >= 1 && range.high - offset <= episodes) return { fit: 0.9, offset };
    }
    return { fit: 0.05, offset: 0 };
  }
  if (episodes === undefined) return { fit: 0.5, offset: 0 };
  if (range.high <= episodes) return { fit: 1, offset: 0 };
  // More CR episodes than the entry has: a split cour (this entry's sequel continues the count) or the
  // wrong entry. A later cour cannot hold a season's first episode and more besides.
  if (range.high > episodes * 2.2) return { fit: 0.15, offset: 0 };
  if (place && place.part > 1) return { fit: 0.15, offset: 0 };
  const continued = place && candidate.details.related_anime.some((r) => r.relation_type === 'sequel');
  return { fit: continued ? 0.7 : 0.45, offset: 0 };
}

/**
 * The offset for the chosen entry when no sequel holds the numbers: the one they fit, else — when
 * they start past its episode count — numbering that runs on from elsewhere.
 */
function rangeOffset(range: { low: number; high: number }, candidate: Candidate, firstAirDay: number): number {
  const { offset } = episodeRangeFit(range, candidate);
  const episodes = candidate.details.num_episodes;
  if (offset !== 0 || !episodes) return offset;
  if (range.low > episodes) return range.low - 1;
  // Numbers that start inside the entry's count but end past it, no more of them than it has, the
  // first aired when the entry began: its own episodes counted on from elsewhere, not its last few.
  const start = dayNumber(candidate.details.start_date);
  if (range.low > 1 && range.high > episodes && range.high - range.low < episodes && Math.abs(firstAirDay - start) <= 14) return range.low - 1;
  return offset;
}

/**
 * Whether numbers past the chosen entry belong to its sequels: only when its chain place is known
 * with every earlier episode counted, so numbering that runs on across the show is ruled out.
 */
function skipsAhead(range: { low: number; high: number }, candidate: Candidate): boolean {
  const place = candidate.place;
  if (!place || !Number.isFinite(place.absoluteOffset) || !Number.isFinite(place.seasonOffset)) return false;
  return episodeRangeFit(range, candidate).offset === 0 && range.low - 1 !== place.absoluteOffset;
}

/**
 * Fit of the season's first CR air date to the candidate's start: a simulcast starts within days, a
 * dub weeks or months later; a season that aired before the entry started is another entry.
 */
function airDateFit(firstAirDay: number, details: MalAnimeDetails): number {
  const start = dayNumber(details.start_date);
  if (!Number.isFinite(start)) {
    const year = startYear(details);
    if (!Number.isFinite(year)) return 0.4;
    const gap = new Date(firstAirDay * DAY_MS).getUTCFullYear() - year;
    return gap === 0 ? 0.8 : gap === 1 ? 0.5 : gap < 0 ? 0 : 0.2;
  }
  const lag = firstAirDay - start;
  if (lag < -10) return 0;
  if (lag <= 14) return 1;
  if (lag <= 120) return 0.7;
  if (lag <= 400) return 0.4;
  return 0.15;
}

/** The air-date feature: the fit − 0.5; for a catalog upload only "started after it" counts (−0.5). */
function airDateSignal(forms: RequestForms, details: MalAnimeDetails): number {
  const fit = airDateFit(forms.firstAirDay, details);
  if (forms.airDatesBatch) return fit === 0 ? -0.5 : 0;
  return fit - 0.5;
}

function isMainLineType(type: MalMediaType | undefined): boolean {
  return type === 'tv' || type === 'ona';
}

function mainLineCount(chain: MalAnimeDetails[]): number {
  let count = 0;
  for (const details of chain) if (isMainLineType(details.media_type)) count++;
  return count;
}

function mediaTypeFit(wanted: MalMediaType | null | undefined, actual: MalMediaType | undefined): number {
  if (wanted) {
    if (wanted === actual) return 1;
    if (isMainLineType(wanted) && isMainLineType(actual)) return 0.8;
    if ((wanted === 'ova' || wanted === 'special') && (actual === 'ova' || actual === 'special' || actual === 'tv_special')) return 0.8;
    return 0.2;
  }
  if (actual === 'tv') return 1;
  if (actual === 'ona') return 0.9;
  if (actual === 'movie' || actual === 'ova' || actual === 'special' || actual === 'tv_special') return 0.5;
  return 0.15;
}

function startYear(candidate: MalCandidate): number {
  return candidate.start_season?.year ?? (candidate.start_date ? Number(candidate.start_date.slice(0, 4)) : NaN);
}

function yearFit(wanted: number, year: number): number {
  if (!Number.isFinite(year)) return 0.4;
  const gap = Math.abs(year - wanted);
  return gap === 0 ? 1 : gap === 1 ? 0.75 : gap === 2 ? 0.4 : 0.1;
}

function episodeFit(wanted: number | null | undefined, candidate: MalCandidate): number {
  if (!wanted || !candidate.num_episodes) return 0.5;
  if (wanted <= candidate.num_episodes) return wanted >= candidate.num_episodes * 0.5 ? 1 : 0.8;
  // More CR episodes than the entry has: a split cour or the wrong entry.
  return wanted <= candidate.num_episodes * 2.2 ? 0.5 : 0.2;
}

/**
 * Confidence stated for a season decided from the search answer alone (see searchOnlyChoice): the share
 * of such decisions that were right on the labelled season and series cases (docs/matching.md).
 */
export const SEARCH_ONLY_CONFIDENCE = 0.995;

/** A plain season that the search hits alone decide, and why; undefined when details are needed. */
interface SearchOnlyChoice {
  hit: MalCandidate;
  on: string;
  episodes: number;
  /** The season wanted (1, or the one the season title names). */
  season: number;
}

/**
 * A season with nothing the sequel chain must explain — the first (no season or part beyond it named), or
 * a later one that its own title names with CR's number agreeing; no part, no words beyond the series
 * title and the marker; episodes from 1 (a first season: from any episode CR numbers in season 1) that
 * fit the entry; not a movie — whose request title is exactly one TV/ONA hit's main, English or Japanese
 * title (a disambiguation such as "(2019)" aside), that hit naming no other season, with no other hit
 * carrying that title in any form (a remake, a film of the same name): that hit is the season. Anything
 * less clear takes the full path with details, so this only saves MAL requests where the details could
 * not change the answer.
 */
function searchOnlyChoice(request: MatchRequest, forms: RequestForms, hits: MalCandidate[]): SearchOnlyChoice | undefined {
  if (request.mediaType && !isMainLineType(request.mediaType)) return undefined;
  if (forms.impliedMediaType || forms.durationType === 'movie') return undefined;
  if ((forms.wantedPart ?? 1) !== 1 || forms.distinct.length > 0) return undefined;
  const wanted = forms.wantedSeason ?? 1;
  const range = forms.episodeRange;
  if (wanted === 1) {
    if ((forms.crSeason ?? 1) !== 1) return undefined;
    // Episodes from 1, or from later on when CR itself says season 1 (someone watching mid-season);
    // numbers that run on with no season given may continue an earlier season.
    if (range && range.low !== 1 && !(range.low > 1 && forms.crSeason === 1)) return undefined;
  } else {
    // A later season only when its title names it and CR's number does not disagree, with episodes from
    // 1: numbers running on from the season before need the chain for their offset.
    if (forms.titleSeason !== wanted || (forms.crSeason !== undefined && forms.crSeason !== wanted)) return undefined;
    if (range && range.low !== 1) return undefined;
  }
  const episodes = range ? range.high : (request.episodeCount ?? 0);
  if (!(episodes >= 1)) return undefined;
  // The request's own names: for a later season only the forms that carry its number (not the bare
  // series title, which names the first season).
  const names = new Set(
    forms.wantedSeason === 1 ? [...forms.full, ...forms.base] : wanted === 1 ? forms.full : forms.full.filter((f) => statedSeasonNumber(f, true) === wanted),
  );
  if (names.size === 0) return undefined;
  let chosen: SearchOnlyChoice | undefined;
  for (const hit of hits) {
    const titles = titleForms(hit);
    const exactOfficial = titles.normalised.slice(0, titles.official).findIndex((t) => names.has(t));
    const stated = statedSeasonOf(titles);
    // The entry names a season other than the wanted one (or a later part of it).
    const later = (stated ?? 1) !== wanted || isLaterPart(titles);
    if (exactOfficial < 0) {
      const bySynonym = titles.normalised.some((t) => names.has(t));
      // Equal once season markers are dropped ("X 2nd Season"), or a synonym that is the franchise's
      // name: a rival unless the entry's own titles name another season, or it is not a TV/ONA entry
      // while the season has several episodes.
      const byBase = titles.base.some((t) => names.has(t));
      if (!bySynonym && !byBase) continue;
      if (later) continue;
      if (!isMainLineType(hit.media_type) && episodes >= 2) continue;
      return undefined;
    }
    // A film of that name cannot be a season of several episodes.
    if (hit.media_type === 'movie' && episodes >= 2) continue;
    // A second entry of that name (another type included), or one naming another season: the details
    // must tell them apart.
    if (chosen || later || !isMainLineType(hit.media_type)) return undefined;
    chosen = { hit, on: titles.raw[exactOfficial], episodes, season: wanted };
  }
  if (!chosen) return undefined;
  const { hit } = chosen;
  if (!hit.num_episodes || hit.num_episodes < episodes) return undefined;
  // Air dates from CR must fit the entry's start as a simulcast or an early dub does; a season that
  // started months later may be a later cour CR counts as the same season.
  if (Number.isFinite(forms.firstAirDay)) {
    const start = dayNumber(hit.start_date);
    // The first episode watched may be a later one: allow its week on top of the simulcast/dub lag.
    const weeksIn = 7 * ((range?.low ?? 1) - 1);
    if (!Number.isFinite(start) || forms.firstAirDay - start < -10 || forms.firstAirDay - start > 120 + weeksIn) return undefined;
  }
  if (request.year && Math.abs(startYear(hit) - request.year) > 1) return undefined;
  return chosen;
}

/**
 * Matches CR seasons against a CandidateSource. Stateless between calls apart from the optional cache;
 * one instance can serve many requests.
 */
export class Matcher {
  private readonly source: CandidateSource;
  private readonly searches = new Map<string, Promise<MalCandidate[]>>();
  private readonly options: Required<Omit<MatcherOptions, 'cache'>> & { cache?: MappingCache };

  constructor(source: CandidateSource, options: MatcherOptions = {}) {
    this.source = source;
    this.options = {
      cache: options.cache,
      autoAcceptThreshold: options.autoAcceptThreshold ?? DEFAULT_AUTO_ACCEPT_THRESHOLD,
      minimumTitleSimilarity: options.minimumTitleSimilarity ?? 0.55,
      searchLimit: options.searchLimit ?? 20,
      detailsLimit: options.detailsLimit ?? 8,
      reportedCandidates: options.reportedCandidates ?? 5,
      decideFromSearch: options.decideFromSearch ?? true,
    };
  }

  async match(request: MatchRequest): Promise<MatchResult> {
    if (request.seasonKey && this.options.cache) {
      const cached = await this.options.cache.get(request.seasonKey);
      if (cached) {
        return {
          seasonKey: request.seasonKey,
          malId: cached.malId,
          episodeOffset: cached.episodeOffset,
          segments: cached.segments ?? [{ malId: cached.malId, firstEpisode: 1, lastEpisode: null, episodeOffset: cached.episodeOffset }],
          confidence: cached.source === 'automatic' ? cached.confidence : 1,
          needsReview: false,
          candidates: [],
          explanation: { text: `mapping cache (${cached.source}) → MAL ${cached.malId}`, signals: null, margin: 1, source: 'cache' },
        };
      }
    }
    try {
      return await this.matchBySearch(request);
    } catch (cause) {
      throw new MatchingError(`matching "${request.seasonTitle ?? request.seriesTitle}" failed: ${(cause as Error).message}`, { cause });
    }
  }

  /**
   * The search result together with the model's view of the request (candidate features), for the
   * offline fitting script. `match` is `analyse` without the model case.
   */
  async analyse(request: MatchRequest): Promise<{ result: MatchResult; modelCase: ModelCase | null; candidateIds: number[] }> {
    const forms = requestForms(request);
    const queries = buildQueries(request);
    const noMatch = (text: string, candidates: ScoredCandidate[] = []): MatchResult => ({
      seasonKey: request.seasonKey,
      malId: null,
      episodeOffset: 0,
      segments: [],
      confidence: 0,
      needsReview: true,
      candidates,
      explanation: { text, signals: null, margin: 0, source: 'search' },
    });
    const empty = (result: MatchResult) => ({ result, modelCase: null, candidateIds: [] });
    if (queries.length === 0) return empty(noMatch('no usable search query (title shorter than 3 characters)'));

    // 0. The first phrasing's answer alone may decide a plain first season (no details needed).
    const primary = await this.search(queries[0]);
    const quick = this.options.decideFromSearch ? searchOnlyChoice(request, forms, primary) : undefined;
    if (quick) return { result: this.searchOnlyResult(request, forms, quick, primary), modelCase: null, candidateIds: primary.map((h) => h.id) };

    // 1. Search with every phrasing; keep each candidate once.
    const hits = new Map<number, MalCandidate>();
    const results = await Promise.all(queries.map((q) => this.search(q)));
    for (const list of results) for (const hit of list) if (!hits.has(hit.id)) hits.set(hit.id, hit);
    if (hits.size === 0) return empty(noMatch(`no search results for ${queries.map((q) => JSON.stringify(q)).join(', ')}`));

    // 2. Pre-rank by title alone; fetch details of the best few.
    const preRanked = [...hits.values()]
      .map((hit) => ({ hit, title: plainTitleScore(forms.franchise, titleForms(hit)) }))
      .sort(byTitleThenId);
    const shortlistIds = preRanked.slice(0, this.options.detailsLimit).map((r) => r.hit.id);
    const detailsById = new Map<number, MalAnimeDetails>();
    await this.fetchDetails(shortlistIds, detailsById);

    // 3. Place each candidate on its sequel chain; add the chain entry at the wanted season position.
    const chains = new Map<number, MalAnimeDetails[]>();
    for (const id of shortlistIds) {
      const details = detailsById.get(id);
      if (!details) continue;
      const chain = await this.sequelChainOf(details, detailsById);
      // A side story's chain can end at the same first season (its prequel) as the main line does:
      // keep the one with more TV/ONA entries, so that one never hides the seasons' places.
      const known = chains.get(chain[0].id);
      const count = mainLineCount(chain);
      if (!known || count > mainLineCount(known) || (count === mainLineCount(known) && chain.length > known.length)) chains.set(chain[0].id, chain);
    }
    const candidates = new Map<number, Candidate>();
    const shortlist = new Set(shortlistIds);
    // A season-level request (a season named, words beyond the series title, running numbers) weighs
    // every TV/ONA entry of the chains found: the right cour is often not among the search hits.
    const seasonLevel = forms.seasonIsExplicit || forms.distinct.length > 0 || (forms.episodeRange?.low ?? 1) > 1;
    for (const chain of chains.values()) {
      const places = mainLinePlaces(chain);
      const positions = places.map((p) => p?.position ?? null);
      let chainTitle = 0;
      for (const details of chain) chainTitle = Math.max(chainTitle, plainTitleScore(forms.franchise, titleForms(details)));
      const seasonStarts = new Map<number, number>();
      for (const place of places) {
        if (!place) continue;
        place.chainTitle = chainTitle;
        place.seasonStarts = seasonStarts;
        if (place.part === 1) seasonStarts.set(place.position, place.entryIndex);
      }
      const years = chain.map(startYear);
      chain.forEach((details, index) => {
        const inShortlist = shortlist.has(details.id);
        const atWantedSeason = forms.wantedSeason !== undefined && positions[index] === forms.wantedSeason;
        const isFirstSeason = positions[index] === 1;
        if (!inShortlist && !atWantedSeason && !isFirstSeason && !(seasonLevel && places[index] !== null)) return;
        // Years from this entry to the chain's latest later TV season (franchise spread).
        let latestLater = NaN;
        for (let j = index + 1; j < chain.length; j++) {
          if (positions[j] !== null && positions[j]! > (positions[index] ?? 0) && Number.isFinite(years[j])) latestLater = years[j];
        }
        const spread = positions[index] === 1 && Number.isFinite(latestLater) && Number.isFinite(years[index]) ? latestLater - years[index] : 0;
        const titles = titleForms(details);
        candidates.set(details.id, {
          details,
          titles,
          root: chain[0].id,
          position: positions[index],
          statedSeason: statedSeasonOf(titles),
          laterSpreadYears: Math.max(0, spread),
          place: places[index],
        });
      });
    }
    for (const id of shortlistIds) {
      const details = detailsById.get(id);
      if (details && !candidates.has(id)) {
        const titles = titleForms(details);
        candidates.set(id, { details, titles, root: id, position: null, statedSeason: statedSeasonOf(titles), laterSpreadYears: 0, place: null });
      }
    }

    // 4. Features and the choice model.
    const list = [...candidates.values()];
    const featured = list.map((candidate) => this.features(request, forms, candidate));
    const modelCase: ModelCase = {
      seasonIsExplicit: forms.seasonIsExplicit,
      candidates: list.map((candidate, i) => ({
        malId: candidate.details.id,
        x: featured[i].x,
        franchise: franchiseOf(candidate),
        title: featured[i].signals.title,
        laterSpread: forms.seasonIsExplicit ? 0 : Math.min(1, candidate.laterSpreadYears / 10),
      })),
    };
    const candidateIds = list.map((c) => c.details.id);
    if (list.length === 0) return { result: noMatch('no candidate details available'), modelCase, candidateIds };
    const decision = decide(modelCase);
    const scored: ScoredCandidate[] = list
      .map((candidate, i) => ({
        malId: candidate.details.id,
        title: candidate.details.title,
        mediaType: candidate.details.media_type,
        score: decision.probabilities[i],
        choiceProbability: decision.probabilities[i],
        utility: decision.utilities[i],
        signals: featured[i].signals,
      }))
      .sort((a, b) => (b.utility! > a.utility! ? 1 : b.utility! < a.utility! ? -1 : a.malId - b.malId));
    const reported = scored.slice(0, this.options.reportedCandidates);
    const best = scored[0];
    const bestPlace = list.find((l) => l.details.id === best.malId)?.place;
    if (Math.max(best.signals.title, bestPlace?.chainTitle ?? 0) < this.options.minimumTitleSimilarity) {
      // The matcher chose none of them: none may look likelier than "no match" to a reviewer.
      consistentScores(scored, 0);
      return {
        result: noMatch(
          `no good candidate: best title similarity ${best.signals.title.toFixed(2)} ("${best.title}") is below ${this.options.minimumTitleSimilarity}`,
          reported,
        ),
        modelCase,
        candidateIds,
      };
    }

    // 5. Confidence from the calibrated model; margin reported against the best other franchise.
    const bestCandidate = modelCase.candidates[decision.best];
    const rival = scored.find((c) => !sameFranchise(bestCandidate, modelCase.candidates[list.findIndex((l) => l.details.id === c.malId)]));
    const margin = rival ? best.utility! - rival.utility! : best.utility!;
    const confidence = Math.round(decision.confidence * 1000) / 1000;
    const chosen = list[list.findIndex((l) => l.details.id === best.malId)];
    // CR aired it more than 10 days before MAL says the entry began (not a catalog upload): another
    // entry, or a date one of them has wrong. Never written without the user, however sure the rest is.
    const airedBefore = Number.isFinite(forms.firstAirDay) && !forms.airDatesBatch && airDateFit(forms.firstAirDay, chosen.details) === 0;
    const needsReview = airedBefore || confidence < this.options.autoAcceptThreshold;
    const range = forms.episodeRange;
    // Numbers past the chosen entry (a CR season spanning cours, watched from the second cour on) begin
    // in the sequel holding the first of them, if one does and had started when they aired; otherwise
    // they run on from outside the chain (CR counting on a show MAL splits) and stay on the chosen entry.
    const ahead = range !== null && skipsAhead(range, chosen) ? this.sequelHolding(best.malId, range.low, episodeRangeFit(range, chosen).offset, detailsById, forms.firstAirDay) : undefined;
    const segments = range
      ? ahead
        ? this.segmentsFor(ahead.entry, range.low, range.high, ahead.covered, detailsById)
        : this.segmentsFor(chosen.details, range.low, range.high, rangeOffset(range, chosen, forms.firstAirDay), detailsById)
      : this.segmentsFor(chosen.details, 1, request.episodeCount ?? null, 0, detailsById);
    consistentScores(scored, confidence);

    const text = [
      `MAL ${best.malId} "${best.title}" (${best.mediaType ?? 'unknown type'}) utility ${best.utility!.toFixed(2)}, choice probability ${(best.choiceProbability ?? 0).toFixed(3)}`,
      `title ${best.signals.title.toFixed(2)} via "${best.signals.titleMatchedOn}"`,
      `season ${best.signals.season.toFixed(2)} (chain position ${best.signals.chainPosition ?? '?'}${chosen.place && chosen.place.part > 1 ? ` part ${chosen.place.part}` : ''}, wanted ${forms.wantedSeason ?? 'first'}${forms.wantedPart ? ` part ${forms.wantedPart}` : ''})`,
      forms.distinct.length > 0 ? `season-title words ${JSON.stringify(forms.distinct.join(' '))}: ${Math.round((1 - distinctMissing(forms, chosen.titles)) * 100)}% found` : '',
      segments[0] && segments[0].malId !== best.malId ? `episodes from ${segments[0].firstEpisode} are in its sequel MAL ${segments[0].malId}` : '',
      segments[0] && segments[0].episodeOffset !== 0 ? `episodes ${segments[0].firstEpisode}… → MAL episode − ${segments[0].episodeOffset}` : '',
      `type ${best.signals.mediaType.toFixed(2)}, year ${best.signals.year.toFixed(2)}, episodes ${best.signals.episodes.toFixed(2)}`,
      rival ? `lead over other titles ${margin.toFixed(2)} (next: MAL ${rival.malId} "${rival.title}")` : 'no rival title',
      bestCandidate.laterSpread > 0 ? `franchise has later seasons up to ${Math.round(bestCandidate.laterSpread * 10)}+ years on` : '',
      airedBefore ? 'CR aired it before the entry began' : '',
      `confidence ${confidence.toFixed(3)} → ${needsReview ? 'needs review' : 'auto-accepted'}`,
    ]
      .filter((part) => part.length > 0)
      .join('; ');
    return {
      result: {
        seasonKey: request.seasonKey,
        // The entry that holds the season's first episode (the chosen one, or its sequel when the
        // episodes start past it).
        malId: segments[0]?.malId ?? best.malId,
        episodeOffset: segments[0]?.episodeOffset ?? 0,
        segments,
        confidence,
        needsReview,
        candidates: reported,
        explanation: { text, signals: best.signals, margin, source: 'search' },
      },
      modelCase,
      candidateIds,
    };
  }

  /**
   * One search per distinct query for the life of this matcher (one sync job): the seasons of a series
   * share their series-title queries, and MAL's search is the slow, rate-limited part. Bounded.
   */
  private search(query: string): Promise<MalCandidate[]> {
    const key = `${this.options.searchLimit}\u0000${query}`;
    let found = this.searches.get(key);
    if (!found) {
      if (this.searches.size >= SEARCH_MEMO_LIMIT) this.searches.clear();
      found = this.source.search(query, this.options.searchLimit);
      // A failed search is not remembered: the next season may try again.
      found.catch(() => this.searches.delete(key));
      this.searches.set(key, found);
    }
    return found;
  }

  /** The result of a search-only decision, with the hits a reviewer would weigh scored consistently with it. */
  private searchOnlyResult(request: MatchRequest, forms: RequestForms, quick: SearchOnlyChoice, hits: MalCandidate[]): MatchResult {
    const asCandidate = (hit: MalCandidate): Candidate => {
      const details = { ...hit, related_anime: [] } as MalAnimeDetails;
      const titles = titleForms(hit);
      return { details, titles, root: hit.id, position: null, statedSeason: statedSeasonOf(titles), laterSpreadYears: 0, place: null };
    };
    const others = hits
      .filter((h) => h.id !== quick.hit.id)
      .map((hit) => ({ hit, title: plainTitleScore(forms.franchise, titleForms(hit)) }))
      .sort(byTitleThenId)
      .slice(0, this.options.reportedCandidates - 1)
      .map((r) => r.hit);
    const confidence = SEARCH_ONLY_CONFIDENCE;
    const rest = others.length > 0 ? (1 - confidence) / others.length : 0;
    const scored: ScoredCandidate[] = [quick.hit, ...others].map((hit, index) => ({
      malId: hit.id,
      title: hit.title,
      mediaType: hit.media_type,
      score: index === 0 ? confidence : rest,
      choiceProbability: index === 0 ? confidence : rest,
      signals: this.features(request, forms, asCandidate(hit)).signals,
    }));
    consistentScores(scored, confidence);
    const needsReview = confidence < this.options.autoAcceptThreshold;
    const first = forms.episodeRange?.low ?? 1;
    const text = [
      `MAL ${quick.hit.id} "${quick.hit.title}" (${quick.hit.media_type ?? 'unknown type'}): ${quick.season === 1 ? 'a first season' : `season ${quick.season} as its title says`}, and the only search hit titled "${quick.on}"`,
      `episodes ${first}–${quick.episodes} of ${quick.hit.num_episodes}`,
      Number.isFinite(startYear(quick.hit)) ? `starts ${startYear(quick.hit)}` : '',
      'decided from the search answer (no details needed)',
      `confidence ${confidence.toFixed(3)} → ${needsReview ? 'needs review' : 'auto-accepted'}`,
    ]
      .filter((part) => part.length > 0)
      .join('; ');
    return {
      seasonKey: request.seasonKey,
      malId: quick.hit.id,
      episodeOffset: 0,
      segments: [{ malId: quick.hit.id, firstEpisode: first, lastEpisode: null, episodeOffset: 0 }],
      confidence,
      needsReview,
      candidates: scored,
      explanation: { text, signals: scored[0].signals, margin: 1, source: 'search' },
    };
  }

  private async matchBySearch(request: MatchRequest): Promise<MatchResult> {
    return (await this.analyse(request)).result;
  }

  private features(request: MatchRequest, forms: RequestForms, candidate: Candidate): { x: number[]; signals: MatchSignals } {
    const { details } = candidate;
    const wantedType = request.mediaType ?? forms.impliedMediaType;
    const workTitle = !request.mediaType && wantedType !== undefined && !isMainLineType(wantedType) && mediaTypeFit(wantedType, details.media_type) >= 0.8;
    const title = titleSignal(forms, candidate.titles, candidate.statedSeason, isLaterPart(candidate.titles), workTitle);
    // Season positions only describe TV/ONA entries; for a wanted movie/OVA the signal is neutral.
    const season = wantedType && !isMainLineType(wantedType) ? 0.5 : seasonFit(forms, candidate);
    const year = startYear(details);
    const signals: MatchSignals = {
      title: title.score,
      titleMatchedOn: title.on,
      season,
      chainPosition: candidate.position,
      mediaType: mediaTypeFit(wantedType, details.media_type),
      year: request.year ? yearFit(request.year, year) : Number.isFinite(year) ? Math.max(-1, Math.min(1, (year - 2008) / 12)) : 0,
      episodes: episodeFit(request.episodeCount ?? (forms.episodeRange ? forms.episodeRange.high - forms.episodeRange.low + 1 : null), details),
    };
    const range = forms.episodeRange ? episodeRangeFit(forms.episodeRange, candidate) : null;
    const place = candidate.place;
    const missing = distinctMissing(forms, candidate.titles);
    const x = [
      signals.title,
      signals.title >= 0.97 ? 1 : 0,
      forms.seasonIsExplicit ? season : 0,
      // Numbers running on from earlier episodes say "not the first season" even when none is named.
      forms.seasonIsExplicit || (forms.episodeRange?.low ?? 1) > 1 ? 0 : season,
      request.mediaType ? signals.mediaType : 0,
      !request.mediaType && forms.impliedMediaType ? signals.mediaType : 0,
      wantedType || forms.durationType ? 0 : signals.mediaType,
      request.year ? signals.year : 0,
      request.year ? 0 : signals.year,
      range ? 0 : signals.episodes - 0.5,
      wordRecall(forms, candidate.titles),
      place ? place.chainTitle : signals.title,
      missing,
      forms.distinct.length > 0 && missing === 0 ? 1 : 0,
      extraWords(forms, candidate.titles),
      // CR's own number read as a count of every TV/ONA entry (cours, recaps counted as seasons).
      forms.crSeason !== undefined && place ? (place.entryIndex === forms.crSeason ? 1 : 0) : 0,
      partFit(forms, candidate),
      range ? range.fit - 0.5 : 0,
      Number.isFinite(forms.firstAirDay) ? airDateSignal(forms, details) : 0,
      forms.durationType && !request.mediaType ? mediaTypeFit(forms.durationType, details.media_type) - 0.5 : 0,
    ];
    return { x, signals };
  }

  private async fetchDetails(ids: number[], into: Map<number, MalAnimeDetails>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !into.has(id));
    if (missing.length === 0) return;
    for (const details of await this.source.details(missing)) into.set(details.id, details);
  }

  /** The whole prequel→sequel chain through `start`, earliest first (bounded walk). */
  private async sequelChainOf(start: MalAnimeDetails, known: Map<number, MalAnimeDetails>): Promise<MalAnimeDetails[]> {
    const before = (await this.chainWalk(start, 'prequel', known)).reverse();
    const after = await this.chainWalk(start, 'sequel', known);
    return [...before, start, ...after];
  }

  /** The entries one way from `start`, nearest first (at most MAX_CHAIN_STEPS). */
  private async chainWalk(start: MalAnimeDetails, relation: 'prequel' | 'sequel', known: Map<number, MalAnimeDetails>): Promise<MalAnimeDetails[]> {
    const found: MalAnimeDetails[] = [];
    const visited = new Set<number>([start.id]);
    let current = start;
    for (let step = 0; step < MAX_CHAIN_STEPS; step++) {
      const next = unvisitedRelation(current, relation, visited);
      if (!next) break;
      // Most chain entries are known already (the shortlist's chains overlap): no await for those.
      if (!known.has(next.node.id)) await this.fetchDetails([next.node.id], known);
      const nextDetails = known.get(next.node.id);
      if (!nextDetails) break;
      visited.add(nextDetails.id);
      found.push(nextDetails);
      current = nextDetails;
    }
    return found;
  }

  /**
   * The sequel (at most 4 steps on from `malId`) that holds episode `firstEpisode` when the chosen
   * entry, after `offset` earlier episodes, ends before it, with the episodes before that sequel.
   * Undefined when the chosen entry holds it, when no sequel does, or when one walked had not started
   * by the day that episode first aired (10 days' grace, as for air-date fit).
   */
  private sequelHolding(malId: number, firstEpisode: number, offset: number, known: Map<number, MalAnimeDetails>, firstAirDay: number): { entry: MalAnimeDetails; covered: number } | undefined {
    let current = known.get(malId);
    let covered = offset;
    for (let step = 0; current?.num_episodes && covered + current.num_episodes < firstEpisode; step++) {
      const sequel = step < 4 ? mainLineSequel(current, known) : undefined;
      if (!sequel || (Number.isFinite(firstAirDay) && dayNumber(sequel.start_date) > firstAirDay + 10)) return undefined;
      covered += current.num_episodes;
      current = sequel;
    }
    return current && current.id !== malId ? { entry: current, covered } : undefined;
  }

  /**
   * Segments from `first` (the entry holding CR episode `firstEpisode`, after `offset` earlier episodes):
   * one CR season may run across several MAL entries (split cours), so follow sequels until the episodes fit.
   */
  private segmentsFor(first: MalAnimeDetails, firstEpisode: number, lastEpisode: number | null, offset: number, known: Map<number, MalAnimeDetails>): MatchSegment[] {
    let current = first;
    let covered = offset;
    const segments: MatchSegment[] = [{ malId: first.id, firstEpisode, lastEpisode: null, episodeOffset: covered }];
    if (!lastEpisode) return segments;
    while (current.num_episodes && covered + current.num_episodes < lastEpisode && segments.length < 4) {
      const sequel = mainLineSequel(current, known);
      if (!sequel) break;
      covered += current.num_episodes;
      segments[segments.length - 1].lastEpisode = covered;
      segments.push({ malId: sequel.id, firstEpisode: covered + 1, lastEpisode: null, episodeOffset: covered });
      current = sequel;
    }
    return segments;
  }
}

/** The entry's TV/ONA sequel among the known details, if any. */
function mainLineSequel(details: MalAnimeDetails, known: Map<number, MalAnimeDetails>): MalAnimeDetails | undefined {
  const sequelId = details.related_anime.find((r) => r.relation_type === 'sequel')?.node.id;
  const sequel = sequelId === undefined ? undefined : known.get(sequelId);
  return sequel && isMainLineType(sequel.media_type) ? sequel : undefined;
}

function titleMarkers(forms: TitleForms): SeasonMarker[][] {
  forms.markers ??= forms.markerText.map(normalisedSeasonMarkers);
  return forms.markers;
}

/** The first relation of that type to an entry not visited yet (a loop, not a closure per chain step). */
function unvisitedRelation(details: MalAnimeDetails, relation: 'prequel' | 'sequel', visited: Set<number>): MalAnimeDetails['related_anime'][number] | undefined {
  for (const related of details.related_anime) if (related.relation_type === relation && !visited.has(related.node.id)) return related;
  return undefined;
}

/**
 * Best title first, then the lower id. Answers -1/0/1 rather than a difference of doubles (no number
 * boxed per comparison); a tie, NaN included, falls to the ids as `b.title - a.title || …` did.
 */
function byTitleThenId(a: { hit: MalCandidate; title: number }, b: { hit: MalCandidate; title: number }): number {
  return b.title > a.title ? 1 : b.title < a.title ? -1 : a.hit.id - b.hit.id;
}

function statedSeasonOf(forms: TitleForms): number | undefined {
  if (forms.statedSeason === null) {
    let found: number | undefined;
    for (const markers of titleMarkers(forms)) {
      found = statedSeasonIn(markers);
      if (found !== undefined) break;
    }
    forms.statedSeason = found;
  }
  return forms.statedSeason;
}

function isLaterPart(forms: TitleForms): boolean {
  forms.laterPart ??= titleMarkers(forms).some((markers) => markers.some((m) => m.kind === 'part' && m.number >= 2));
  return forms.laterPart;
}

/**
 * 1-based TV-season position of each chain entry (null for movies, OVAs, …). A second part/cour of the
 * same season does not start a new season.
 */
function mainLinePlaces(chain: MalAnimeDetails[]): Array<ChainPlace | null> {
  let position = 0;
  let entryIndex = 0;
  let part = 0;
  let seasonOffset = 0;
  let absoluteOffset = 0;
  let previousEpisodes = 0;
  let previousStated: number | undefined;
  return chain.map((details) => {
    if (!isMainLineType(details.media_type)) return null;
    const titles = titleForms(details);
    const stated = statedSeasonOf(titles);
    // Only two titles stating the same season (or a "Part 2") continue one season; a stated number
    // equal to a merely counted position does not (western counting skips short arcs).
    const continuesSeason = position > 0 && (isLaterPart(titles) || (stated !== undefined && stated === previousStated));
    entryIndex++;
    if (entryIndex > 1) absoluteOffset += previousEpisodes;
    if (continuesSeason) {
      part++;
      seasonOffset += previousEpisodes;
    } else {
      position++;
      part = 1;
      seasonOffset = 0;
    }
    previousStated = stated;
    previousEpisodes = details.num_episodes && details.num_episodes > 0 ? details.num_episodes : NaN;
    return { position, entryIndex, part, seasonOffset, absoluteOffset, chainTitle: 0, seasonStarts: new Map<number, number>() };
  });
}

function seasonFit(forms: RequestForms, candidate: Candidate): number {
  const wanted = forms.wantedSeason ?? 1;
  const isMainLine = isMainLineType(candidate.details.media_type);
  if (candidate.position !== null) {
    if (candidate.position === wanted) return 1;
    if (candidate.statedSeason === wanted) return 0.9;
    return Math.max(0, 0.4 - 0.2 * Math.abs(candidate.position - wanted));
  }
  if (candidate.statedSeason !== undefined) return candidate.statedSeason === wanted ? 0.9 : 0;
  // No chain information: a main-line entry without a season marker is most likely a first season.
  if (!isMainLine) return 0.3;
  return wanted === 1 ? 0.7 : 0.3;
}

/**
 * Turns the candidates' choice probabilities into scores that agree with the decision: the chosen
 * candidate (first) gets the confidence, the others share 1 − confidence by choice probability and
 * stay at or below it. With no choice (confidence 0) every score is 0.
 */
function consistentScores(scored: ScoredCandidate[], confidence: number): void {
  if (scored.length === 0) return;
  const bestP = scored[0].choiceProbability ?? 0;
  const rest = 1 - bestP;
  scored.forEach((candidate, index) => {
    const p = candidate.choiceProbability ?? 0;
    const share = index === 0 ? confidence : confidence === 0 || rest <= 0 ? 0 : Math.min(confidence, ((1 - confidence) * p) / rest);
    candidate.score = Math.round(share * 10000) / 10000;
  });
}

function franchiseOf(candidate: Candidate): Set<number> {
  return new Set([candidate.details.id, candidate.root, ...candidate.details.related_anime.map((r) => r.node.id)]);
}

/**
 * Kept for API stability: the confidence now comes from the fitted model in model.ts (see `decide`).
 * Maps a title similarity and the lead over the nearest other franchise to a rough P(correct).
 */
export function calibratedConfidence(signals: MatchSignals, margin: number, seasonMargin: number, seasonIsExplicit: boolean): number {
  let z = -9 + 9.5 * signals.title + 25 * Math.min(margin, 0.3);
  if (seasonIsExplicit) z += 6 * Math.min(seasonMargin, 0.2) - 0.6 + 1.2 * signals.season;
  return Math.round((1 / (1 + Math.exp(-z))) * 1000) / 1000;
}
