/**
 * The matcher's two small statistical models, kept apart from the search/candidate plumbing so the
 * offline fitting script (bench/match-fit.ts) computes exactly what the matcher computes.
 *
 * 1. Choice model (conditional logit): each candidate gets a utility w·x over CHOICE_FEATURES; the
 *    highest utility is chosen and a softmax over the request's candidates gives choice probabilities.
 * 2. Confidence model (logistic regression) over CONFIDENCE_FEATURES of the chosen candidate: an
 *    estimate of P(chosen entry belongs to the CR series), compared with the auto-accept threshold.
 *
 * The fitted coefficients live in model-weights.ts, written by `npx tsx bench/match-fit.ts`.
 */
import { AUTO_ACCEPT_THRESHOLD, CHOICE_WEIGHTS, CONFIDENCE_WEIGHTS } from './model-weights';

/**
 * Per-candidate features (all generic; none refers to a title or id):
 * - title: best similarity between a request title form and any of the candidate's titles (0..1).
 * - titleExact: 1 when that similarity is ≥ 0.97 (an exact or punctuation-only match).
 * - seasonExplicit: season-position fit when the request names a season (number or marker), else 0.
 * - seasonImplicit: season-position fit against "first season" when it names none, else 0.
 * - typeStated: media-type fit when the request states a type (CR lists it as a movie, …), else 0.
 * - typeImplied: media-type fit when only the title states one (a trailing "OVA", "Specials", "Movie",
 *   "Film", "Gekijouban"), else 0.
 * - typeUnstated: prior media-type fit (TV > ONA > movie/OVA > music…) when no type is stated, else 0.
 * - yearStated: fit of the start year to the request's year when given, else 0.
 * - recency: (start year − 2008) / 12 clipped to −1..1 when no year is given (unknown year → 0):
 *   Crunchyroll carries recent productions and remakes more often than decades-old ones.
 * - episodes: episode-count fit − 0.5 (0 when either count is unknown).
 * - wordRecall: share (by length) of a request form's words found among one candidate title's words,
 *   best over forms and titles (a missing distinctive word is evidence against the candidate).
 * - chainTitle: best title similarity of any entry of the candidate's sequel chain (its own when it
 *   has no chain): a later season known only by an arc title still belongs to the series named.
 * - distinctMissing: share of the season title's own words (those the series title lacks: an arc
 *   name, "Side B", "Recap") missing from the candidate's closest title; 0 when there are none.
 * - distinctAll: 1 when the season title has words of its own and one candidate title has them all.
 * - extraWords: words of the candidate's closest title that no request form explains, /3 (capped).
 * - entryIndex: 1 when CR's season number equals the candidate's index among its chain's TV/ONA
 *   entries (CR counting every cour), 0 otherwise or when no number is given.
 * - partFit: the part/cour named by the request (or the first when none) against the candidate's.
 * - episodeRange: fit of CR's episode numbers (running on or restarting) − 0.5; 0 when none given.
 * - airDate: fit of the first CR air date to the candidate's start − 0.5; 0 when none given.
 * - typeByDuration: media-type fit to what the episode duration implies (movie / episode) − 0.5.
 */
export const CHOICE_FEATURES = [
  'title',
  'titleExact',
  'seasonExplicit',
  'seasonImplicit',
  'typeStated',
  'typeImplied',
  'typeUnstated',
  'yearStated',
  'recency',
  'episodes',
  'wordRecall',
  'chainTitle',
  'distinctMissing',
  'distinctAll',
  'extraWords',
  'entryIndex',
  'partFit',
  'episodeRange',
  'airDate',
  'typeByDuration',
] as const;

/**
 * Confidence features of the chosen candidate:
 * - bias: 1.
 * - choiceLogit: logit of its softmax probability among all candidates (clipped to ±8).
 * - rivalLead: utility lead over the best candidate of another franchise (not the same sequel chain
 *   and not directly related), capped at 12, divided by 4; 3 when there is no such rival.
 * - title: its title similarity.
 * - laterSpread: only for series-level requests (no season named) choosing a chain's first season
 *   with later TV seasons: years between it and the latest of them / 10, capped at 1. Several
 *   franchise entries with similar titles far apart in time make a CR series ambiguous (CR often
 *   lists only the later entry).
 * - explicitSeason: 1 when the request names a season.
 * - yearAgrees: the chosen candidate's yearStated feature (1 = same start year as the request states,
 *   0 when the request gives no year).
 * - seasonAgrees, airDateAgrees, episodesAgree, distinctMissing: the chosen candidate's seasonExplicit,
 *   airDate, episodeRange and distinctMissing features (0 when the request states none of it): facts
 *   of the season that confirm or contradict the choice make it more or less certain.
 */
export const CONFIDENCE_FEATURES = [
  'bias',
  'choiceLogit',
  'rivalLead',
  'title',
  'laterSpread',
  'explicitSeason',
  'yearAgrees',
  'seasonAgrees',
  'airDateAgrees',
  'episodesAgree',
  'distinctMissing',
] as const;

const YEAR_STATED = CHOICE_FEATURES.indexOf('yearStated');
const SEASON_EXPLICIT = CHOICE_FEATURES.indexOf('seasonExplicit');
const AIR_DATE = CHOICE_FEATURES.indexOf('airDate');
const EPISODE_RANGE = CHOICE_FEATURES.indexOf('episodeRange');
const DISTINCT_MISSING = CHOICE_FEATURES.indexOf('distinctMissing');

export interface ModelWeights {
  choice: readonly number[];
  confidence: readonly number[];
  autoAcceptThreshold: number;
}

export const FITTED_MODEL: ModelWeights = {
  choice: CHOICE_WEIGHTS,
  confidence: CONFIDENCE_WEIGHTS,
  autoAcceptThreshold: AUTO_ACCEPT_THRESHOLD,
};

/** One candidate as the models see it. */
export interface ModelCandidate {
  malId: number;
  /** CHOICE_FEATURES values. */
  x: number[];
  /** Ids of the candidate's franchise: its chain root, itself and its direct relations. */
  franchise: ReadonlySet<number>;
  title: number;
  /** laterSpread when this candidate is chosen (already 0 for season-level requests). */
  laterSpread: number;
}

export interface ModelCase {
  candidates: ModelCandidate[];
  seasonIsExplicit: boolean;
}

export interface ModelDecision {
  /** Index into candidates of the chosen one (highest utility; ties: lower MAL id). */
  best: number;
  utilities: number[];
  probabilities: number[];
  confidenceX: number[];
  confidence: number;
}

export function dot(w: readonly number[], x: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i] * x[i];
  return s;
}

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const logit = (p: number): number => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.max(-8, Math.min(8, Math.log(q / (1 - q))));
};

export function softmax(utilities: readonly number[]): number[] {
  const max = Math.max(...utilities);
  const e = utilities.map((u) => Math.exp(u - max));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

export function sameFranchise(a: ModelCandidate, b: ModelCandidate): boolean {
  return a.malId === b.malId || a.franchise.has(b.malId) || b.franchise.has(a.malId) || [...a.franchise].some((id) => b.franchise.has(id));
}

/** Confidence features for candidate `best` given the choice probabilities. */
export function confidenceFeatures(modelCase: ModelCase, best: number, probabilities: readonly number[]): number[] {
  const chosen = modelCase.candidates[best];
  let rivalP = 0;
  modelCase.candidates.forEach((c, i) => {
    if (!sameFranchise(chosen, c)) rivalP = Math.max(rivalP, probabilities[i]);
  });
  const lead = rivalP > 0 ? Math.log(Math.max(probabilities[best], 1e-300) / rivalP) : 12;
  return [
    1,
    logit(probabilities[best]),
    Math.min(12, lead) / 4,
    chosen.title,
    chosen.laterSpread,
    modelCase.seasonIsExplicit ? 1 : 0,
    chosen.x[YEAR_STATED],
    chosen.x[SEASON_EXPLICIT],
    chosen.x[AIR_DATE],
    chosen.x[EPISODE_RANGE],
    chosen.x[DISTINCT_MISSING],
  ];
}

export function decide(modelCase: ModelCase, weights: ModelWeights = FITTED_MODEL): ModelDecision {
  const utilities = modelCase.candidates.map((c) => dot(weights.choice, c.x));
  let best = 0;
  for (let i = 1; i < utilities.length; i++) {
    if (utilities[i] > utilities[best] || (utilities[i] === utilities[best] && modelCase.candidates[i].malId < modelCase.candidates[best].malId)) best = i;
  }
  const probabilities = softmax(utilities);
  const confidenceX = confidenceFeatures(modelCase, best, probabilities);
  const confidence = sigmoid(dot(weights.confidence, confidenceX));
  return { best, utilities, probabilities, confidenceX, confidence };
}
