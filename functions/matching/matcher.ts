/**
 * Matches one Crunchyroll season to a MAL entry: mapping cache first, then MAL-style search with several
 * phrasings, details for the most promising candidates, and a score from generic signals — title
 * similarity over all alternative titles, position on the sequel chain, media type, year and episode
 * count. Low confidence goes to review; without a plausible candidate there is no guess at all.
 */
import type { MappingCache } from './cache';
import { buildQueries } from './queries';
import { baseTitle, normalisedSimilarity, normaliseTitle, seasonMarkers, statedSeasonNumber, stripVersionTags, withoutDisambiguation } from './text';
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
}

export class MatchingError extends Error {
  override name = 'MatchingError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const DEFAULT_AUTO_ACCEPT_THRESHOLD = 0.8;

const SCORE_WEIGHTS = { title: 0.62, season: 0.22, mediaType: 0.08, year: 0.05, episodes: 0.03 } as const;
/** When the request names no season, the "first season" prior only breaks near-ties between titles. */
const SERIES_LEVEL_SEASON_WEIGHT = 0.03;
const MAX_CHAIN_STEPS = 12;
/** Media type weight when the request states a type (or its title does: "… OVA"). */
const STATED_TYPE_WEIGHT = 0.15;
const SYNONYM_WEIGHT = 0.98;
/** Year weight when the request states the year the season aired. */
const STATED_YEAR_WEIGHT = 0.12;

interface RequestForms {
  /** Normalised titles as written (version tags removed). */
  full: string[];
  /** Normalised titles without season markers. */
  base: string[];
  wantedSeason: number | undefined;
  /** The season was named (season number or a marker such as "Season 2"), not merely implied. */
  seasonIsExplicit: boolean;
  /** Media type stated in the title ("… OVA", "… Movie") when the request gives none. */
  impliedMediaType: MalMediaType | undefined;
}

interface TitleForms {
  raw: string[];
  normalised: string[];
  base: string[];
  /** Per title: 1 for the main and English titles, slightly less for synonyms (weaker evidence). */
  weight: number[];
}

interface Candidate {
  details: MalAnimeDetails;
  titles: TitleForms;
  root: number;
  position: number | null;
  statedSeason: number | undefined;
}

function rawTitles(candidate: MalCandidate): string[] {
  const alt = candidate.alternative_titles;
  return [candidate.title, alt?.en, alt?.ja, ...(alt?.synonyms ?? [])].filter(
    (t): t is string => typeof t === 'string' && t.trim().length > 0,
  );
}

const titleFormsCache = new WeakMap<MalCandidate, TitleForms>();
function titleForms(candidate: MalCandidate): TitleForms {
  let forms = titleFormsCache.get(candidate);
  if (!forms) {
    const raw = rawTitles(candidate);
    const official = new Set([candidate.title, candidate.alternative_titles?.en, candidate.alternative_titles?.ja]);
    const plain = raw.map(withoutDisambiguation);
    forms = {
      raw,
      normalised: plain.map(normaliseTitle),
      base: plain.map(baseTitle),
      weight: raw.map((t) => (official.has(t) ? 1 : SYNONYM_WEIGHT)),
    };
    titleFormsCache.set(candidate, forms);
  }
  return forms;
}

const TYPE_WORDS: Array<[RegExp, MalMediaType]> = [
  [/\b(?:ova|oad|ovas)$/, 'ova'],
  [/\bspecials?$/, 'special'],
  [/\b(?:the movie|movie|film|gekijouban)\b/, 'movie'],
];

function requestForms(request: MatchRequest): RequestForms {
  const sources = [request.seasonTitle, request.seriesTitle].filter((t): t is string => typeof t === 'string' && t.trim().length > 0);
  const full = [...new Set(sources.map((t) => normaliseTitle(stripVersionTags(t))).filter((t) => t.length > 0))];
  const base = [...new Set(sources.map((t) => baseTitle(t)).filter((t) => t.length > 0))];
  // The season title's own marker ("… 2", "Season 3") beats the CR position, which counts only the
  // seasons of one CR series listing (a sequel listed as its own CR series is "season 1" there).
  let stated: number | undefined;
  let weak: number | undefined;
  for (const title of sources) {
    stated ??= statedSeasonNumber(title);
    weak ??= statedSeasonNumber(title, true);
  }
  const explicitNumber = typeof request.seasonNumber === 'number' && request.seasonNumber > 0 ? request.seasonNumber : undefined;
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
  return {
    full,
    base,
    wantedSeason,
    seasonIsExplicit,
    impliedMediaType,
  };
}

function bestSimilarity(forms: string[], titles: string[], candidate: TitleForms): { score: number; on: string } {
  let best = { score: 0, on: '' };
  titles.forEach((title, index) => {
    for (const form of forms) {
      const score = normalisedSimilarity(form, title) * candidate.weight[index];
      if (score > best.score) best = { score, on: candidate.raw[index] };
    }
  });
  return best;
}

function isMainLineType(type: MalMediaType | undefined): boolean {
  return type === 'tv' || type === 'ona';
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

function yearFit(wanted: number | null | undefined, candidate: MalCandidate): number {
  const year = candidate.start_season?.year ?? (candidate.start_date ? Number(candidate.start_date.slice(0, 4)) : NaN);
  if (!Number.isFinite(year)) return 0.4;
  // Unknown wanted year: a slight preference for newer entries, since a streaming catalogue mostly
  // carries recent productions and remakes; it only separates otherwise equal titles.
  if (!wanted) return 0.5 + 0.5 * Math.min(1, Math.max(0, (year - 1985) / 40));
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
 * Matches CR seasons against a CandidateSource. Stateless between calls apart from the optional cache;
 * one instance can serve many requests.
 */
export class Matcher {
  private readonly source: CandidateSource;
  private readonly options: Required<Omit<MatcherOptions, 'cache'>> & { cache?: MappingCache };

  constructor(source: CandidateSource, options: MatcherOptions = {}) {
    this.source = source;
    this.options = {
      cache: options.cache,
      autoAcceptThreshold: options.autoAcceptThreshold ?? DEFAULT_AUTO_ACCEPT_THRESHOLD,
      minimumTitleSimilarity: options.minimumTitleSimilarity ?? 0.55,
      searchLimit: options.searchLimit ?? 30,
      detailsLimit: options.detailsLimit ?? 8,
      reportedCandidates: options.reportedCandidates ?? 5,
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

  private async matchBySearch(request: MatchRequest): Promise<MatchResult> {
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
    if (queries.length === 0) return noMatch('no usable search query (title shorter than 3 characters)');

    // 1. Search with every phrasing; keep each candidate once.
    const hits = new Map<number, MalCandidate>();
    const results = await Promise.all(queries.map((q) => this.source.search(q, this.options.searchLimit)));
    for (const list of results) for (const hit of list) if (!hits.has(hit.id)) hits.set(hit.id, hit);
    if (hits.size === 0) return noMatch(`no search results for ${queries.map((q) => JSON.stringify(q)).join(', ')}`);

    // 2. Pre-rank by title alone; fetch details of the best few.
    const preRanked = [...hits.values()]
      .map((hit) => ({ hit, title: this.titleSignal(forms, titleForms(hit)).score }))
      .sort((a, b) => b.title - a.title || a.hit.id - b.hit.id);
    const shortlistIds = preRanked.slice(0, this.options.detailsLimit).map((r) => r.hit.id);
    const detailsById = new Map<number, MalAnimeDetails>();
    await this.fetchDetails(shortlistIds, detailsById);

    // 3. Place each candidate on its sequel chain; add the chain entry at the wanted season position.
    const chains = new Map<number, MalAnimeDetails[]>();
    for (const id of shortlistIds) {
      const details = detailsById.get(id);
      if (!details) continue;
      const chain = await this.sequelChainOf(details, detailsById);
      chains.set(chain[0].id, chain);
    }
    const candidates = new Map<number, Candidate>();
    for (const chain of chains.values()) {
      const positions = mainLinePositions(chain);
      chain.forEach((details, index) => {
        const inShortlist = shortlistIds.includes(details.id);
        const atWantedSeason = forms.wantedSeason !== undefined && positions[index] === forms.wantedSeason;
        const isFirstSeason = positions[index] === 1;
        if (!inShortlist && !atWantedSeason && !isFirstSeason) return;
        candidates.set(details.id, {
          details,
          titles: titleForms(details),
          root: chain[0].id,
          position: positions[index],
          statedSeason: statedSeasonOf(details),
        });
      });
    }
    for (const id of shortlistIds) {
      const details = detailsById.get(id);
      if (details && !candidates.has(id)) {
        candidates.set(id, { details, titles: titleForms(details), root: id, position: null, statedSeason: statedSeasonOf(details) });
      }
    }

    // 4. Score.
    const scored = [...candidates.values()]
      .map((candidate) => this.score(request, forms, candidate))
      .sort((a, b) => b.score - a.score || a.malId - b.malId);
    const reported = scored.slice(0, this.options.reportedCandidates);
    const best = scored[0];
    if (!best || best.signals.title < this.options.minimumTitleSimilarity) {
      return noMatch(
        best
          ? `no good candidate: best title similarity ${best.signals.title.toFixed(2)} ("${best.title}") is below ${this.options.minimumTitleSimilarity}`
          : 'no candidate details available',
        reported,
      );
    }

    // 5. Confidence: how good the best is, and how far ahead of the best *other franchise* it is.
    const bestRoot = candidates.get(best.malId)!.root;
    const bestFranchise = franchiseOf(candidates.get(best.malId)!);
    const rival = scored.find((c) => {
      const other = candidates.get(c.malId)!;
      return other.root !== bestRoot && !bestFranchise.has(c.malId) && !franchiseOf(other).has(best.malId);
    });
    const margin = rival ? best.score - rival.score : best.score;
    const sameFranchiseRunnerUp = scored.find((c) => c.malId !== best.malId && candidates.get(c.malId)!.root === bestRoot);
    const seasonMargin = sameFranchiseRunnerUp ? best.score - sameFranchiseRunnerUp.score : 1;
    const confidence = calibratedConfidence(best.signals, margin, seasonMargin, forms.seasonIsExplicit);
    const needsReview = confidence < this.options.autoAcceptThreshold;
    const segments = this.segmentsFor(best.malId, request.episodeCount ?? null, detailsById);

    const text = [
      `MAL ${best.malId} "${best.title}" (${best.mediaType ?? 'unknown type'}) score ${best.score.toFixed(3)}`,
      `title ${best.signals.title.toFixed(2)} via "${best.signals.titleMatchedOn}"`,
      `season ${best.signals.season.toFixed(2)} (chain position ${best.signals.chainPosition ?? '?'}, wanted ${forms.wantedSeason ?? 'first'})`,
      `type ${best.signals.mediaType.toFixed(2)}, year ${best.signals.year.toFixed(2)}, episodes ${best.signals.episodes.toFixed(2)}`,
      rival ? `lead over other titles ${margin.toFixed(3)} (next: MAL ${rival.malId} "${rival.title}")` : 'no rival title',
      `confidence ${confidence.toFixed(3)} → ${needsReview ? 'needs review' : 'auto-accepted'}`,
    ].join('; ');
    return {
      seasonKey: request.seasonKey,
      malId: best.malId,
      episodeOffset: segments[0]?.episodeOffset ?? 0,
      segments,
      confidence,
      needsReview,
      candidates: reported,
      explanation: { text, signals: best.signals, margin, source: 'search' },
    };
  }

  private titleSignal(forms: RequestForms, titles: TitleForms): { score: number; on: string } {
    const full = bestSimilarity(forms.full, titles.normalised, titles);
    const base = bestSimilarity(forms.base, titles.base, titles);
    // A match only after removing season markers is slightly weaker than a match as written.
    return base.score * 0.96 > full.score ? { score: base.score * 0.96, on: base.on } : full;
  }

  private score(request: MatchRequest, forms: RequestForms, candidate: Candidate): ScoredCandidate {
    const { details } = candidate;
    const title = this.titleSignal(forms, candidate.titles);
    const wantedType = request.mediaType ?? forms.impliedMediaType;
    // Season positions only describe TV/ONA entries; for a wanted movie/OVA the signal is neutral.
    const season = wantedType && !isMainLineType(wantedType) ? 0.5 : seasonFit(forms, candidate);
    const signals: MatchSignals = {
      title: title.score,
      titleMatchedOn: title.on,
      season,
      chainPosition: candidate.position,
      mediaType: mediaTypeFit(request.mediaType ?? forms.impliedMediaType, details.media_type),
      year: yearFit(request.year, details),
      episodes: episodeFit(request.episodeCount, details),
    };
    const seasonWeight = forms.seasonIsExplicit ? SCORE_WEIGHTS.season : SERIES_LEVEL_SEASON_WEIGHT;
    const typeWeight = request.mediaType || forms.impliedMediaType ? STATED_TYPE_WEIGHT : SCORE_WEIGHTS.mediaType;
    const score =
      SCORE_WEIGHTS.title * signals.title +
      seasonWeight * signals.season +
      typeWeight * signals.mediaType +
      (request.year ? STATED_YEAR_WEIGHT : SCORE_WEIGHTS.year) * signals.year +
      SCORE_WEIGHTS.episodes * signals.episodes;
    return { malId: details.id, title: details.title, mediaType: details.media_type, score, signals };
  }

  private async fetchDetails(ids: number[], into: Map<number, MalAnimeDetails>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !into.has(id));
    if (missing.length === 0) return;
    for (const details of await this.source.details(missing)) into.set(details.id, details);
  }

  /** The whole prequel→sequel chain through `start`, earliest first (bounded walk). */
  private async sequelChainOf(start: MalAnimeDetails, known: Map<number, MalAnimeDetails>): Promise<MalAnimeDetails[]> {
    const walk = async (from: MalAnimeDetails, relation: 'prequel' | 'sequel'): Promise<MalAnimeDetails[]> => {
      const found: MalAnimeDetails[] = [];
      const visited = new Set<number>([start.id]);
      let current = from;
      for (let step = 0; step < MAX_CHAIN_STEPS; step++) {
        const next = current.related_anime.find((r) => r.relation_type === relation && !visited.has(r.node.id));
        if (!next) break;
        await this.fetchDetails([next.node.id], known);
        const nextDetails = known.get(next.node.id);
        if (!nextDetails) break;
        visited.add(nextDetails.id);
        found.push(nextDetails);
        current = nextDetails;
      }
      return found;
    };
    const before = (await walk(start, 'prequel')).reverse();
    const after = await walk(start, 'sequel');
    return [...before, start, ...after];
  }

  /** One CR season may run across several MAL entries (split cours): follow sequels until the episodes fit. */
  private segmentsFor(malId: number, episodeCount: number | null, known: Map<number, MalAnimeDetails>): MatchSegment[] {
    const segments: MatchSegment[] = [{ malId, firstEpisode: 1, lastEpisode: null, episodeOffset: 0 }];
    if (!episodeCount) return segments;
    let current = known.get(malId);
    let covered = 0;
    while (current?.num_episodes && covered + current.num_episodes < episodeCount && segments.length < 4) {
      const sequelId = current.related_anime.find((r) => r.relation_type === 'sequel')?.node.id;
      const sequel = sequelId === undefined ? undefined : known.get(sequelId);
      if (!sequel || !isMainLineType(sequel.media_type)) break;
      covered += current.num_episodes;
      segments[segments.length - 1].lastEpisode = covered;
      segments.push({ malId: sequel.id, firstEpisode: covered + 1, lastEpisode: null, episodeOffset: covered });
      current = sequel;
    }
    return segments;
  }
}

function statedSeasonOf(details: MalAnimeDetails): number | undefined {
  for (const title of titleForms(details).raw) {
    const n = statedSeasonNumber(title);
    if (n !== undefined) return n;
  }
  return undefined;
}

function isLaterPart(details: MalAnimeDetails): boolean {
  return titleForms(details).raw.some((t) => seasonMarkers(t).some((m) => m.kind === 'part' && m.number >= 2));
}

/**
 * 1-based TV-season position of each chain entry (null for movies, OVAs, …). A second part/cour of the
 * same season does not start a new season.
 */
function mainLinePositions(chain: MalAnimeDetails[]): Array<number | null> {
  let position = 0;
  let previousStated: number | undefined;
  return chain.map((details) => {
    if (!isMainLineType(details.media_type)) return null;
    const stated = statedSeasonOf(details);
    const continuesSeason = position > 0 && (isLaterPart(details) || (stated !== undefined && stated === previousStated));
    if (!continuesSeason) position++;
    previousStated = stated ?? position;
    return position;
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

function franchiseOf(candidate: Candidate): Set<number> {
  return new Set([candidate.details.id, candidate.root, ...candidate.details.related_anime.map((r) => r.node.id)]);
}

/**
 * Maps raw signals to an estimate of P(correct). Fitted once on aggregate behaviour (logistic in the
 * title similarity and the lead over the nearest other franchise), not on any title.
 */
export function calibratedConfidence(signals: MatchSignals, margin: number, seasonMargin: number, seasonIsExplicit: boolean): number {
  let z = -9 + 9.5 * signals.title + 25 * Math.min(margin, 0.3);
  if (seasonIsExplicit) z += 6 * Math.min(seasonMargin, 0.2) - 0.6 + 1.2 * signals.season;
  const p = 1 / (1 + Math.exp(-z));
  return Math.round(p * 1000) / 1000;
}

