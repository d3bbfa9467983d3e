/**
 * Sync settings: defaults and limits, shared by the settings resolvers and the sync worker so both
 * agree on what an unset field means.
 */
export interface SyncSettings {
  watchedThreshold: number;
  autoAcceptMatches: boolean;
  autoAcceptThreshold: number;
  updateDroppedAndOnHold: boolean;
  markCompleted: boolean;
  setDates: boolean;
  trackRewatches: boolean;
  updatedAt: string | null;
}

export const DEFAULT_SETTINGS: SyncSettings = {
  watchedThreshold: 0.85,
  autoAcceptMatches: true,
  // The matcher's fitted operating point (AUTO_ACCEPT_THRESHOLD); test/matching keeps the two equal.
  autoAcceptThreshold: 0.907,
  updateDroppedAndOnHold: false,
  markCompleted: true,
  setDates: true,
  trackRewatches: true,
  updatedAt: null,
};

export const SETTINGS_FIELDS = [
  'watchedThreshold',
  'autoAcceptMatches',
  'autoAcceptThreshold',
  'updateDroppedAndOnHold',
  'markCompleted',
  'setDates',
  'trackRewatches',
] as const;

/** Inclusive ranges of the numeric settings. */
export const SETTINGS_RANGES: Record<string, [number, number]> = {
  watchedThreshold: [0.5, 1],
  autoAcceptThreshold: [0.5, 1],
};

export { SETTINGS_SK } from './keys';

/** Stored settings over the defaults (the item may be missing or partial). */
export function withDefaults(stored: Partial<SyncSettings> | null | undefined): SyncSettings {
  const out = { ...DEFAULT_SETTINGS };
  if (stored) {
    for (const field of SETTINGS_FIELDS) {
      const value = stored[field];
      if (value !== undefined && value !== null) (out as Record<string, unknown>)[field] = value;
    }
    if (stored.updatedAt) out.updatedAt = stored.updatedAt;
  }
  return out;
}
