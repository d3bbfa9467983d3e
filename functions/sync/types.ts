/**
 * The sync's own types: the job model (as stored and as the API shows it) and the plan. Status and
 * phase names are the schema's enums, so stored items can be returned by resolvers unchanged.
 */
import type { MalListStatusName } from '../mal/types';
import type { SkipReport } from '../history/report';

export type SyncJobStatus = 'RECEIVING' | 'QUEUED' | 'RUNNING' | 'PAUSED' | 'SUCCEEDED' | 'PARTIAL' | 'FAILED' | 'CANCELLED';
export type SyncPhase = 'QUEUED' | 'NORMALISING' | 'MATCHING' | 'READING_LIST' | 'PLANNING' | 'APPLYING' | 'DONE';

export const FINISHED_STATUSES: readonly SyncJobStatus[] = ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'];

export interface SyncCounts {
  historyItems: number;
  seasons: number;
  matched: number;
  needsReview: number;
  planned: number;
  applied: number;
  failed: number;
}

export const ZERO_COUNTS: SyncCounts = { historyItems: 0, seasons: 0, matched: 0, needsReview: 0, planned: 0, applied: 0, failed: 0 };

export interface SyncErrorRecord {
  errorType: string;
  message: string;
  seasonKey?: string | null;
  malId?: number | null;
}

/** A MAL list entry in the schema's MalListStatus shape (status null = not on the list). */
export interface ListState {
  malId: number;
  status: 'WATCHING' | 'COMPLETED' | 'ON_HOLD' | 'DROPPED' | 'PLAN_TO_WATCH' | null;
  score: number;
  numEpisodesWatched: number;
  isRewatching: boolean;
  numTimesRewatched: number;
  startDate: string | null;
  finishDate: string | null;
}

/** What a PATCH sends: only the fields that change. */
export interface ListPatch {
  status?: MalListStatusName;
  numEpisodesWatched?: number;
  isRewatching?: boolean;
  numTimesRewatched?: number;
  startDate?: string;
  finishDate?: string;
}

/** One planned change; `changeId` is deterministic (job + MAL entry), `seq` its 1-based order. */
export interface PlannedChange {
  changeId: string;
  seq: number;
  seasonKey: string;
  seriesId: string;
  malId: number;
  title: string | null;
  before: ListState;
  after: ListState;
  patch: ListPatch;
  reason: string;
  /** A revert of an entry the reverted job had added: DELETE it from the list instead of a PATCH. */
  removeFromList?: boolean;
}

/** The sync-jobs item of a job (see store.ts for the table layout). */
export interface JobItem {
  userId: string;
  sk: string;
  jobId: string;
  status: SyncJobStatus;
  phase: SyncPhase;
  dryRun: boolean;
  format: string;
  receivedParts: number;
  totalParts: number;
  /** Part numbers received (a DynamoDB number set). */
  partNumbers?: Set<number>;
  createdAt: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  counts: SyncCounts;
  errors: SyncErrorRecord[];
  /** Worker run holding the job (fencing token for checkpoints). */
  runOwner?: string | null;
  /** Runs started (1 = first). */
  attempts?: number;
  /** Faults in a row (reset when the job is recorded FAILED for them). */
  faults?: number;
  /** A revert job: the job whose changes it undoes. */
  revertsJobId?: string | null;
  /** Set while PAUSED: when the job resumes by itself. */
  pausedUntil?: string | null;
  /** APPLYING: index of the next change in the plan. */
  cursor?: number;
  /** APPLYING: change ids with a history entry (a DynamoDB string set). */
  appliedChangeIds?: Set<string>;
  /** Plan chunk count, once planned. */
  planChunks?: number;
  /** History entries left out, by reason (SyncJob.skipped). */
  skipped?: SkipReport;
  /** The same per part received ("1", "2"…), merged into `skipped`. */
  skippedByPart?: Record<string, SkipReport>;
  expiresAtEpoch?: number;
}
