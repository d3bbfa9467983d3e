export { normaliseHistory, type NormaliseOptions } from './normalise';
export { parseHistory, historyLists, HistoryFormatError, HISTORY_BOUNDS, type ParsedHistory } from './parse';
export { skipReport, mergeSkipReports, EMPTY_SKIP_REPORT, SKIP_MESSAGES, MAX_PATHS_PER_REASON, type SkipKind, type SkipReport } from './report';
export type { CrEpisode, CrSeason, NormalisedHistory, HistoryFormat, SkipReason, SkippedEntry, WatchEvent } from './types';
