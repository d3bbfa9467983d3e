/**
 * Which MAL id a CR season maps to, given the automatic match and what users confirmed.
 *
 * Rule: a user's own latest confirmation always wins for that user. Across users, each user's latest
 * confirmation is one vote; once `globalThreshold` distinct users confirm the same MAL id and no user's
 * latest confirmation names a different one, that id becomes the global mapping for everybody else.
 * Otherwise the automatic match applies (and keeps its own review flag).
 */

export interface MappingConfirmation {
  userId: string;
  seasonKey: string;
  /** null: the user said "this is not on MAL" / no mapping. */
  malId: number | null;
  /** ISO timestamp; the latest confirmation of a user replaces their earlier ones. */
  confirmedAt: string;
}

export interface AutomaticMapping {
  malId: number | null;
  needsReview: boolean;
}

export type ResolvedMappingSource = 'user' | 'global' | 'automatic' | 'none';

export interface ResolvedMapping {
  malId: number | null;
  source: ResolvedMappingSource;
  needsReview: boolean;
  /** Distinct users whose latest confirmation agrees with `malId` (global/user sources). */
  agreeingUsers: number;
}

export const DEFAULT_GLOBAL_THRESHOLD = 3;

/** Each user's latest confirmation for one season key. */
export function latestConfirmationPerUser(confirmations: readonly MappingConfirmation[], seasonKey: string): Map<string, MappingConfirmation> {
  const latest = new Map<string, MappingConfirmation>();
  for (const confirmation of confirmations) {
    if (confirmation.seasonKey !== seasonKey) continue;
    const previous = latest.get(confirmation.userId);
    if (!previous || confirmation.confirmedAt > previous.confirmedAt) latest.set(confirmation.userId, confirmation);
  }
  return latest;
}

/** The globally agreed MAL id for a season, or undefined while there is no agreement. */
export function globalAgreement(
  confirmations: readonly MappingConfirmation[],
  seasonKey: string,
  globalThreshold = DEFAULT_GLOBAL_THRESHOLD,
): { malId: number | null; users: number } | undefined {
  const votes = new Map<number | null, number>();
  for (const confirmation of latestConfirmationPerUser(confirmations, seasonKey).values()) {
    votes.set(confirmation.malId, (votes.get(confirmation.malId) ?? 0) + 1);
  }
  if (votes.size !== 1) return undefined; // nobody, or conflicting confirmations
  const [[malId, users]] = [...votes.entries()];
  return users >= globalThreshold ? { malId, users } : undefined;
}

/** Resolves the mapping one user sees for one season. Pure: no I/O, no clock. */
export function resolveMapping(input: {
  userId: string;
  seasonKey: string;
  automatic: AutomaticMapping | null;
  confirmations: readonly MappingConfirmation[];
  globalThreshold?: number;
}): ResolvedMapping {
  const latest = latestConfirmationPerUser(input.confirmations, input.seasonKey);
  const own = latest.get(input.userId);
  if (own) {
    const agreeing = [...latest.values()].filter((c) => c.malId === own.malId).length;
    return { malId: own.malId, source: 'user', needsReview: false, agreeingUsers: agreeing };
  }
  const global = globalAgreement(input.confirmations, input.seasonKey, input.globalThreshold);
  if (global) return { malId: global.malId, source: 'global', needsReview: false, agreeingUsers: global.users };
  if (input.automatic && input.automatic.malId !== null) {
    return { malId: input.automatic.malId, source: 'automatic', needsReview: input.automatic.needsReview, agreeingUsers: 0 };
  }
  return { malId: null, source: 'none', needsReview: true, agreeingUsers: 0 };
}
