/**
 * Which MAL entry a CR season maps to for one user, given that user's own confirmation, a curated
 * mapping, the matcher's result for the user's own facts, and what other users confirmed.
 *
 * Rules (pure: no I/O, no clock):
 * 1. A user's own latest confirmation always wins for that user.
 * 2. A curated (`global`) mapping applies to everyone; no user input ever writes one.
 * 3. The matcher's result for the user's own request (cached by request fingerprint, or fresh).
 * 4. Agreement between users only decides a season the matcher left to review, and only for one of
 *    the candidates the matcher weighed for that request. A vote is one per MAL account (the latest
 *    confirmation of that account), grouped by the identity fingerprint of the voter's own history of
 *    the season; at least `threshold` accounts with the same fingerprint must agree on the same entries
 *    (same segments), and one dissenting account with that fingerprint blocks it.
 * So many AnimeLog sessions of one MAL account are one vote, votes made under forged titles only count
 * for users whose history carries the same forged titles, and no number of votes can replace a match
 * the matcher accepted, or pick an entry outside what the user's own titles found.
 */
import type { MatchSegment } from './types';

export interface MappingVote {
  /** One vote per MAL account: the MAL user id, not AnimeLog's user id. */
  malUserId: number;
  seasonKey: string;
  /** identityFingerprint of the voter's own history of the season. */
  identity: string;
  /** null: the voter said the season is not on MAL. */
  malId: number | null;
  segments: MatchSegment[];
  /** ISO timestamp; an account's latest vote replaces its earlier ones. */
  confirmedAt: string;
}

export interface Agreement {
  malId: number;
  segments: MatchSegment[];
  /** Distinct MAL accounts agreeing. */
  accounts: number;
}

export const DEFAULT_GLOBAL_THRESHOLD = 3;

/** Segments as a comparable key (two votes agree when they map the same episodes to the same entries). */
export function choiceKey(malId: number | null, segments: readonly MatchSegment[]): string {
  if (malId === null) return 'none';
  const list = segments.length > 0 ? segments : [{ malId, firstEpisode: 1, lastEpisode: null, episodeOffset: 0 }];
  return list.map((s) => `${s.malId}:${s.firstEpisode}-${s.lastEpisode ?? ''}:${s.episodeOffset}`).join(',');
}

/** Each MAL account's latest vote for one season and identity. */
export function latestVotePerAccount(votes: readonly MappingVote[], seasonKey: string, identity: string): Map<number, MappingVote> {
  const latest = new Map<number, MappingVote>();
  for (const vote of votes) {
    if (vote.seasonKey !== seasonKey || vote.identity !== identity) continue;
    const previous = latest.get(vote.malUserId);
    if (!previous || vote.confirmedAt > previous.confirmedAt) latest.set(vote.malUserId, vote);
  }
  return latest;
}

/** The agreed mapping among accounts with this identity, or undefined while there is none. */
export function agreementOf(votes: readonly MappingVote[], seasonKey: string, identity: string, threshold = DEFAULT_GLOBAL_THRESHOLD): Agreement | undefined {
  const groups = new Map<string, MappingVote[]>();
  for (const vote of latestVotePerAccount(votes, seasonKey, identity).values()) {
    const key = choiceKey(vote.malId, vote.segments);
    groups.set(key, [...(groups.get(key) ?? []), vote]);
  }
  if (groups.size !== 1) return undefined; // nobody, or accounts disagree
  const [group] = [...groups.values()];
  const malId = group[0].malId;
  if (malId === null || group.length < threshold) return undefined;
  return { malId, segments: group[0].segments, accounts: group.length };
}

export interface AutomaticDecision {
  malId: number | null;
  /** Review by the matcher's flag or the user's own threshold/settings. */
  needsReview: boolean;
  candidateIds: readonly number[];
}

export type ResolvedMappingSource = 'user' | 'global' | 'agreed' | 'automatic' | 'none';

export interface ResolvedMapping {
  source: ResolvedMappingSource;
  malId: number | null;
  needsReview: boolean;
  /** Set for `agreed`: the agreed segments and how many accounts agree. */
  agreement?: Agreement;
}

/** Resolves the mapping one user sees for one season (rules in the module comment). */
export function resolveMapping(input: {
  own?: { malId: number | null } | null;
  global?: { malId: number } | null;
  automatic: AutomaticDecision | null;
  agreement?: Agreement | null;
}): ResolvedMapping {
  if (input.own) return { source: 'user', malId: input.own.malId, needsReview: false };
  if (input.global) return { source: 'global', malId: input.global.malId, needsReview: false };
  const automatic = input.automatic;
  if (automatic && automatic.malId !== null && !automatic.needsReview) return { source: 'automatic', malId: automatic.malId, needsReview: false };
  const agreement = input.agreement;
  if (agreement && automatic && agreement.segments.every((s) => automatic.candidateIds.includes(s.malId)) && automatic.candidateIds.includes(agreement.malId)) {
    return { source: 'agreed', malId: agreement.malId, needsReview: false, agreement };
  }
  if (automatic && automatic.malId !== null) return { source: 'automatic', malId: automatic.malId, needsReview: true };
  return { source: 'none', malId: null, needsReview: true };
}
