/** The canonical match request of a season, its fingerprints, and the expiry of automatic entries. */
import { describe, expect, it } from 'vitest';
import { identityFingerprint, matchRequestForFacts, requestFingerprint, segmentsInSeasonNumbers, type SeasonFacts } from '../../functions/matching/from-history';
import { AUTO_ACCEPT_THRESHOLD, CHOICE_WEIGHTS, CONFIDENCE_WEIGHTS } from '../../functions/matching/model-weights';
import { CURRENT_MATCHER, MATCHER_REVISION, matcherIdentity } from '../../functions/matching/revision';
import { InMemoryMappingCache, automaticExpiry, isLive, type AutomaticEntry } from '../../functions/matching/cache';

const facts = (over: Partial<SeasonFacts> = {}): SeasonFacts => ({
  seasonKey: 'GJJK:GJJK2',
  seriesTitle: 'JUJUTSU KAISEN',
  seasonTitle: 'JUJUTSU KAISEN Season 2',
  seasonNumber: 2,
  isMovie: false,
  numberingOffset: 24,
  episodes: [1, 2, 3].map((number) => ({ number, durationMs: 1_440_000 + number * 1000 })),
  ...over,
});

describe('the canonical match request', () => {
  it('summarises the season the same way whoever sends it', () => {
    const request = matchRequestForFacts(facts());
    expect(request).toMatchObject({ seriesTitle: 'JUJUTSU KAISEN', seasonNumber: 2, episodeCount: 3, episodeNumbers: [25, 27], durationMs: 1_440_000, mediaType: null });
    // Spacing and Unicode forms of the titles, episode order and a few seconds of duration do not matter.
    const spaced = facts({ seriesTitle: ' JUJUTSU\u00a0 KAISEN ', episodes: [3, 1, 2].map((number) => ({ number, durationMs: 1_441_000 })) });
    expect(requestFingerprint(matchRequestForFacts(spaced))).toBe(requestFingerprint(request));
  });

  it("passes CR's air dates of the episodes watched, first and last, to the matcher", () => {
    const dated = facts({ episodes: [3, 1, 2].map((number) => ({ number, durationMs: 1_440_000, airDate: `2023-07-${String(5 + 7 * (number - 1)).padStart(2, '0')}` })) });
    expect(matchRequestForFacts(dated).airDates).toEqual(['2023-07-05', '2023-07-19']);
    expect(matchRequestForFacts(facts()).airDates).toBeNull();
  });

  it('fingerprints every fact the matcher reads', () => {
    const base = requestFingerprint(matchRequestForFacts(facts()));
    for (const changed of [
      facts({ seriesTitle: 'One Punch Man' }),
      facts({ seasonTitle: 'JUJUTSU KAISEN Season 3' }),
      facts({ seasonNumber: 1 }),
      facts({ isMovie: true }),
      facts({ numberingOffset: 0 }),
      facts({ episodes: [1, 2, 3, 4].map((number) => ({ number, durationMs: 1_440_000 })) }),
      facts({ episodes: [1, 2, 3].map((number) => ({ number, durationMs: 6_000_000 })) }),
      facts({ episodes: [1, 2, 3].map((number) => ({ number, durationMs: 1_440_000, airDate: `2023-07-${String(5 + number).padStart(2, '0')}` })) }),
    ]) {
      expect(requestFingerprint(matchRequestForFacts(changed))).not.toBe(base);
    }
  });

  it('changes with the matcher that decides: its revision, its weights or its threshold', () => {
    const request = matchRequestForFacts(facts());
    const parts = { revision: MATCHER_REVISION, choiceWeights: CHOICE_WEIGHTS, confidenceWeights: CONFIDENCE_WEIGHTS, autoAcceptThreshold: AUTO_ACCEPT_THRESHOLD };
    expect(matcherIdentity(parts)).toBe(CURRENT_MATCHER);
    expect(requestFingerprint(request, matcherIdentity(parts))).toBe(requestFingerprint(request));
    for (const changed of [
      { ...parts, revision: MATCHER_REVISION + 1 },
      { ...parts, choiceWeights: [...CHOICE_WEIGHTS.slice(0, -1), CHOICE_WEIGHTS[CHOICE_WEIGHTS.length - 1] + 0.001] },
      { ...parts, confidenceWeights: [0, ...CONFIDENCE_WEIGHTS.slice(1)] },
      { ...parts, autoAcceptThreshold: AUTO_ACCEPT_THRESHOLD + 0.01 },
    ]) {
      expect(requestFingerprint(request, matcherIdentity(changed))).not.toBe(requestFingerprint(request));
    }
  });

  it('groups votes by what the history says the season is, not by how far the user watched', () => {
    const identity = identityFingerprint(facts());
    expect(identityFingerprint(facts({ episodes: [{ number: 1, durationMs: null }] }))).toBe(identity);
    expect(identityFingerprint(facts({ seriesTitle: 'One Punch Man' }))).not.toBe(identity);
    expect(identityFingerprint(facts({ numberingOffset: 0 }))).not.toBe(identity);
  });

  it("turns the matcher's CR-numbered segments into the season's own numbers", () => {
    // CR numbers 25…: MAL episode = CR − 24 (the second season's own entry) = own number − 0.
    expect(segmentsInSeasonNumbers([{ malId: 51009, firstEpisode: 25, lastEpisode: null, episodeOffset: 24 }], 24)).toEqual([{ malId: 51009, firstEpisode: 1, lastEpisode: null, episodeOffset: 0 }]);
    // One MAL entry for the whole show: MAL episode = CR number = own number + 24.
    expect(segmentsInSeasonNumbers([{ malId: 1, firstEpisode: 25, lastEpisode: 47, episodeOffset: 0 }], 24)).toEqual([{ malId: 1, firstEpisode: 1, lastEpisode: 23, episodeOffset: -24 }]);
  });
});

describe('automatic entries', () => {
  const entry = (over: Partial<AutomaticEntry>): AutomaticEntry => ({
    seasonKey: 'GZZQ:GZZQ1',
    fingerprint: 'f1',
    malId: null,
    episodeOffset: 0,
    segments: [],
    confidence: 0,
    needsReview: true,
    title: null,
    explanation: 'no search results',
    candidateIds: [],
    computedAt: '2026-01-01T00:00:00Z',
    expiresAt: automaticExpiry({ malId: null, needsReview: true }, Date.parse('2026-01-01T00:00:00Z')),
    ...over,
  });

  it('remember "no match" for a week and an accepted match for 90 days', () => {
    const at = Date.parse('2026-01-01T00:00:00Z');
    expect(automaticExpiry({ malId: null, needsReview: true }, at)).toBe('2026-01-08T00:00:00.000Z');
    expect(automaticExpiry({ malId: 5, needsReview: true }, at)).toBe('2026-01-08T00:00:00.000Z');
    expect(automaticExpiry({ malId: 5, needsReview: false }, at)).toBe('2026-04-01T00:00:00.000Z');
    expect(isLive(entry({}), Date.parse('2026-01-07T23:00:00Z'))).toBe(true);
    expect(isLive(entry({}), Date.parse('2026-01-08T01:00:00Z'))).toBe(false);
  });

  it('are found only under the fingerprint they were computed from', async () => {
    const cache = new InMemoryMappingCache();
    await cache.putAutomatic(entry({ expiresAt: '2999-01-01T00:00:00Z' }));
    expect(await cache.getAutomatic('GZZQ:GZZQ1', 'f1')).toMatchObject({ malId: null });
    expect(await cache.getAutomatic('GZZQ:GZZQ1', 'f2')).toBeUndefined();
    await expect(cache.put({ seasonKey: 'GZZQ:GZZQ1', malId: 5, episodeOffset: 0, confidence: 0.99, source: 'automatic', updatedAt: '2026-01-01T00:00:00Z' })).rejects.toThrow(/fingerprint/);
    expect(await cache.get('GZZQ:GZZQ1')).toBeUndefined();
  });
});
