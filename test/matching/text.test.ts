/**
 * Title text helpers, one case per season/part marker and version tag they read. The helpers skip their
 * patterns for titles that cannot contain what the patterns look for; these cases pin every pattern, so a
 * pattern added without widening that shortcut fails here.
 */
import { describe, expect, it } from 'vitest';
import { baseTitle, normaliseTitle, seasonMarkers, statedSeasonNumber, stripVersionTags } from '../../functions/matching/text';

describe('seasonMarkers: every marker form', () => {
  it.each([
    ['Attack on Titan Season 3', 'season', 3],
    ['Attack on Titan Season III', 'season', 3],
    ['Overlord 4th Season', 'season', 4],
    ['Gintama Second Season', 'season', 2],
    ['Mob Psycho 100 S2', 'season', 2],
    ['進撃の巨人 第3期', 'season', 3],
    ['進撃の巨人 第二シーズン', 'season', 2],
    ['ゆるキャン△ 2期', 'season', 2],
    ['Vinland Saga Part 2', 'part', 2],
    ['Re:Zero Cour II', 'part', 2],
    ['Spy x Family 2nd Cour', 'part', 2],
    ['Kingdom First Part', 'part', 1],
    ['Tokyo Ghoul III', 'roman', 3],
    ['Haikyu 2', 'trailing-number', 2],
  ] as const)('%s → %s %i', (title, kind, number) => {
    expect(seasonMarkers(title)).toContainEqual({ kind, number });
  });

  it('finds none in a title without one, and reads markers through a version tag', () => {
    expect(seasonMarkers('Frieren: Beyond Journey’s End')).toEqual([]);
    expect(seasonMarkers('Cowboy Bebop')).toEqual([]);
    expect(statedSeasonNumber('Dr. Stone Season 2 (English Dub)')).toBe(2);
    expect(statedSeasonNumber('Haikyu 2', true)).toBe(2);
    expect(statedSeasonNumber('Haikyu 2')).toBeUndefined();
  });
});

describe('baseTitle: every marker it strips', () => {
  it.each([
    ['Attack on Titan Season 3 Part 2 (English Dub)', 'attack on titan'],
    ['Overlord 4th Season', 'overlord'],
    ['Gintama Second Season', 'gintama'],
    ['Spy x Family 2nd Cour', 'spy x family'],
    ['Vinland Saga Cour 2', 'vinland saga'],
    ['進撃の巨人 第3期', '進撃の巨人'],
    ['Mob Psycho 100 S2', 'mob psycho 100'],
    ['Tokyo Ghoul III', 'tokyo ghoul'],
    ['Attack on Titan The Final Season', 'attack on titan'],
    ['Attack on Titan Final Season', 'attack on titan'],
    ['Cowboy Bebop', 'cowboy bebop'],
  ])('%s → %s', (title, base) => {
    expect(baseTitle(title)).toBe(base);
  });
});

describe('stripVersionTags and normaliseTitle', () => {
  it('removes bracketed and trailing audio tags and tidies the spaces left', () => {
    expect(stripVersionTags('Dr. Stone (English Dub)')).toBe('Dr. Stone');
    expect(stripVersionTags('Dr. Stone [German]')).toBe('Dr. Stone');
    expect(stripVersionTags('Dr. Stone - Dub')).toBe('Dr. Stone');
    expect(stripVersionTags('Dr.  Stone\tNew   World')).toBe('Dr. Stone New World');
    expect(stripVersionTags('Dr. Stone (2019)')).toBe('Dr. Stone (2019)');
  });

  it('lower-cases, drops apostrophes and turns punctuation into single spaces', () => {
    expect(normaliseTitle('frieren beyond journeys end')).toBe('frieren beyond journeys end');
    expect(normaliseTitle("JoJo's Bizarre Adventure: Stone Ocean")).toBe('jojos bizarre adventure stone ocean');
    expect(normaliseTitle('  Steins;Gate  ')).toBe('steins gate');
    expect(normaliseTitle('Pokémon')).toBe('pokemon');
  });
});
