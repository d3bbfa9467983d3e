/**
 * The sync's MATCHING phase: each CR season of the job gets its MAL entries, in this order —
 *   the user's own confirmation → a curated mapping → the matcher's result for the user's own facts
 *   (shared cache keyed by season and request fingerprint, else a search through the MAL caches) →
 *   for a season the matcher leaves to review, an agreement of other MAL accounts (agreement.ts).
 * A dry run reads every cache but writes none of the mapping cache (the shared cache of MAL's public
 * answers is filled either way: it holds what MAL said, nothing a user sent).
 */
import type { CrSeason } from '../history';
import { Matcher } from '../matching/matcher';
import type { MatchResult, MatchSegment } from '../matching/types';
import { automaticExpiry, type AutomaticEntry } from '../matching/cache';
import { resolveMapping } from '../matching/agreement';
import { factsOfSeason, identityFingerprint, matchRequestForFacts, requestFingerprint, segmentsInSeasonNumbers, type SeasonFacts } from '../matching/from-history';
import type { SyncSettings } from '#contract/settings';
import { MalBadRequestError, MalError, MalNotFoundError } from '../mal/errors';
import { CachedMalSource } from './mal-cache';
import { DynamoDbMappingStore } from './mapping-store';
import type { MalSessionLike } from './mal-source';
import type { PlannerMatch } from './planner';
import type { ProgressReporter } from './progress';
import { loadMatchChoices, type MatchChoice, type StoredSeasonMatch as StoredMatchBase } from './store';
import type { SyncErrorRecord } from './types';
import { ENV, envNumber } from '../shared/config';
import { componentLogger, errorFields } from '../shared/logger';

const log = componentLogger('sync-worker');

/** MAL episode = season episode − episodeOffset for episodes firstEpisode…lastEpisode (null: to the end). */
export interface StoredMatchSegment {
  malId: number;
  title: string | null;
  firstEpisode: number;
  lastEpisode: number | null;
  episodeOffset: number;
}

/** A season's match as Query.series shows it, with every MAL entry by episode range. */
export type StoredSeasonMatch = StoredMatchBase & { segments?: StoredMatchSegment[] };
/** The user's own choice, with their split of the season (absent: one entry). */
export type MatchChoiceWithSegments = MatchChoice & { segments?: StoredMatchSegment[] };

/**
 * The matcher's options for syncs (and for matchCandidates, which must show the same decision). Details
 * for the 4 best search hits instead of 8 halve the details requests of a new season (9.1 → 4.5 on the
 * season dev cases, 8.6 → 4.4 on the series ones, full catalog) at the same auto-accept precision
 * (season cases: top-1 0.995, precision 1.000, coverage 0.925 → 0.920; series cases: top-1 0.953 → 0.951,
 * precision 0.994 → 0.994, coverage 0.614 → 0.649).
 */
export const SYNC_MATCHER_OPTIONS = { detailsLimit: 4 } as const;

export interface MatchPhaseInput {
  userId: string;
  jobId: string;
  dryRun: boolean;
  settings: SyncSettings;
  session: MalSessionLike;
  seasons: CrSeason[];
  /** Each season with everything the user ever sent of it (series-store); the job's own season otherwise. */
  facts: Map<string, SeasonFacts>;
  reporter: ProgressReporter;
  /** MAL requests per second the client keeps to (for the ETA). */
  malRatePerSecond?: number;
}

export interface MatchPhaseOutput {
  matches: Map<string, PlannerMatch>;
  stored: Map<string, StoredSeasonMatch>;
  matched: number;
  needsReview: number;
  errors: SyncErrorRecord[];
  source: CachedMalSource;
}

/**
 * Seconds left from the pace so far: the larger of the observed time per season and the MAL requests per
 * season at the client's rate (a run that has only hit caches so far still has MAL's pace ahead).
 */
export class MatchingPace {
  private readonly startedAt = Date.now();
  constructor(
    private readonly total: number,
    private readonly ratePerSecond: number,
  ) {}

  eta(processed: number, malRequests: number): number | null {
    if (processed <= 0) return null;
    const remaining = Math.max(0, this.total - processed);
    if (remaining === 0) return 0;
    const observed = ((Date.now() - this.startedAt) / 1000 / processed) * remaining;
    const byMal = this.ratePerSecond > 0 ? ((malRequests / processed) * remaining) / this.ratePerSecond : 0;
    return Math.ceil(Math.max(observed, byMal));
  }
}

function isPerEntryMalError(error: unknown): boolean {
  return error instanceof MalBadRequestError || error instanceof MalNotFoundError;
}

function entryOf(result: MatchResult, seasonKey: string, fingerprint: string, titleOf: (id: number) => string | null): AutomaticEntry {
  const now = Date.now();
  return {
    seasonKey,
    fingerprint,
    malId: result.malId,
    episodeOffset: result.episodeOffset,
    segments: result.segments,
    confidence: result.confidence,
    needsReview: result.needsReview,
    title: result.malId === null ? null : (result.candidates.find((c) => c.malId === result.malId)?.title ?? titleOf(result.malId)),
    explanation: result.explanation.text,
    candidateIds: result.candidates.map((c) => c.malId),
    computedAt: new Date(now).toISOString(),
    expiresAt: automaticExpiry(result, now),
  };
}

function withTitles(segments: MatchSegment[], titleOf: (id: number) => string | null): StoredMatchSegment[] {
  return segments.map((s) => ({ malId: s.malId, title: titleOf(s.malId), firstEpisode: s.firstEpisode, lastEpisode: s.lastEpisode, episodeOffset: s.episodeOffset }));
}

export async function runMatchPhase(input: MatchPhaseInput): Promise<MatchPhaseOutput> {
  const { seasons, settings, reporter } = input;
  const prepared = seasons.map((season) => {
    const facts = input.facts.get(season.seasonKey) ?? factsOfSeason(season);
    const request = matchRequestForFacts(facts);
    return { season, facts, request, fingerprint: requestFingerprint(request) };
  });
  const store = new DynamoDbMappingStore();
  await store.prefetch(prepared.map((p) => ({ seasonKey: p.season.seasonKey, fingerprint: p.fingerprint })));
  const choices = await loadMatchChoices(input.userId);
  const source = new CachedMalSource(input.session);
  const matcher = new Matcher(source, { ...SYNC_MATCHER_OPTIONS, autoAcceptThreshold: settings.autoAcceptThreshold });
  const titleOf = (id: number) => source.seen.get(id)?.title ?? null;
  const pace = new MatchingPace(seasons.length, input.malRatePerSecond ?? envNumber(ENV.MAL_RATE_LIMIT_PER_SECOND, 1));
  const matches = new Map<string, PlannerMatch>();
  const stored = new Map<string, StoredSeasonMatch>();
  const errors: SyncErrorRecord[] = [];
  const undecided: Array<{ index: number; entry: AutomaticEntry }> = [];

  reporter.progress(0, seasons.length, null, null);
  for (const [index, p] of prepared.entries()) {
    const { season } = p;
    const key = season.seasonKey;
    const choice = choices.get(key) as MatchChoiceWithSegments | undefined;
    const curated = choice ? undefined : await store.curated(key);
    if (choice) {
      const segments: StoredMatchSegment[] =
        choice.malId === null ? [] : (choice.segments ?? [{ malId: choice.malId, title: choice.title, firstEpisode: 1, lastEpisode: null, episodeOffset: choice.episodeOffset }]);
      stored.set(key, { seasonKey: key, malId: choice.malId, title: choice.title, confidence: 1, episodeOffset: segments[0]?.episodeOffset ?? 0, source: 'USER', needsReview: false, explanation: 'confirmed by you', segments });
      matches.set(key, { seasonKey: key, malId: choice.malId, needsReview: false, segments: segments.map(({ title: _t, ...s }) => s) });
    } else if (curated) {
      const segments = curated.segments ?? [{ malId: curated.malId, firstEpisode: 1, lastEpisode: null, episodeOffset: curated.episodeOffset }];
      const named = withTitles(segments, titleOf);
      stored.set(key, { seasonKey: key, malId: curated.malId, title: named[0]?.title ?? null, confidence: 1, episodeOffset: curated.episodeOffset, source: 'CACHED', needsReview: false, explanation: `shared mapping (${curated.source}) → MAL ${curated.malId}`, segments: named });
      matches.set(key, { seasonKey: key, malId: curated.malId, needsReview: false, segments });
    } else {
      let entry = await store.getAutomatic(key, p.fingerprint);
      const fromCache = entry !== undefined;
      if (!entry) {
        try {
          entry = entryOf(await matcher.match(p.request), key, p.fingerprint, titleOf);
          // Only a real sync's result is shared: a preview must change nothing.
          if (!input.dryRun) await store.putAutomatic(entry);
        } catch (error) {
          const cause = (error as Error).cause;
          if (cause instanceof MalError && !isPerEntryMalError(cause)) throw cause;
          // The client sees a fixed message; operators get the fault (name and message, no token in either).
          log.error('matching failed', { jobId: input.jobId, seasonKey: key, ...errorFields(error) });
          errors.push({ errorType: 'InternalError', message: 'matching failed (an internal error): the season waits for review', seasonKey: key });
          entry = { seasonKey: key, fingerprint: p.fingerprint, malId: null, episodeOffset: 0, segments: [], confidence: 0, needsReview: true, title: null, explanation: 'matching failed', candidateIds: [], computedAt: new Date().toISOString(), expiresAt: new Date().toISOString() };
        }
      }
      const review = entry.malId === null || entry.needsReview || !settings.autoAcceptMatches || entry.confidence < settings.autoAcceptThreshold;
      const segments = segmentsInSeasonNumbers(entry.segments, p.facts.numberingOffset);
      stored.set(key, {
        seasonKey: key,
        malId: entry.malId,
        title: entry.title ?? (entry.malId === null ? null : titleOf(entry.malId)),
        confidence: entry.confidence,
        episodeOffset: segments[0]?.episodeOffset ?? 0,
        source: fromCache ? 'CACHED' : 'AUTOMATIC',
        needsReview: review,
        explanation: fromCache ? `shared cache of automatic matches for these season facts: ${entry.explanation}` : entry.explanation,
        segments: withTitles(segments, (id) => (id === entry!.malId ? entry!.title : null) ?? titleOf(id)),
      });
      matches.set(key, { seasonKey: key, malId: entry.malId, needsReview: review, segments });
      if (review) undecided.push({ index, entry });
    }
    reporter.progress(index + 1, seasons.length, season.seriesTitle, pace.eta(index + 1, source.malRequests));
  }

  // Seasons left to review: other MAL accounts with the same facts may have agreed on one of the candidates.
  if (undecided.length > 0) {
    const agreements = await store.agreements(undecided.map(({ index }) => ({ seasonKey: prepared[index].season.seasonKey, identity: identityFingerprint(prepared[index].facts) })));
    for (const { index, entry } of undecided) {
      const key = prepared[index].season.seasonKey;
      const resolved = resolveMapping({ automatic: { malId: entry.malId, needsReview: true, candidateIds: entry.candidateIds }, agreement: agreements.get(key) });
      if (resolved.source !== 'agreed' || !resolved.agreement) continue;
      const segments = resolved.agreement.segments.length > 0 ? resolved.agreement.segments : [{ malId: resolved.agreement.malId, firstEpisode: 1, lastEpisode: null, episodeOffset: 0 }];
      const named = withTitles(segments, titleOf);
      stored.set(key, {
        seasonKey: key,
        malId: resolved.agreement.malId,
        title: named[0]?.title ?? null,
        confidence: entry.confidence,
        episodeOffset: segments[0].episodeOffset,
        source: 'CACHED',
        needsReview: false,
        explanation: `agreed by ${resolved.agreement.accounts} MAL accounts with the same season facts (the matcher left it to review: ${entry.explanation})`,
        segments: named,
      });
      matches.set(key, { seasonKey: key, malId: resolved.agreement.malId, needsReview: false, segments });
    }
  }

  let matched = 0;
  let needsReview = 0;
  for (const match of matches.values()) {
    if (match.needsReview) needsReview += 1;
    else if (match.malId !== null) matched += 1;
  }
  return { matches, stored, matched, needsReview, errors, source };
}
