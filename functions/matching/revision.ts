/**
 * What the matcher decides with: its code revision and its fitted models. Automatic matches are cached
 * under a fingerprint that includes this, so a matcher that decides differently (a fix, a refit) never
 * serves what an older one decided, instead of keeping it for up to 90 days.
 */
import { AUTO_ACCEPT_THRESHOLD, CHOICE_WEIGHTS, CONFIDENCE_WEIGHTS } from './model-weights';

/** Bump with any change to the matcher's code that alters a decision, a confidence or a segment. */
export const MATCHER_REVISION = 2;

export interface MatcherParts {
  revision: number;
  choiceWeights: readonly number[];
  confidenceWeights: readonly number[];
  autoAcceptThreshold: number;
}

/** One string for a matcher: equal for equal parts, different when any part differs. */
export function matcherIdentity(parts: MatcherParts): string {
  return JSON.stringify([parts.revision, parts.choiceWeights, parts.confidenceWeights, parts.autoAcceptThreshold]);
}

export const CURRENT_MATCHER = matcherIdentity({ revision: MATCHER_REVISION, choiceWeights: CHOICE_WEIGHTS, confidenceWeights: CONFIDENCE_WEIGHTS, autoAcceptThreshold: AUTO_ACCEPT_THRESHOLD });
