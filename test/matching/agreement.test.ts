import { describe, expect, it } from 'vitest';
import { globalAgreement, resolveMapping, type MappingConfirmation } from '../../functions/matching/agreement';

const key = 'GR751KNZY:GY8VEQ95Y';
const confirm = (userId: string, malId: number | null, confirmedAt = '2026-01-01T00:00:00Z'): MappingConfirmation => ({
  userId,
  seasonKey: key,
  malId,
  confirmedAt,
});
const automatic = { malId: 100, needsReview: true };

describe('resolveMapping', () => {
  it("uses the user's own confirmation over everything else", () => {
    const confirmations = [confirm('a', 200), confirm('b', 300), confirm('c', 300), confirm('d', 300)];
    expect(resolveMapping({ userId: 'a', seasonKey: key, automatic, confirmations })).toMatchObject({ malId: 200, source: 'user', needsReview: false });
  });

  it("uses a user's latest confirmation when they changed their mind", () => {
    const confirmations = [confirm('a', 200, '2026-01-01T00:00:00Z'), confirm('a', 201, '2026-02-01T00:00:00Z')];
    expect(resolveMapping({ userId: 'a', seasonKey: key, automatic, confirmations }).malId).toBe(201);
  });

  it('promotes an id to global once N distinct users agree and nobody disagrees', () => {
    const two = [confirm('a', 300), confirm('b', 300), confirm('b', 300, '2026-03-01T00:00:00Z')];
    expect(resolveMapping({ userId: 'z', seasonKey: key, automatic, confirmations: two })).toMatchObject({ malId: 100, source: 'automatic', needsReview: true });
    const three = [...two, confirm('c', 300)];
    expect(resolveMapping({ userId: 'z', seasonKey: key, automatic, confirmations: three })).toMatchObject({
      malId: 300,
      source: 'global',
      needsReview: false,
      agreeingUsers: 3,
    });
  });

  it('does not promote while confirmations conflict', () => {
    const confirmations = [confirm('a', 300), confirm('b', 300), confirm('c', 300), confirm('d', 301)];
    expect(globalAgreement(confirmations, key)).toBeUndefined();
    expect(resolveMapping({ userId: 'z', seasonKey: key, automatic, confirmations }).source).toBe('automatic');
  });

  it('lets a user resolve a conflict by changing their vote', () => {
    const confirmations = [confirm('a', 300), confirm('b', 300), confirm('c', 300), confirm('d', 301), confirm('d', 300, '2026-05-01T00:00:00Z')];
    expect(globalAgreement(confirmations, key)).toEqual({ malId: 300, users: 4 });
  });

  it('ignores confirmations of other seasons and honours a custom threshold', () => {
    const confirmations = [confirm('a', 300), { ...confirm('b', 999), seasonKey: 'other' }];
    expect(globalAgreement(confirmations, key, 1)).toEqual({ malId: 300, users: 1 });
  });

  it('needs review with no id when there is neither a confirmation nor an automatic match', () => {
    expect(resolveMapping({ userId: 'z', seasonKey: key, automatic: null, confirmations: [] })).toEqual({
      malId: null,
      source: 'none',
      needsReview: true,
      agreeingUsers: 0,
    });
  });
});
