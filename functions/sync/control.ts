/**
 * The sync's control operations behind the sync-control Lambda: cancel and retry a job, confirm a
 * season's match, and rank MAL candidates for a season. Every operation is keyed by the caller's id, so
 * a job or season of another user is simply not found.
 */
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { consume } from '../limits/user-limits';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { PROFILE_SK } from '#contract/keys';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';
import { Matcher } from '../matching/matcher';
import type { MalMediaType } from '../matching/types';
import { identityFingerprint, matchRequestForFacts } from '../matching/from-history';
import { jobView } from './process-history';
import type { MalSessionLike } from './mal-source';
import { CachedMalSource } from './mal-cache';
import { DynamoDbMappingStore } from './mapping-store';
import { factsOfStoredSeason } from './series-store';
import { SYNC_MATCHER_OPTIONS, type MatchChoiceWithSegments, type StoredMatchSegment, type StoredSeasonMatch } from './match-phase';
import { malMediaTypeEnum } from '../mal/types';
import {
  getJob,
  getSeries,
  loadPlan,
  loadSeries,
  putSeries,
  saveAnimeInfo,
  saveMatchChoice,
  transitionJob,
  type StoredSeason,
  type StoredSeries,
} from './store';

export interface ControlDeps {
  session(userId: string): Promise<MalSessionLike>;
  enqueue(message: { userId: string; jobId: string }): Promise<void>;
}

export async function cancelSync(userId: string, jobId: string): Promise<Record<string, unknown>> {
  const job = await getJob(userId, jobId);
  if (!job) throw new NotFoundError(`no sync job ${jobId}`, { field: 'jobId' });
  // PAUSED (MAL blocking us) too: its delayed message then finds the job cancelled and skips it.
  const cancelled = await transitionJob(userId, jobId, ['RECEIVING', 'QUEUED', 'RUNNING', 'PAUSED'], { status: 'CANCELLED', finishedAt: new Date().toISOString() });
  if (!cancelled) throw new ConflictError(`job ${jobId} is ${job.status} and cannot be cancelled`, { status: job.status });
  return jobView(cancelled);
}

/** A dry run's plan in the schema's PlannedChange shape (null for other jobs). */
export async function jobPlan(userId: string, jobId: string): Promise<Record<string, unknown>[] | null> {
  const job = await getJob(userId, jobId);
  if (!job || !job.dryRun || !job.planChunks) return null;
  const plan = await loadPlan(userId, jobId);
  return plan.map((c) => ({ seasonKey: c.seasonKey, malId: c.malId, title: c.title, before: c.before, after: c.after, reason: c.reason }));
}

export async function retrySync(userId: string, jobId: string, deps: Pick<ControlDeps, 'enqueue'>): Promise<Record<string, unknown>> {
  const job = await getJob(userId, jobId);
  if (!job) throw new NotFoundError(`no sync job ${jobId}`, { field: 'jobId' });
  if (job.receivedParts < job.totalParts) {
    throw new ConflictError(`job ${jobId} has ${job.receivedParts} of ${job.totalParts} history parts; send the rest with processHistory`, { status: job.status });
  }
  // RECEIVING with every part in: the call that received the last part failed before queueing the job.
  const retryable = ['FAILED', 'CANCELLED', 'QUEUED', 'RECEIVING'] as const;
  if (!(retryable as readonly string[]).includes(job.status)) throw new ConflictError(`job ${jobId} is ${job.status}; only failed or cancelled jobs can be retried`, { status: job.status });
  await consume(userId, 'syncStartsPerHour');
  const queued = await transitionJob(userId, jobId, [...retryable], { status: 'QUEUED', finishedAt: null });
  if (!queued) throw new ConflictError(`job ${jobId} is ${job.status}; only failed or cancelled jobs can be retried`, { status: job.status });
  await deps.enqueue({ userId, jobId });
  return jobView(queued);
}

/** The caller's season with its series, or NotFound. Season keys start with the series id when they can. */
export async function findSeason(userId: string, seasonKey: string): Promise<{ series: StoredSeries; season: StoredSeason }> {
  const guesses = [seasonKey.split(':')[0], seasonKey.startsWith('movie:') ? seasonKey.slice('movie:'.length) : undefined].filter((s): s is string => !!s);
  for (const seriesId of guesses) {
    const series = await getSeries(userId, seriesId);
    const season = series?.seasons.find((s) => s.seasonKey === seasonKey);
    if (series && season) return { series, season };
  }
  for (const series of await loadSeries(userId)) {
    const season = series.seasons.find((s) => s.seasonKey === seasonKey);
    if (season) return { series, season };
  }
  throw new NotFoundError(`no season ${seasonKey} in your history`, { field: 'seasonKey' });
}

export interface MatchSegmentInput {
  malId: number;
  firstEpisode: number;
  lastEpisode?: number | null;
  episodeOffset?: number | null;
}

export interface ConfirmMatchInput {
  seasonKey: string;
  malId?: number | null;
  episodeOffset?: number | null;
  /** One or more MAL entries by episode range (the season's own episode numbers), in order. */
  segments?: MatchSegmentInput[] | null;
}

export const MAX_SEGMENTS = 8;
const MAX_OFFSET = 10_000;

function isPositiveId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** The segments the input asks for, validated (no MAL lookup yet); [] for "not on MAL". */
export function segmentsOfInput(input: ConfirmMatchInput): Array<Omit<StoredMatchSegment, 'title'>> {
  const malId = input.malId ?? null;
  if (malId !== null && !isPositiveId(malId)) throw new ValidationError('input.malId must be a positive MAL anime id or null', { field: 'input.malId' });
  const offsetOk = (n: number) => Number.isInteger(n) && n >= 0 && n <= MAX_OFFSET;
  if (!input.segments || input.segments.length === 0) {
    const episodeOffset = input.episodeOffset ?? 0;
    if (!offsetOk(episodeOffset)) throw new ValidationError('input.episodeOffset must be an integer from 0 to 10000', { field: 'input.episodeOffset', min: 0, max: MAX_OFFSET });
    return malId === null ? [] : [{ malId, firstEpisode: 1, lastEpisode: null, episodeOffset }];
  }
  if (input.segments.length > MAX_SEGMENTS) throw new ValidationError(`input.segments takes at most ${MAX_SEGMENTS} ranges`, { field: 'input.segments', max: MAX_SEGMENTS });
  if (input.episodeOffset !== undefined && input.episodeOffset !== null) throw new ValidationError('give each range its own episodeOffset, not input.episodeOffset', { field: 'input.episodeOffset' });
  const out: Array<Omit<StoredMatchSegment, 'title'>> = [];
  input.segments.forEach((segment, i) => {
    const field = (name: string) => `input.segments[${i}].${name}`;
    if (!isPositiveId(segment.malId)) throw new ValidationError(`${field('malId')} must be a positive MAL anime id`, { field: field('malId') });
    const first = segment.firstEpisode;
    if (!Number.isInteger(first) || first < 1 || first > MAX_OFFSET) throw new ValidationError(`${field('firstEpisode')} must be an episode number from 1 to 10000`, { field: field('firstEpisode'), min: 1, max: MAX_OFFSET });
    const last = segment.lastEpisode ?? null;
    if (last !== null && (!Number.isInteger(last) || last < first || last > MAX_OFFSET)) throw new ValidationError(`${field('lastEpisode')} must be null (to the end) or an episode number from firstEpisode to 10000`, { field: field('lastEpisode') });
    if (last === null && i < input.segments!.length - 1) throw new ValidationError('only the last range may run to the end (lastEpisode null)', { field: field('lastEpisode') });
    const previous = out[i - 1];
    if (previous && first <= (previous.lastEpisode ?? Infinity)) throw new ValidationError('ranges must be in episode order and must not overlap', { field: field('firstEpisode') });
    const episodeOffset = segment.episodeOffset ?? 0;
    if (!offsetOk(episodeOffset)) throw new ValidationError(`${field('episodeOffset')} must be an integer from 0 to 10000`, { field: field('episodeOffset'), min: 0, max: MAX_OFFSET });
    if (first - episodeOffset < 1) throw new ValidationError(`${field('episodeOffset')} would map episode ${first} to MAL episode ${first - episodeOffset}`, { field: field('episodeOffset') });
    out.push({ malId: segment.malId, firstEpisode: first, lastEpisode: last, episodeOffset });
  });
  if (malId !== null && malId !== out[0].malId) throw new ValidationError('input.malId, when given with segments, must be the first range\'s malId', { field: 'input.malId' });
  return out;
}

async function malUserIdOf(userId: string): Promise<number | null> {
  const out = await documents().send(new GetCommand({ TableName: tableName('users'), Key: { userId, sk: PROFILE_SK } }));
  const id = out.Item?.malUserId;
  return typeof id === 'number' ? id : null;
}

/**
 * Sets the caller's season to one or more MAL entries (or to "not on MAL"). Every id is checked against
 * MAL first (through the shared cache of MAL's answers), so an unknown id is refused here rather than
 * failing the next sync. The choice is the user's own (it wins for them, and is what their next sync
 * uses) and one vote of their MAL account towards agreement between users.
 */
export async function confirmMatch(userId: string, input: ConfirmMatchInput, deps: Pick<ControlDeps, 'session'>): Promise<StoredSeasonMatch> {
  const wanted = segmentsOfInput(input);
  const { series, season } = await findSeason(userId, input.seasonKey);
  const titles = new Map<number, string>();
  if (wanted.length > 0) {
    const source = new CachedMalSource(await deps.session(userId));
    for (const id of new Set(wanted.map((s) => s.malId))) {
      const details = await source.exists(id);
      if (!details) {
        const index = wanted.findIndex((s) => s.malId === id);
        const field = input.segments && input.segments.length > 0 ? `input.segments[${index}].malId` : 'input.malId';
        throw new NotFoundError(`MyAnimeList has no anime ${id}`, { field, malId: id });
      }
      titles.set(id, details.title);
    }
    if (source.seen.size > 0) await saveAnimeInfo([...source.seen.values()]);
  }
  const segments: StoredMatchSegment[] = wanted.map((s) => ({ ...s, title: titles.get(s.malId) ?? null }));
  const malId = segments[0]?.malId ?? null;
  const title = segments[0]?.title ?? null;
  const episodeOffset = segments[0]?.episodeOffset ?? 0;
  const now = new Date().toISOString();
  const choice: MatchChoiceWithSegments = { seasonKey: season.seasonKey, seriesId: series.seriesId, malId, episodeOffset, title, confirmedAt: now, segments };
  await saveMatchChoice(userId, choice);
  const match: StoredSeasonMatch = {
    seasonKey: season.seasonKey,
    malId,
    title,
    confidence: 1,
    episodeOffset,
    source: 'USER',
    needsReview: false,
    explanation: malId === null ? 'you said this season is not on MAL: it is never synced' : segments.length > 1 ? `confirmed by you: ${segments.length} MAL entries by episode range` : 'confirmed by you',
    segments,
  };
  season.match = match;
  series.updatedAt = now;
  await putSeries([series]);
  const malUserId = await malUserIdOf(userId);
  if (malUserId !== null) {
    const identity = identityFingerprint(factsOfStoredSeason(series.title, season));
    await new DynamoDbMappingStore().putVote({ malUserId, seasonKey: season.seasonKey, identity, malId, segments: segments.map(({ title: _t, ...s }) => s), confirmedAt: now });
  }
  return match;
}

export function mediaTypeEnum(type: MalMediaType | string | undefined): string {
  return malMediaTypeEnum(type);
}

/**
 * The candidates the matcher weighs for the season, from the same request the sync sends (the user's
 * whole stored history of the season), each with the score of that decision: the chosen entry carries
 * the decision's confidence, the others what is left, never more; all 0 when the matcher chose none.
 */
export async function matchCandidates(userId: string, seasonKey: string, deps: Pick<ControlDeps, 'session'>): Promise<Record<string, unknown>[]> {
  const { series, season } = await findSeason(userId, seasonKey);
  const source = new CachedMalSource(await deps.session(userId));
  // No mapping cache: the point is to show the alternatives, not the remembered answer.
  const matcher = new Matcher(source, { ...SYNC_MATCHER_OPTIONS, reportedCandidates: 8 });
  const result = await matcher.match(matchRequestForFacts(factsOfStoredSeason(series.title, season)));
  if (source.seen.size > 0) await saveAnimeInfo([...source.seen.values()]);
  return result.candidates.map((candidate) => ({
    malId: candidate.malId,
    title: candidate.title,
    mediaType: mediaTypeEnum(candidate.mediaType),
    numEpisodes: source.seen.get(candidate.malId)?.numEpisodes ?? null,
    year: source.years.get(candidate.malId) ?? null,
    confidence: candidate.score,
    explanation:
      `${candidate.malId === result.malId ? (result.needsReview ? "the matcher's choice, left to review" : "the matcher's choice") : 'alternative'}: ` +
      `title ${candidate.signals.title.toFixed(2)} via "${candidate.signals.titleMatchedOn}", season ${candidate.signals.season.toFixed(2)}, ` +
      `type ${candidate.signals.mediaType.toFixed(2)}, year ${candidate.signals.year.toFixed(2)}, episodes ${candidate.signals.episodes.toFixed(2)}`,
  }));
}
