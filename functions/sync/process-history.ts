/**
 * processHistory: validates one part of a CR history, stores it, and once all parts are in queues the
 * job; the worker then merges it into the user's series. Every check runs before the first write, so a
 * rejected call changes nothing of the user's data. Limits: 2,000 items and 4 MB per part, 10 parts.
 */
import { HistoryFormatError, historyLists, normaliseHistory, parseHistory, skipReport, type SkipReport } from '../history';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from '../shared/errors';
import { SIZE_LIMITS, consume } from '../limits/user-limits';
import { allSeasons, combineParts } from './worker';
import {
  getJob,
  recentJobs,
  loadParts,
  loadSettings,
  markQueued,
  newJobId,
  newJobItem,
  storePart,
} from './store';
import type { JobItem } from './types';
import { mergedSkipReport } from './store';

export const MAX_ITEMS_PER_PART = SIZE_LIMITS.historyItemsPerPart;
export const MAX_PART_BYTES = SIZE_LIMITS.historyBytesPerPart;
export const MAX_PARTS = SIZE_LIMITS.partsPerHistory;

/** A receiving job idle this long no longer counts as active (its parts expire anyway). */
const RECEIVING_ACTIVE_MS = 3600_000;

/** One active sync job per user: a job being received, queued or running blocks a new one. */
export async function refuseIfAnotherJobActive(userId: string, now = Date.now()): Promise<void> {
  const active = (await recentJobs(userId, 20)).find(
    // A PAUSED job (MAL blocking us) resumes by itself: it still holds the user's one sync.
    (j) => j.status === 'QUEUED' || j.status === 'RUNNING' || j.status === 'PAUSED' || (j.status === 'RECEIVING' && now - Date.parse(j.createdAt) < RECEIVING_ACTIVE_MS),
  );
  if (active) {
    throw new LimitExceededError(
      `Another sync job (${active.jobId}) is ${active.status.toLowerCase()}; one job at a time: wait for it, or cancel it with cancelSync`,
      30,
      { limit: 'concurrentSyncJobs', max: SIZE_LIMITS.concurrentSyncJobs, activeJobId: active.jobId },
    );
  }
}

export interface ProcessHistoryInput {
  history: unknown;
  format?: 'AUTO' | 'CR_V2' | 'CR_V1' | 'COMPACT' | null;
  dryRun?: boolean | null;
  jobId?: string | null;
  part?: number | null;
  totalParts?: number | null;
}

const FORMAT_NAMES: Record<string, string> = { CR_V2: 'cr-v2', CR_V1: 'cr-v1', COMPACT: 'compact' };
const USER_ID_FIELDS = ['userId', 'user_id', 'animelogUserId'];

function integerIn(value: number | null | undefined, fallback: number, field: string, min: number, max: number): number {
  if (value === null || value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${field} must be an integer from ${min} to ${max}, got ${value}`, { field, min, max, value });
  }
  return value;
}

/** Nesting a history needs is about 10 levels (root, list, entry, panel, metadata, versions, images…). */
export const MAX_HISTORY_DEPTH = 64;

/** Nesting depth of a JSON value, without recursion (a 100,000-deep document must not overflow the stack). */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

function formatError(error: HistoryFormatError): ValidationError {
  const path = error.path === '$' ? 'input.history' : `input.history.${error.path}`;
  return new ValidationError(`${path}: expected ${error.expected}`, { field: path, expected: error.expected }, { cause: error });
}

/**
 * Validates one part; returns its entries, detected format and the report of entries that cannot be
 * used (skipped, not refused). Throws ValidationError only when the document is not a history at all.
 */
export function validatePart(callerUserId: string, input: ProcessHistoryInput): { items: unknown[]; format: string; skipped: SkipReport } {
  const history = input.history;
  if (typeof history !== 'object' || history === null || Array.isArray(history)) {
    throw new ValidationError('input.history must be a JSON object with a "data" or "items" array', { field: 'input.history', expected: 'object' });
  }
  if (depthExceeds(history, MAX_HISTORY_DEPTH)) {
    throw new ValidationError(`input.history is nested more than ${MAX_HISTORY_DEPTH} levels deep; a watch history needs about 10`, {
      field: 'input.history',
      limit: 'historyDepth',
      max: MAX_HISTORY_DEPTH,
    });
  }
  const bytes = Buffer.byteLength(JSON.stringify(history));
  if (bytes > MAX_PART_BYTES) {
    throw new LimitExceededError(`input.history is ${bytes} bytes; a part may hold at most ${MAX_PART_BYTES} bytes (4 MB): send it in parts`, 0, {
      limit: 'historyBytesPerPart',
      max: MAX_PART_BYTES,
      actual: bytes,
      field: 'input.history',
      action: 'SEND_IN_PARTS',
    });
  }
  const root = history as Record<string, unknown>;
  for (const field of USER_ID_FIELDS) {
    if (root[field] !== undefined && root[field] !== callerUserId) {
      throw new ValidationError(`input.history.${field} names another user; a history can only be sent for the signed-in user`, { field: `input.history.${field}` });
    }
  }
  let lists: ReturnType<typeof historyLists>;
  try {
    lists = historyLists(history);
  } catch (error) {
    if (error instanceof HistoryFormatError) throw formatError(error);
    throw error;
  }
  const itemCount = lists.reduce((n, l) => n + l.list.length, 0);
  if (itemCount > MAX_ITEMS_PER_PART) {
    const field = lists.length === 1 ? `input.history.${lists[0].key}` : 'input.history';
    throw new LimitExceededError(`${field} has ${itemCount} items; a part may hold at most ${MAX_ITEMS_PER_PART}: send it in parts`, 0, {
      limit: 'historyItemsPerPart',
      max: MAX_ITEMS_PER_PART,
      actual: itemCount,
      field,
      action: 'SEND_IN_PARTS',
    });
  }
  let parsed: ReturnType<typeof parseHistory>;
  try {
    parsed = parseHistory(history);
    // The whole normalisation too, so that nothing a later step reads can fail on this part.
    normaliseHistory(history);
  } catch (error) {
    if (error instanceof HistoryFormatError) throw formatError(error);
    throw error;
  }
  const format = parsed.format;
  const wanted = input.format && input.format !== 'AUTO' ? FORMAT_NAMES[input.format] : undefined;
  if (wanted && format !== 'empty' && format !== 'mixed' && format !== wanted) {
    throw new ValidationError(`input.history is ${format}, not ${wanted} as input.format says`, { field: 'input.format', expected: wanted, actual: format });
  }
  const totalParts = typeof input.totalParts === 'number' ? input.totalParts : 1;
  const prefix = totalParts > 1 ? `part ${input.part ?? 1}: ` : '';
  return { items: parsed.entries, format, skipped: skipReport(parsed.skipped, prefix) };
}

/** The job as the API shows it (SyncJob). */
export function jobView(job: JobItem): Record<string, unknown> {
  const { partNumbers: _p, appliedChangeIds: _a, skippedByPart: _s, ...rest } = job;
  void _p;
  void _a;
  void _s;
  return rest;
}

export interface ProcessHistoryDeps {
  enqueue(message: { userId: string; jobId: string }): Promise<void>;
}

export async function processHistory(userId: string, input: ProcessHistoryInput, deps: ProcessHistoryDeps): Promise<Record<string, unknown>> {
  if (typeof input.totalParts === 'number' && Number.isInteger(input.totalParts) && input.totalParts > MAX_PARTS) {
    throw new LimitExceededError(`input.totalParts is ${input.totalParts}; a history may have at most ${MAX_PARTS} parts`, 0, {
      limit: 'partsPerHistory',
      max: MAX_PARTS,
      actual: input.totalParts,
      field: 'input.totalParts',
    });
  }
  const totalParts = integerIn(input.totalParts, 1, 'input.totalParts', 1, MAX_PARTS);
  const part = integerIn(input.part, 1, 'input.part', 1, totalParts);
  const { items, format, skipped } = validatePart(userId, input);

  let job: JobItem;
  let isNew: boolean;
  if (input.jobId) {
    // Job ids are 21 lowercase base-36/hex characters; anything else names no job (and must not reach a DynamoDB key).
    if (!/^[0-9a-z]{1,64}$/u.test(input.jobId)) {
      throw new ValidationError('input.jobId is not a sync job id (at most 64 characters of 0–9 and a–z, as processHistory returned it)', { field: 'input.jobId', max: 64 });
    }
    const existing = await getJob(userId, input.jobId);
    if (!existing) throw new NotFoundError(`no sync job ${input.jobId}`, { field: 'input.jobId' });
    if (existing.status !== 'RECEIVING') throw new ConflictError(`job ${input.jobId} is ${existing.status}, no longer receiving parts`, { field: 'input.jobId', status: existing.status });
    if (existing.totalParts !== totalParts) {
      throw new ValidationError(`input.totalParts is ${totalParts} but job ${input.jobId} expects ${existing.totalParts}`, { field: 'input.totalParts', expected: existing.totalParts });
    }
    if ([...(existing.partNumbers ?? [])].includes(part)) throw new ConflictError(`part ${part} of job ${input.jobId} was already received`, { field: 'input.part', part });
    // Parts of different shapes are fine: every entry is read by its own shape.
    job = existing;
    isNew = false;
  } else {
    await refuseIfAnotherJobActive(userId);
    job = newJobItem(userId, newJobId(), { dryRun: input.dryRun ?? false, format, totalParts, now: new Date().toISOString() });
    isNew = true;
  }
  // Per-user windowed limits, counted only for calls that passed every check above.
  if (isNew) await consume(userId, 'syncStartsPerHour');
  await consume(userId, 'historyItemsPerDay', Math.max(1, items.length));

  let stored: JobItem;
  try {
    stored = await storePart({ job, isNew, part, items, historyItems: items.length, skipped });
  } catch (error) {
    if ((error as { name?: string }).name === 'TransactionCanceledException') {
      throw new ConflictError(`part ${part} of job ${job.jobId} was already received, or the job stopped receiving`, { field: 'input.part', part });
    }
    throw error;
  }
  if (stored.format === 'empty' && format !== 'empty') stored.format = format;
  if (stored.receivedParts < stored.totalParts) return jobView(stored);

  // All parts in: count the seasons, then queue. The worker stores the user's series (so a retry redoes it).
  const settings = await loadSettings(userId);
  const parts = await loadParts(userId, stored.jobId);
  const history = normaliseHistory(combineParts(stored.format, parts), { watchedThreshold: settings.watchedThreshold });
  const seasons = allSeasons(history).length;
  const report = mergedSkipReport(stored);
  if (!(await markQueued(userId, stored.jobId, { seasons, skipped: report }))) return jobView((await getJob(userId, stored.jobId)) ?? stored);
  await deps.enqueue({ userId, jobId: stored.jobId });
  // The job as queued (a worker may already be on it; syncJob shows the live state).
  return jobView({ ...stored, status: 'QUEUED', phase: 'QUEUED', counts: { ...stored.counts, seasons }, skipped: report });
}
