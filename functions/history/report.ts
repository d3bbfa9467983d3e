/**
 * The skipped-entries report a sync job shows: per reason, how many entries, what it means and the JSON
 * paths of the first few. Bounded (a few paths per reason, paths built only from list indices and known
 * field names), so it fits on the job item whatever the history holds.
 */
import type { SkipReason, SkippedEntry } from './types';

export const MAX_PATHS_PER_REASON = 10;

export const SKIP_MESSAGES: Record<SkipReason, string> = {
  NOT_AN_ENTRY: 'not a watch-history entry (not an object, or none of the fields of a CR or compact entry)',
  PANEL_MISSING: 'no panel (the content is gone from Crunchyroll) and the episode appears nowhere else in the history',
  MISSING_FIELD: 'a field the sync needs is missing or empty',
  INVALID_FIELD: 'a field has the wrong type or an unreadable value',
  INVALID_ID: 'an id is not printable ASCII without spaces',
  ID_TOO_LONG: 'an id is longer than 128 characters',
  TITLE_TOO_LONG: 'a title is longer than 500 characters',
  OUT_OF_RANGE: 'a number or date is outside what a watch history holds (episode and sequence numbers 0–9,999, season numbers 0–999, durations up to 24 h, dates from 2000 to now)',
  NO_EPISODE_NUMBER: 'neither an episode number nor a sequence number',
  SPECIAL_EPISODE: 'a special or recap without an episode number of its own (e.g. sequence number 6.5): not counted as progress',
};

export interface SkipKind {
  reason: SkipReason;
  message: string;
  count: number;
  /** The first MAX_PATHS_PER_REASON paths, in document order. */
  paths: string[];
}

export interface SkipReport {
  total: number;
  reasons: SkipKind[];
}

export const EMPTY_SKIP_REPORT: SkipReport = { total: 0, reasons: [] };

function ordered(kinds: Iterable<SkipKind>): SkipKind[] {
  return [...kinds].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** `prefix` marks the part of a history sent in parts ("part 2: data[17]…"). */
export function skipReport(skipped: readonly SkippedEntry[], prefix = ''): SkipReport {
  const kinds = new Map<SkipReason, SkipKind>();
  for (const entry of skipped) {
    let kind = kinds.get(entry.reason);
    if (!kind) {
      kind = { reason: entry.reason, message: SKIP_MESSAGES[entry.reason], count: 0, paths: [] };
      kinds.set(entry.reason, kind);
    }
    kind.count++;
    if (kind.paths.length < MAX_PATHS_PER_REASON) kind.paths.push(`${prefix}${entry.path}`);
  }
  return { total: skipped.length, reasons: ordered(kinds.values()) };
}

/** One report from several (the parts of one history, in part order). */
export function mergeSkipReports(reports: ReadonlyArray<SkipReport | null | undefined>): SkipReport {
  const kinds = new Map<SkipReason, SkipKind>();
  let total = 0;
  for (const report of reports) {
    if (!report) continue;
    total += report.total;
    for (const kind of report.reasons) {
      const known = kinds.get(kind.reason);
      if (!known) kinds.set(kind.reason, { ...kind, paths: kind.paths.slice(0, MAX_PATHS_PER_REASON) });
      else {
        known.count += kind.count;
        known.paths = [...known.paths, ...kind.paths].slice(0, MAX_PATHS_PER_REASON);
      }
    }
  }
  return { total, reasons: ordered(kinds.values()) };
}
