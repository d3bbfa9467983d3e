import { describe, expect, it } from 'vitest';
import { identifierSeason } from '../../functions/matching/matcher';
import { MatchCaseError, matchCaseToRequest, parseMatchCase } from '../../functions/matching/match-cases';
import { buildQueries, combinedTitle } from '../../functions/matching/queries';

describe('match cases carry every fact of a CR season', () => {
  it('passes identifier, CR episode numbers, air dates and duration through to the request', () => {
    const line = JSON.stringify({
      id: 'GX/1',
      seriesTitle: 'Blade Fang',
      seasonTitle: 'Iron Fortress Arc',
      identifier: 'GX|S3|E2',
      episodeNumbers: [13, 14],
      airDates: ['2022-01-09', '2022-01-16'],
      durationMs: 1_440_000,
    });
    const request = matchCaseToRequest(parseMatchCase(line, 1));
    expect(request).toMatchObject({
      seasonKey: 'GX/1',
      seasonNumber: null,
      identifier: 'GX|S3|E2',
      episodeNumbers: [13, 14],
      airDates: ['2022-01-09', '2022-01-16'],
      durationMs: 1_440_000,
    });
  });

  it('names the field of a malformed fact', () => {
    expect(() => parseMatchCase('{"id":"a","seriesTitle":"X","episodeNumbers":["13"]}', 4)).toThrow(MatchCaseError);
    expect(() => parseMatchCase('{"id":"a","seriesTitle":"X","episodeNumbers":["13"]}', 4)).toThrow('line 4: episodeNumbers');
    expect(() => parseMatchCase('{"id":"a","seriesTitle":"X","airDates":[20220109]}', 5)).toThrow('line 5: airDates');
    expect(() => parseMatchCase('{"id":"a","seriesTitle":"X","identifier":3}', 6)).toThrow('line 6: identifier');
  });

  it("reads the season from CR's identifier", () => {
    expect(identifierSeason('GDKHZEJ0K|S2|E17')).toBe(2);
    expect(identifierSeason('GDKHZEJ0K|S12')).toBe(12);
    expect(identifierSeason('GDKHZEJ0K|E17')).toBeUndefined();
    expect(identifierSeason(null)).toBeUndefined();
  });
});

describe('season title under its series title', () => {
  it('joins a subtitle-only season title to the series title, and searches that first', () => {
    expect(combinedTitle('Demon Slayer: Kimetsu no Yaiba', 'Entertainment District Arc')).toBe('Demon Slayer: Kimetsu no Yaiba Entertainment District Arc');
    expect(combinedTitle('Attack on Titan', 'Attack on Titan Season 3 Part 2 (English Dub)')).toBeUndefined();
    expect(combinedTitle('Attack on Titan', 'Season 2 (English Dub)')).toBe('Attack on Titan Season 2');
    expect(buildQueries({ seriesTitle: 'Demon Slayer: Kimetsu no Yaiba', seasonTitle: 'Mugen Train Arc' })[0]).toBe('Demon Slayer: Kimetsu no Yaiba Mugen Train Arc');
  });
});
