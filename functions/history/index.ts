export { normaliseHistory, type NormaliseOptions } from './normalise';
export { parseHistory, HistoryFormatError, type ParsedHistory } from './parse';
export type { CrEpisode, CrSeason, NormalisedHistory, HistoryFormat, WatchEvent } from './types';
