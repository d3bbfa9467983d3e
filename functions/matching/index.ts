export type {
  CandidateSource,
  MalAiringStatus,
  MalAlternativeTitles,
  MalAnimeDetails,
  MalCandidate,
  MalMediaType,
  MalRelatedAnime,
  MalRelationType,
  MatchRequest,
  MatchResult,
  MatchSegment,
  MatchSignals,
  ScoredCandidate,
} from './types';
export { Matcher, MatchingError, calibratedConfidence, DEFAULT_AUTO_ACCEPT_THRESHOLD, type MatcherOptions } from './matcher';
export { buildQueries, MAL_QUERY_MAX, MAL_QUERY_MIN } from './queries';
export {
  InMemoryMappingCache,
  automaticExpiry,
  isLive,
  ACCEPTED_TTL_DAYS,
  UNDECIDED_TTL_DAYS,
  type AutomaticCache,
  type AutomaticEntry,
  type CachedMapping,
  type MappingCache,
  type MappingSource,
} from './cache';
export {
  resolveMapping,
  agreementOf,
  latestVotePerAccount,
  choiceKey,
  DEFAULT_GLOBAL_THRESHOLD,
  type Agreement,
  type AutomaticDecision,
  type MappingVote,
  type ResolvedMapping,
  type ResolvedMappingSource,
} from './agreement';
export { matchRequestForSeason, matchRequestForFacts, factsOfSeason, requestFingerprint, identityFingerprint, segmentsInSeasonNumbers, type SeasonFacts } from './from-history';
// The catalog source is deliberately not re-exported: product code must not load the offline catalog.
