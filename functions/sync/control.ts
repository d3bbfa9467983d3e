/**
 * The sync's control operations behind the sync-control Lambda: cancel and retry a job, confirm a
 * season's match, and rank MAL candidates for a season. Every operation is keyed by the caller's id, so
 * a job or season of another user is simply not found.
 */
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { consume } from '../limits/user-limits';
import { Matcher } from '../matching/matcher';
import type { MalMediaType } from '../matching/types';
import { jobView } from './process-history';
import { MalCandidateSource, type MalSessionLike } from './mal-source';
import { malMediaTypeEnum } from '../mal/types';
import {
  DynamoDbMappingCache,
  getJob,
  getSeries,
  loadAnimeInfo,
  loadPlan,
  loadSeries,
  putSeries,
  saveAnimeInfo,
  saveMatchChoice,
  transitionJob,
  type StoredSeason,
  type StoredSeasonMatch,
  type StoredSeries,
} from './store';

export interface ControlDeps {
  session(userId: string): Promise<MalSessionLike>;
  enqueue(message: { userId: string; jobId: string }): Promise<void>;
}

export async function cancelSync(userId: string, jobId: string): Promise<Record<string, unknown>> {
  const job = await getJob(userId, jobId);
  if (!job) throw new NotFoundError(`no sync job ${jobId}`, { field: 'jobId' });
  const cancelled = await transitionJob(userId, jobId, ['RECEIVING', 'QUEUED', 'RUNNING'], { status: 'CANCELLED', finishedAt: new Date().toISOString() });
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

export interface ConfirmMatchInput {
  seasonKey: string;
  malId?: number | null;
  episodeOffset?: number | null;
}

export async function confirmMatch(userId: string, input: ConfirmMatchInput): Promise<StoredSeasonMatch> {
  const malId = input.malId ?? null;
  if (malId !== null && (!Number.isInteger(malId) || malId <= 0)) throw new ValidationError('input.malId must be a positive MAL anime id or null', { field: 'input.malId' });
  const episodeOffset = input.episodeOffset ?? 0;
  if (!Number.isInteger(episodeOffset) || episodeOffset < 0 || episodeOffset > 10_000) {
    throw new ValidationError('input.episodeOffset must be an integer from 0 to 10000', { field: 'input.episodeOffset', min: 0, max: 10_000 });
  }
  const { series, season } = await findSeason(userId, input.seasonKey);
  const title = malId === null ? null : ((await loadAnimeInfo([malId])).get(malId)?.title ?? null);
  const now = new Date().toISOString();
  await saveMatchChoice(userId, { seasonKey: season.seasonKey, seriesId: series.seriesId, malId, episodeOffset, title, confirmedAt: now });
  const match: StoredSeasonMatch = {
    seasonKey: season.seasonKey,
    malId,
    title,
    confidence: 1,
    episodeOffset,
    source: 'USER',
    needsReview: false,
    explanation: malId === null ? 'you said this season is not on MAL: it is never synced' : 'confirmed by you',
  };
  season.match = match;
  series.updatedAt = now;
  await putSeries([series]);
  if (malId !== null) {
    await new DynamoDbMappingCache().putUserVote(userId, { seasonKey: season.seasonKey, malId, episodeOffset, confidence: 1, source: 'user', updatedAt: now });
  }
  return match;
}

export function mediaTypeEnum(type: MalMediaType | string | undefined): string {
  return malMediaTypeEnum(type);
}

export async function matchCandidates(userId: string, seasonKey: string, deps: Pick<ControlDeps, 'session'>): Promise<Record<string, unknown>[]> {
  const { series, season } = await findSeason(userId, seasonKey);
  const source = new MalCandidateSource(await deps.session(userId));
  // No cache: the point is to show the alternatives, not the remembered answer.
  const matcher = new Matcher(source, { reportedCandidates: 8 });
  const result = await matcher.match({
    seasonKey: season.seasonKey,
    seriesTitle: series.title,
    seasonTitle: season.title,
    seasonNumber: season.isMovie ? null : season.seasonNumber,
    episodeCount: season.isMovie ? null : season.episodes.reduce((max, e) => Math.max(max, e.number), 0),
    mediaType: season.isMovie ? 'movie' : null,
  });
  if (source.seen.size > 0) await saveAnimeInfo([...source.seen.values()]);
  return result.candidates.map((candidate) => ({
    malId: candidate.malId,
    title: candidate.title,
    mediaType: mediaTypeEnum(candidate.mediaType),
    numEpisodes: source.seen.get(candidate.malId)?.numEpisodes ?? null,
    year: source.years.get(candidate.malId) ?? null,
    // The best candidate carries the matcher's calibrated confidence; the others their score, below it.
    confidence: candidate.malId === result.malId ? result.confidence : Math.max(0, Math.min(candidate.score, result.confidence || candidate.score)),
    explanation:
      `title ${candidate.signals.title.toFixed(2)} via "${candidate.signals.titleMatchedOn}", season ${candidate.signals.season.toFixed(2)}, ` +
      `type ${candidate.signals.mediaType.toFixed(2)}, year ${candidate.signals.year.toFixed(2)}, episodes ${candidate.signals.episodes.toFixed(2)}`,
  }));
}
