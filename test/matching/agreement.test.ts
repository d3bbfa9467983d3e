import { describe, expect, it } from 'vitest';
import { agreementOf, choiceKey, resolveMapping, type MappingVote } from '../../functions/matching/agreement';

const key = 'GR751KNZY:GY8VEQ95Y';
const identity = 'real-facts';
const vote = (malUserId: number, malId: number | null, confirmedAt = '2026-01-01T00:00:00Z', who = identity): MappingVote => ({
  malUserId,
  seasonKey: key,
  identity: who,
  malId,
  segments: malId === null ? [] : [{ malId, firstEpisode: 1, lastEpisode: null, episodeOffset: 0 }],
  confirmedAt,
});
const review = { malId: 100, needsReview: true, candidateIds: [100, 300, 400] };

describe('agreementOf', () => {
  it('needs three distinct MAL accounts with the same facts, all agreeing', () => {
    expect(agreementOf([vote(1, 300), vote(2, 300)], key, identity)).toBeUndefined();
    expect(agreementOf([vote(1, 300), vote(2, 300), vote(3, 300)], key, identity)).toMatchObject({ malId: 300, accounts: 3 });
    expect(agreementOf([vote(1, 300), vote(2, 300), vote(3, 300), vote(4, 400)], key, identity)).toBeUndefined();
  });

  it('counts one MAL account once however often it votes, by its latest vote', () => {
    const votes = [vote(1, 300, '2026-01-01T00:00:00Z'), vote(1, 300, '2026-01-02T00:00:00Z'), vote(1, 300, '2026-01-03T00:00:00Z'), vote(2, 300)];
    expect(agreementOf(votes, key, identity)).toBeUndefined();
    const changed = [vote(1, 400, '2026-01-01T00:00:00Z'), vote(1, 300, '2026-02-01T00:00:00Z'), vote(2, 300), vote(3, 300)];
    expect(agreementOf(changed, key, identity)).toMatchObject({ malId: 300, accounts: 3 });
  });

  it('ignores votes made under other facts for the season (forged titles)', () => {
    const votes = [vote(1, 999, undefined, 'forged'), vote(2, 999, undefined, 'forged'), vote(3, 999, undefined, 'forged'), vote(4, 300)];
    expect(agreementOf(votes, key, identity)).toBeUndefined();
    expect(agreementOf(votes, key, 'forged')).toMatchObject({ malId: 999 });
  });

  it('treats different splits of the same entry as different choices', () => {
    const split = { ...vote(3, 300), segments: [{ malId: 300, firstEpisode: 1, lastEpisode: 12, episodeOffset: 0 }, { malId: 301, firstEpisode: 13, lastEpisode: null, episodeOffset: 12 }] };
    expect(choiceKey(split.malId, split.segments)).not.toBe(choiceKey(300, vote(1, 300).segments));
    expect(agreementOf([vote(1, 300), vote(2, 300), split], key, identity)).toBeUndefined();
  });

  it('never agrees on "not on MAL" (it only blocks)', () => {
    expect(agreementOf([vote(1, null), vote(2, null), vote(3, null)], key, identity)).toBeUndefined();
  });
});

describe('resolveMapping', () => {
  const agreement = { malId: 300, segments: vote(1, 300).segments, accounts: 3 };

  it("uses the user's own confirmation over everything else", () => {
    expect(resolveMapping({ own: { malId: 200 }, global: { malId: 5 }, automatic: review, agreement })).toMatchObject({ malId: 200, source: 'user', needsReview: false });
    expect(resolveMapping({ own: { malId: null }, automatic: { ...review, needsReview: false } })).toMatchObject({ malId: null, source: 'user', needsReview: false });
  });

  it('lets an agreement decide only a season in review, and only among the candidates weighed', () => {
    expect(resolveMapping({ automatic: review, agreement })).toMatchObject({ malId: 300, source: 'agreed', needsReview: false });
    expect(resolveMapping({ automatic: { malId: 100, needsReview: false, candidateIds: [100, 300] }, agreement })).toMatchObject({ malId: 100, source: 'automatic' });
    expect(resolveMapping({ automatic: { ...review, candidateIds: [100] }, agreement })).toMatchObject({ malId: 100, source: 'automatic', needsReview: true });
  });

  it('leaves a season without anything to review', () => {
    expect(resolveMapping({ automatic: null })).toEqual({ malId: null, source: 'none', needsReview: true });
    expect(resolveMapping({ automatic: { malId: null, needsReview: true, candidateIds: [] }, agreement })).toEqual({ malId: null, source: 'none', needsReview: true });
  });
});
