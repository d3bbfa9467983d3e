/**
 * Undoing a sync: a revert job puts every MAL entry that an earlier job changed back to that job's
 * before-state, newest change first — but only where MAL still shows the job's after-state. An entry the
 * user changed since is left alone and reported as a Conflict, and a season the user set to never sync is
 * not touched. A revert is a job like any other (limits,
 * progress, history, dry run), so it can itself be reverted.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { consume } from '../limits/user-limits';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { changeIdFor, diffPatch, emptyState, type CurrentEntry } from './planner';
import { jobView, refuseIfAnotherJobActive } from './process-history';
import { getJob, newJobId, newJobItem, type HistoryEntry } from './store';
import type { JobItem, ListState, PlannedChange, SyncErrorRecord } from './types';

/** Jobs that may be reverted: finished, and not previews. */
const REVERTIBLE: readonly string[] = ['SUCCEEDED', 'PARTIAL', 'CANCELLED', 'FAILED'];

export interface RevertDeps {
  enqueue(message: { userId: string; jobId: string }): Promise<void>;
}

/** Creates and queues the revert job of `jobId` (the caller's own, finished, not a dry run). */
export async function revertSync(userId: string, jobId: string, dryRun: boolean, deps: RevertDeps): Promise<Record<string, unknown>> {
  if (typeof jobId !== 'string' || jobId.length === 0 || jobId.length > 64) throw new ValidationError('jobId must be the id of one of your sync jobs', { field: 'jobId' });
  const target = await getJob(userId, jobId);
  if (!target) throw new NotFoundError(`no sync job ${jobId}`, { field: 'jobId' });
  if (target.dryRun) throw new ValidationError(`job ${jobId} was a dry run: it changed nothing on MAL`, { field: 'jobId', dryRun: true });
  if (!REVERTIBLE.includes(target.status)) throw new ConflictError(`job ${jobId} is ${target.status}; only a finished job can be reverted`, { status: target.status });
  await refuseIfAnotherJobActive(userId);
  await consume(userId, 'syncStartsPerHour');
  const now = new Date().toISOString();
  const job: JobItem = { ...newJobItem(userId, newJobId(), { dryRun, format: 'revert', totalParts: 0, now }), status: 'QUEUED', revertsJobId: jobId };
  await documents().send(new PutCommand({ TableName: tableName('sync-jobs'), Item: job, ConditionExpression: 'attribute_not_exists(sk)' }));
  await deps.enqueue({ userId, jobId: job.jobId });
  return jobView(job);
}

const SAME_FIELDS: readonly (keyof ListState)[] = ['status', 'score', 'numEpisodesWatched', 'isRewatching', 'numTimesRewatched', 'startDate', 'finishDate'];

/** True when MAL's entry still shows exactly what the job left there. */
export function stillAsLeft(current: ListState, after: ListState): boolean {
  return SAME_FIELDS.every((field) => current[field] === after[field]);
}

export interface RevertPlan {
  changes: PlannedChange[];
  conflicts: SyncErrorRecord[];
}

/**
 * The revert's plan from the reverted job's history and the user's MAL list now: newest change first;
 * an entry the job added to the list is removed from it again.
 */
export function planRevert(revertJobId: string, history: HistoryEntry[], list: Map<number, CurrentEntry>, neverSync: (seasonKey: string) => boolean = () => false): RevertPlan {
  const changes: PlannedChange[] = [];
  const conflicts: SyncErrorRecord[] = [];
  const seen = new Set<number>();
  for (const entry of [...history].sort((a, b) => b.seq - a.seq)) {
    if (seen.has(entry.malId)) continue;
    seen.add(entry.malId);
    // A series the user now never syncs is not touched by a revert either.
    if (neverSync(entry.seasonKey)) continue;
    const before = entry.before as ListState;
    const after = entry.after as ListState;
    const current = list.get(entry.malId)?.state ?? emptyState(entry.malId);
    if (!stillAsLeft(current, after)) {
      conflicts.push({
        errorType: 'Conflict',
        message: `"${entry.title ?? entry.malId}" changed on MAL since job ${entry.jobId}: left as it is`,
        seasonKey: entry.seasonKey,
        malId: entry.malId,
      });
      continue;
    }
    const removeFromList = before.status === null;
    const patch = removeFromList ? {} : diffPatch(current, before);
    if (!removeFromList && Object.keys(patch).length === 0) continue;
    changes.push({
      changeId: changeIdFor(revertJobId, entry.malId),
      seq: changes.length + 1,
      seasonKey: entry.seasonKey,
      seriesId: entry.seriesId,
      malId: entry.malId,
      title: entry.title,
      before: current,
      after: removeFromList ? emptyState(entry.malId) : { ...current, ...before, malId: entry.malId },
      patch,
      reason: removeFromList ? `revert of job ${entry.jobId}: not on the list before it` : `revert of job ${entry.jobId}`,
      ...(removeFromList ? { removeFromList: true } : {}),
    });
  }
  return { changes, conflicts };
}
