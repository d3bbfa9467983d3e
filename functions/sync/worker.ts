/**
 * One run of a sync job: lock → claim → normalise → match → read the MAL list once → plan → apply,
 * checkpointing every step (see store.ts for the items). A run killed at any point is resumed by the next
 * run of the same job (the queue redelivers; retrySync re-queues): phases before APPLYING are repeated
 * (they write nothing to MAL), the plan is stored once and applied from its cursor, and the change at the
 * cursor — the only one whose PATCH may have landed without its checkpoint — is first compared with MAL's
 * current entry, so a landed PATCH is recorded, not repeated.
 */
import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { normaliseHistory } from '../history';
import { storeSeries } from './series-store';
import type { CrSeason } from '../history';
import { runMatchPhase } from './match-phase';
import type { SeasonFacts } from '../matching/from-history';
import { MalBadRequestError, MalBlockedError, MalError, MalNotFoundError, MalReloginRequiredError } from '../mal/errors';
import { withRateShare } from '../mal/rate-limiter';
import { documents } from '../shared/dynamo';
import { ENV, envNumber, tableName } from '../shared/config';
import { METRIC } from '#contract/metrics';
import { emitMetric } from '../shared/metrics';
import type { SyncSettings } from '#contract/settings';
import { changeIdFor, emptyState, patchIsApplied, planChanges, type AnimeInfo, type CurrentEntry, type PlannerMatch, type PlannerSeason } from './planner';
import { animeInfoOf, listStateOf, type MalSessionLike } from './mal-source';
import { ProgressReporter, type PublishProgress } from './progress';
import {
  LostJobError,
  acquireLock,
  animeInfoIsFresh,
  appendErrors,
  checkpointChange,
  claimJob,
  getJob,
  historyForJob,
  loadAnimeInfo,
  loadParts,
  loadPlan,
  loadSeries,
  loadSettings,
  putSeries,
  releaseLock,
  saveAnimeInfo,
  savePlan,
  updateJob,
  type StoredSeasonMatch,
  type StoredSeries,
} from './store';
import type { JobItem, ListPatch, PlannedChange, SyncCounts, SyncErrorRecord, SyncJobStatus, SyncPhase } from './types';
import { PROFILE_SK } from '#contract/keys';
import { planRevert } from './revert';
import { refreshStats } from './stats';
import { DEFAULT_SETTINGS } from '#contract/settings';
import { componentLogger, errorFields } from '../shared/logger';
import { rulesBySeason, settingsOverrides, type SyncRules } from './rules';

const log = componentLogger('sync-worker');

export class SyncJobFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SyncJobFailedError';
  }
}

export interface WorkerDeps {
  /** The user's MAL session (functions/auth/mal-tokens.ts malSessionForUser in the handler). */
  session(userId: string): Promise<MalSessionLike>;
  publish?: PublishProgress;
  /** How long the user's lock and the job stay ours without a checkpoint. */
  leaseMs?: number;
  /** Called at every step boundary; tests throw from it to kill the run at step k. */
  onStep?: (step: string) => void | Promise<void>;
  /** Coalescing interval of step-progress events. */
  progressIntervalMs?: number;
  signal?: AbortSignal;
  /** Queues the job again after `delaySeconds` (a job paused while MAL blocks us resumes this way). */
  resumeLater?: (message: { userId: string; jobId: string }, delaySeconds: number) => Promise<void>;
}

export type RunOutcome = 'done' | 'busy' | 'skipped' | 'cancelled' | 'failed' | 'stopped' | 'paused';

/** How long a job waits while MAL blocks us (SQS delays a message by at most 900 s). */
export function malBlockedPauseSeconds(): number {
  return Math.min(envNumber(ENV.MAL_BLOCKED_PAUSE_SECONDS, 900), 900);
}

/** Faults (not MAL's errors) in a row after which a job is FAILED instead of redelivered again. */
export const MAX_CONSECUTIVE_FAULTS = 3;

export const DEFAULT_LEASE_MS = 120_000;

/** Builds the history document of all parts (same format, so the same list key). */
export function combineParts(format: string, parts: unknown[][]): Record<string, unknown[]> {
  return { [format === 'cr-v2' ? 'data' : 'items']: parts.flat() };
}

export function allSeasons(history: { seasons: CrSeason[]; movies: CrSeason[] }): CrSeason[] {
  return [...history.seasons, ...history.movies];
}

/** A season for the planner under its rules: only episodes watched after `watchedAfter`, settings overridden. */
function plannerSeason(season: CrSeason, rules: SyncRules | undefined): PlannerSeason {
  const after = rules?.watchedAfter ?? null;
  return {
    seasonKey: season.seasonKey,
    seriesId: season.seriesId,
    episodes: season.episodes
      .filter((e) => after === null || e.lastWatchedAt >= after)
      .map((e) => ({ number: e.number, progress: e.progress, fullyWatched: e.fullyWatched, firstWatchedAt: e.firstWatchedAt, lastWatchedAt: e.lastWatchedAt })),
    overrides: settingsOverrides(rules),
  };
}

function isPerEntryMalError(error: unknown): boolean {
  return error instanceof MalBadRequestError || error instanceof MalNotFoundError;
}

function errorRecord(error: unknown, extra: Partial<SyncErrorRecord> = {}): SyncErrorRecord {
  if (error instanceof MalReloginRequiredError) return { errorType: 'MalReloginRequired', message: 'MyAnimeList no longer accepts this account: sign in with MAL again', ...extra };
  if (error instanceof MalNotFoundError) return { errorType: 'NotFound', message: 'MyAnimeList has no such entry', ...extra };
  if (error instanceof MalBadRequestError) return { errorType: 'ValidationError', message: 'MyAnimeList refused the change as invalid', ...extra };
  if (error instanceof MalError) return { errorType: 'MalUnavailable', message: 'MyAnimeList is not answering; retrySync resumes the job', ...extra };
  return { errorType: 'InternalError', message: 'An internal error occurred.', ...extra };
}

export class SyncRun {
  readonly owner = randomUUID();
  private readonly leaseMs: number;
  private lockRenewedAt = 0;
  private job!: JobItem;
  private reporter!: ProgressReporter;
  private settings!: SyncSettings;
  private counts!: SyncCounts;
  private errors: SyncErrorRecord[] = [];

  constructor(
    private readonly deps: WorkerDeps,
    private readonly userId: string,
    private readonly jobId: string,
  ) {
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  }

  private async step(name: string): Promise<void> {
    if (this.deps.signal?.aborted) throw new LostJobError('the worker is stopping');
    await this.deps.onStep?.(name);
    if (Date.now() - this.lockRenewedAt > this.leaseMs / 3) {
      if (!(await acquireLock(this.userId, this.jobId, this.owner, this.leaseMs))) throw new LostJobError(`the sync lock of job ${this.jobId} was taken over`);
      this.lockRenewedAt = Date.now();
    }
  }

  private async setPhase(phase: SyncPhase, extra: Record<string, unknown> = {}, total = 0): Promise<void> {
    await updateJob(this.userId, this.jobId, this.owner, { phase, ...extra });
    this.job.phase = phase;
    this.reporter.phaseChanged('RUNNING', phase, 0, total);
  }

  async run(): Promise<RunOutcome> {
    if (!(await acquireLock(this.userId, this.jobId, this.owner, this.leaseMs))) return 'busy';
    this.lockRenewedAt = Date.now();
    const claimed = await claimJob(this.userId, this.jobId, this.owner, new Date().toISOString());
    if (!claimed) {
      await releaseLock(this.userId, this.owner);
      return 'skipped';
    }
    this.job = claimed;
    if (claimed.pausedUntil) await updateJob(this.userId, this.jobId, this.owner, { pausedUntil: null });
    this.counts = { ...claimed.counts };
    this.errors = [...(claimed.errors ?? [])];
    this.reporter = new ProgressReporter(this.deps.publish, { jobId: this.jobId, userId: this.userId }, this.deps.progressIntervalMs ?? 200);
    try {
      await this.step('claimed');
      const outcome = await this.work();
      await this.reporter.flush();
      return outcome;
    } catch (error) {
      if (error instanceof LostJobError) {
        // Cancelled or taken over: the other party owns the job's state now.
        await releaseLock(this.userId, this.owner).catch(() => undefined);
        const now = await getJob(this.userId, this.jobId);
        if (now?.status === 'CANCELLED') this.reporter.summary('CANCELLED', now.phase, now.counts.applied + now.counts.failed, now.counts.planned, now.counts);
        await this.reporter.flush();
        return now?.status === 'CANCELLED' ? 'cancelled' : 'stopped';
      }
      if (error instanceof MalBlockedError && this.deps.resumeLater) {
        await this.pause(error);
        return 'paused';
      }
      if (error instanceof MalError) {
        await this.finish('FAILED', [errorRecord(error)]);
        return 'failed';
      }
      // Anything else is a fault: leave the job RUNNING under its lease so a redelivery resumes it —
      // unless it keeps happening, when it is recorded as FAILED with a reason and the lock is released.
      const faults = (this.job.faults ?? 0) + 1;
      const reference = randomUUID();
      log.error('sync run failed', { jobId: this.jobId, reference, faults, ...errorFields(error) });
      if (faults >= MAX_CONSECUTIVE_FAULTS) {
        await this.finish('FAILED', [{ errorType: 'InternalError', message: `The sync failed ${faults} times in a row (an internal error, reference ${reference}); retrySync tries again` }], { faults: 0 }).catch(() => undefined);
        return 'failed';
      }
      await updateJob(this.userId, this.jobId, this.owner, { faults }).catch(() => undefined);
      await this.reporter.flush();
      throw error;
    }
  }

  private async work(): Promise<RunOutcome> {
    this.settings = await loadSettings(this.userId);
    let plan: PlannedChange[];
    if (this.job.phase === 'APPLYING' || (this.job.phase === 'DONE' && !this.job.dryRun)) {
      plan = await loadPlan(this.userId, this.jobId);
    } else {
      const session = await this.deps.session(this.userId);
      plan = this.job.revertsJobId ? await this.buildRevertPlan(session, this.job.revertsJobId) : await this.buildPlan(session);
      if (this.job.dryRun) {
        await this.finish('SUCCEEDED');
        return 'done';
      }
    }
    return this.apply(plan);
  }

  private async buildPlan(session: MalSessionLike): Promise<PlannedChange[]> {
    // NORMALISING
    await this.setPhase('NORMALISING');
    const parts = await loadParts(this.userId, this.jobId);
    const history = normaliseHistory(combineParts(this.job.format, parts), { watchedThreshold: this.settings.watchedThreshold });
    const seasons = allSeasons(history);
    const { tooLarge, facts } = await storeSeries(this.userId, seasons);
    if (tooLarge.length > 0) {
      this.errors = appendErrors(
        this.errors,
        tooLarge.map((s) => ({
          errorType: 'LimitExceeded',
          message: `"${s.title}" has ${s.episodes} episodes watched, more than one series item can hold: the sync goes ahead, but the series is not listed by \`series\``,
        })),
      );
      await updateJob(this.userId, this.jobId, this.owner, { errors: this.errors });
    }
    await this.step('normalised');

    // MATCHING
    await this.setPhase('MATCHING', { 'counts.seasons': seasons.length }, seasons.length);
    const matches = await this.matchSeasons(session, seasons, facts);
    await this.step('matched');

    const { list, titles } = await this.readList(session);

    // PLANNING
    await this.setPhase('PLANNING');
    const matchedIds = [...new Set([...matches.values()].filter((m) => !m.needsReview && m.malId !== null).flatMap((m) => m.segments.map((s) => s.malId)))];
    const anime = await this.animeInfo(session, matchedIds, titles);
    // The user's per-series rules: a never-sync season plans nothing; the others plan under their rules.
    const rules = rulesBySeason(await loadSeries(this.userId));
    const planned = seasons.filter((s) => rules.get(s.seasonKey)?.neverSync !== true).map((s) => plannerSeason(s, rules.get(s.seasonKey)));
    const plan = planChanges({ jobId: this.jobId, seasons: planned, matches, list, anime, settings: this.settings });
    this.counts.planned = plan.length;
    await savePlan(this.userId, this.jobId, this.owner, plan, { planned: plan.length, matched: this.counts.matched, needsReview: this.counts.needsReview });
    this.job.phase = 'APPLYING';
    await this.step('planned');
    return plan;
  }

  /** READING_LIST: the user's whole MAL list, read once. */
  private async readList(session: MalSessionLike): Promise<{ list: Map<number, CurrentEntry>; titles: Map<number, string> }> {
    await this.setPhase('READING_LIST');
    const entries = await session.getAnimeList({ pageSize: 1000 });
    const list = new Map<number, CurrentEntry>(entries.map((e) => [e.anime.id, { state: listStateOf(e.anime.id, e.listStatus), updatedAt: e.listStatus.updatedAt ?? null }]));
    const titles = new Map(entries.map((e) => [e.anime.id, e.anime.title]));
    this.reporter.progress(entries.length, entries.length);
    await this.step('list-read');
    return { list, titles };
  }

  /** A revert job's plan: the reverted job's changes undone where MAL still shows them (revert.ts). */
  private async buildRevertPlan(session: MalSessionLike, revertsJobId: string): Promise<PlannedChange[]> {
    const { list } = await this.readList(session);
    await this.setPhase('PLANNING');
    const rules = rulesBySeason(await loadSeries(this.userId));
    const { changes, conflicts } = planRevert(this.jobId, await historyForJob(this.userId, revertsJobId), list, (seasonKey) => rules.get(seasonKey)?.neverSync === true);
    this.errors = appendErrors(this.errors, conflicts);
    for (const conflict of conflicts) this.reporter.error(0, changes.length, conflict);
    this.counts.planned = changes.length;
    await updateJob(this.userId, this.jobId, this.owner, { errors: this.errors });
    await savePlan(this.userId, this.jobId, this.owner, changes, { planned: changes.length, matched: 0, needsReview: 0 });
    this.job.phase = 'APPLYING';
    await this.step('planned');
    return changes;
  }

  private async matchSeasons(session: MalSessionLike, seasons: CrSeason[], facts: Map<string, SeasonFacts>): Promise<Map<string, PlannerMatch>> {
    const dryRun = this.job.dryRun === true;
    const out = await runMatchPhase({ userId: this.userId, jobId: this.jobId, dryRun, settings: this.settings, session, seasons, facts, reporter: this.reporter });
    this.errors = appendErrors(this.errors, out.errors);
    if (out.source.seen.size > 0) await saveAnimeInfo([...out.source.seen.values()]);
    this.counts.matched = out.matched;
    this.counts.needsReview = out.needsReview;
    // A dry run previews: the user's series keep the matches they had.
    if (!dryRun) await this.saveMatches(seasons, out.stored);
    await updateJob(this.userId, this.jobId, this.owner, { 'counts.matched': out.matched, 'counts.needsReview': out.needsReview, errors: this.errors });
    return out.matches;
  }

  /** Shows each season's match on the user's series items (Query.series). */
  private async saveMatches(seasons: CrSeason[], matches: Map<string, StoredSeasonMatch>): Promise<void> {
    const seriesIds = new Set(seasons.map((s) => s.seriesId));
    const series = (await loadSeries(this.userId)).filter((s) => seriesIds.has(s.seriesId));
    const changed: StoredSeries[] = [];
    for (const item of series) {
      let touched = false;
      for (const season of item.seasons) {
        const match = matches.get(season.seasonKey);
        if (match) {
          season.match = match;
          touched = true;
        }
      }
      if (touched) changed.push(item);
    }
    await putSeries(changed);
  }

  /** Episode counts and airing status: from the shared cache, else one details call per unknown entry. */
  private async animeInfo(session: MalSessionLike, malIds: number[], titles: Map<number, string>): Promise<Map<number, AnimeInfo>> {
    const cached = await loadAnimeInfo(malIds);
    const out = new Map<number, AnimeInfo>();
    const fetched: AnimeInfo[] = [];
    for (const malId of malIds) {
      const known = cached.get(malId);
      if (known && animeInfoIsFresh(known)) {
        out.set(malId, known);
        continue;
      }
      try {
        const info = animeInfoOf(await session.getAnimeDetails(malId, 'num_episodes,status,media_type'));
        out.set(malId, info);
        fetched.push(info);
      } catch (error) {
        if (!isPerEntryMalError(error)) throw error;
        if (known) out.set(malId, known);
        else out.set(malId, { malId, title: titles.get(malId) ?? null, numEpisodes: null, airingStatus: null });
      }
    }
    if (fetched.length > 0) await saveAnimeInfo(fetched);
    return out;
  }

  private async apply(plan: PlannedChange[]): Promise<RunOutcome> {
    const start = this.job.cursor ?? 0;
    const resumed = (this.job.attempts ?? 1) > 1;
    this.reporter.phaseChanged('RUNNING', 'APPLYING', start, plan.length);
    const session = plan.length > start ? await this.deps.session(this.userId) : undefined;
    const applied = new Set(this.job.appliedChangeIds ?? []);
    for (let index = start; index < plan.length; index++) {
      const change = plan[index];
      if (applied.has(change.changeId)) continue;
      await this.step(`before-patch:${change.seq}`);
      let afterState;
      let failure: SyncErrorRecord | undefined;
      try {
        if (resumed && index === start) {
          // The previous run may have sent this PATCH and died before its checkpoint.
          const current = await session!.getAnimeDetails(change.malId, 'my_list_status');
          const state = listStateOf(change.malId, current.myListStatus);
          if (change.removeFromList ? state.status === null : patchIsApplied(change.patch, state)) afterState = state;
        }
        if (!afterState && change.removeFromList) {
          await session!.deleteListStatus(change.malId);
          afterState = emptyState(change.malId);
        }
        if (!afterState) {
          const result = await session!.updateListStatus(change.malId, malUpdateOf(change.patch));
          afterState = { ...listStateOf(change.malId, result), numTimesRewatched: result.numTimesRewatched ?? change.after.numTimesRewatched };
        }
      } catch (error) {
        if (!isPerEntryMalError(error)) throw error;
        failure = errorRecord(error, { seasonKey: change.seasonKey, malId: change.malId });
      }
      await this.step(`after-patch:${change.seq}`);
      const entry = {
        jobId: this.jobId,
        seq: change.seq,
        changeId: change.changeId,
        appliedAt: new Date().toISOString(),
        seriesId: change.seriesId,
        seasonKey: change.seasonKey,
        malId: change.malId,
        title: change.title,
        before: change.before,
        after: afterState ?? change.after,
      };
      if (failure) this.errors = appendErrors(this.errors, [failure]);
      const checkpoint = { userId: this.userId, owner: this.owner, entry, nextCursor: index + 1, applied: !failure, ...(failure ? { errors: this.errors } : {}) };
      try {
        await checkpointChange(checkpoint);
      } catch (error) {
        if (!(error instanceof LostJobError)) throw error;
        // Cancelled while this change was on its way: record it (applied changes stay), then stop.
        const now = await getJob(this.userId, this.jobId);
        if (now?.status !== 'CANCELLED' || now.runOwner !== this.owner) throw error;
        await checkpointChange({ ...checkpoint, allowCancelled: true });
        if (failure) this.counts.failed += 1;
        else this.counts.applied += 1;
        this.reporter.change(index + 1, plan.length, change.title, entry);
        throw error;
      }
      if (failure) {
        this.counts.failed += 1;
        this.reporter.error(index + 1, plan.length, failure);
      } else {
        this.counts.applied += 1;
        this.reporter.change(index + 1, plan.length, change.title, entry);
      }
      await this.step(`after-checkpoint:${change.seq}`);
    }
    // A revert that left entries alone (the user changed them since) did not do all it was asked.
    const leftAlone = this.errors.some((e) => e.errorType === 'Conflict');
    await this.finish(this.counts.failed > 0 || leftAlone ? 'PARTIAL' : 'SUCCEEDED');
    return 'done';
  }

  /** MAL is blocking us: the job waits (PAUSED, visible with its reason and resume time), then resumes where it was. */
  private async pause(error: MalBlockedError): Promise<void> {
    const delaySeconds = malBlockedPauseSeconds();
    const pausedUntil = new Date(Date.now() + delaySeconds * 1000).toISOString();
    log.warn('MAL is blocking requests: job paused', { jobId: this.jobId, evidence: error.evidence, status: error.status, path: error.path });
    emitMetric(METRIC.MalBlocked);
    const record: SyncErrorRecord = { errorType: 'MalBlocked', message: `MyAnimeList is blocking AnimeLog's requests: the job is paused and resumes by itself at ${pausedUntil}` };
    this.errors = appendErrors(this.errors, [record]);
    await updateJob(this.userId, this.jobId, this.owner, { status: 'PAUSED', pausedUntil, errors: this.errors });
    this.reporter.error(this.counts.applied + this.counts.failed, this.counts.planned, record);
    this.reporter.phaseChanged('PAUSED', this.job.phase, this.counts.applied + this.counts.failed, this.counts.planned);
    await releaseLock(this.userId, this.owner);
    await this.deps.resumeLater!({ userId: this.userId, jobId: this.jobId }, delaySeconds);
    await this.reporter.flush();
  }

  private async finish(status: SyncJobStatus, errors: SyncErrorRecord[] = [], extra: Record<string, unknown> = {}): Promise<void> {
    this.errors = appendErrors(this.errors, errors);
    const finishedAt = new Date().toISOString();
    const phase: SyncPhase = status === 'FAILED' ? this.job.phase : 'DONE';
    // Counters are re-read from the job: checkpoints add to them atomically.
    const job = await getJob(this.userId, this.jobId);
    const counts = { ...(job?.counts ?? this.counts), planned: this.counts.planned || job?.counts.planned || 0 };
    // lastSyncAt and the statistics are written before the job shows its final status, so a client that
    // sees the job finished reads them up to date. A dry run is a preview: the last sync is the last one
    // that could change the MAL list, and only such jobs change the statistics; a failure here must not
    // fail the job.
    if (status !== 'FAILED' && !this.job.dryRun) await recordLastSync(this.userId, finishedAt).catch(() => undefined);
    if (!this.job.dryRun) {
      await refreshStats(this.userId, { jobId: this.jobId, applied: counts.applied }, (this.settings ?? DEFAULT_SETTINGS).watchedThreshold).catch((error) =>
        log.warn('statistics not refreshed', { jobId: this.jobId, ...errorFields(error) }),
      );
    }
    await updateJob(this.userId, this.jobId, this.owner, { status, phase, finishedAt, errors: this.errors, 'counts.planned': counts.planned, ...extra });
    for (const error of errors) this.reporter.error(counts.applied, counts.planned, error);
    // The final event carries the skipped-entries report next to the counters.
    this.reporter.summary(status, phase, counts.applied + counts.failed, counts.planned, { ...counts, skipped: job?.skipped ?? this.job.skipped ?? null });
    if (status === 'FAILED') emitMetric(METRIC.SyncJobFailed);
    await releaseLock(this.userId, this.owner);
  }
}

function malUpdateOf(patch: ListPatch): Record<string, unknown> {
  return { ...patch };
}

/** Viewer.lastSyncAt on the user's profile (only when the profile exists). */
async function recordLastSync(userId: string, at: string): Promise<void> {
  await documents().send(
    new UpdateCommand({
      TableName: tableName('users'),
      Key: { userId, sk: PROFILE_SK },
      UpdateExpression: 'SET lastSyncAt = :at',
      ConditionExpression: 'attribute_exists(userId)',
      ExpressionAttributeValues: { ':at': at },
    }),
  );
}

export function runSyncJob(deps: WorkerDeps, message: { userId: string; jobId: string }): Promise<RunOutcome> {
  // The job's MAL calls count against its user's share of the client's budget (fair between users).
  return withRateShare(message.userId, () => new SyncRun(deps, message.userId, message.jobId).run());
}

export { changeIdFor };
