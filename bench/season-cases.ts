/**
 * Builds season-level match cases from the offline catalog, the way Crunchyroll describes seasons:
 * the catalog's TVDB placement (show, season, episode offset) gives every TV/ONA entry of a show its
 * season and cour, and each entry becomes one CR-style case — series title from the show's first
 * entry, a season title in one of CR's habits ("<series> Season 2", the entry's own English title,
 * only its subtitle as an arc name, "Season 2 (Part 2)", a dub tag, the romanised title), CR's season
 * number counted by TVDB season or by entry (CR often counts each cour as a season) or missing with
 * only the identifier left, episode numbers restarting at 1 or running on, all of them or the first few
 * (with `midSeason`, some from part-way on), the air date (later for a
 * dub; with `catalogUploads`, for some older shows the day CR added them to its catalog) and the
 * episode duration. Movies placed in a show become movie cases (long duration).
 *
 * Every choice is drawn from a hash of the entry id: the same catalog always gives the same cases, and
 * no title is treated specially. Shows are split by a hash of the TVDB id into `fit` (≈ 70%, used to
 * fit the models) and `holdout` (never fitted on: calibration and reliability are read there).
 *
 *   npx tsx bench/season-cases.ts [--catalog FILE] [--split fit|holdout|all] [--out FILE]
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCatalog, type CatalogEntry } from '../functions/matching/catalog-source';
import { normaliseTitle } from '../functions/matching/text';

export type Split = 'fit' | 'holdout';

export interface BuiltCase {
  id: string;
  seriesTitle: string;
  seasonTitle: string;
  seasonNumber: number | null;
  identifier?: string;
  episodeNumbers?: number[];
  episodes?: number;
  airDates?: string[];
  durationMs?: number;
  type?: string;
  expectedMalIds: number[];
  expectedFirstTv: number | null;
  split: Split;
  /** How the season title was written (for reading the errors by habit). */
  habit: string;
  /** The labelled entry's episode that the first of `episodeNumbers` is, when not 1 (watched from mid-season). */
  firstWatched?: number;
}

/** FNV-1a of a string → 0..1. */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 2 ** 32;
}

const MAIN_LINE = new Set(['tv', 'ona']);
const DUB_TAGS = ['(English Dub)', '(German Dub)', '(Spanish Dub)', '(Portuguese Dub)', '(French Dub)'];

function english(entry: CatalogEntry): string | undefined {
  const t = entry.title_english?.trim();
  return t && t.length > 0 ? t : undefined;
}

/** A day from three years after `start` (not before 2009, when CR began streaming) to the end of 2022. */
function uploadDay(start: string, share: number): string {
  const from = Math.max(Date.parse(addDays(start, 3 * 365)), Date.parse('2009-01-01'));
  const to = Math.max(from, Date.parse('2022-12-31'));
  return new Date(from + Math.floor(share * ((to - from) / 86_400_000)) * 86_400_000).toISOString().slice(0, 10);
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return date;
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The part of `title` after the series title, when it starts with it ("X: Arc Name" → "Arc Name"). */
function subtitleAfter(title: string, series: string): string | undefined {
  const nt = normaliseTitle(title);
  const ns = normaliseTitle(series);
  if (!nt.startsWith(`${ns} `)) return undefined;
  // Cut the raw title after as many words as the series title has.
  const words = ns.split(' ').length;
  const raw = title.split(/\s+/);
  let seen = 0;
  let index = 0;
  while (index < raw.length && seen < words) {
    if (normaliseTitle(raw[index]).length > 0) seen += normaliseTitle(raw[index]).split(' ').length;
    index++;
  }
  const rest = raw.slice(index).join(' ').replace(/^[\s:\-–—]+/, '').replace(/[\s\-–—]+$/, '').trim();
  return rest.length >= 3 ? rest : undefined;
}

function isDated(entry: CatalogEntry): boolean {
  return typeof entry.start_date === 'string' && /^\d{4}-\d{2}-\d{2}/.test(entry.start_date) && entry.status?.toLowerCase() !== 'not yet aired';
}

export interface BuildOptions {
  /**
   * Date about 30% of the seasons of shows that began by 2012 with the day CR added them to its
   * catalog, every episode alike (years after the broadcast), instead of their broadcast dates: a
   * stress test of how much the matcher leans on air dates. Off for the fitted and reported sets.
   */
  catalogUploads?: boolean;
  /**
   * Start about 15% of the seasons of six or more episodes part-way (from episode 2 to the middle), as
   * a history does that begins after the user's first episodes: a stress test of the episode-number
   * signals. Off for the fitted and reported sets.
   */
  midSeason?: boolean;
}

export function buildSeasonCases(entries: CatalogEntry[], options: BuildOptions = {}): BuiltCase[] {
  const byShow = new Map<number, CatalogEntry[]>();
  for (const e of entries) {
    if (!e.tvdb) continue;
    const list = byShow.get(e.tvdb.id) ?? [];
    list.push(e);
    byShow.set(e.tvdb.id, list);
  }
  const cases: BuiltCase[] = [];
  const showIds = [...byShow.keys()].sort((a, b) => a - b);
  for (const showId of showIds) {
    const members = byShow.get(showId)!;
    const mainLine = members
      .filter((e) => (e.tvdb?.season ?? 0) >= 1 && MAIN_LINE.has(e.type ?? '') && isDated(e))
      .sort((a, b) => a.tvdb!.season - b.tvdb!.season || a.tvdb!.epoffset - b.tvdb!.epoffset || a.start_date!.localeCompare(b.start_date!));
    // A show whose first placed entry is not its first season has gaps in the mapping: no labels from it.
    if (mainLine.length === 0 || mainLine[0].tvdb!.season !== 1 || mainLine[0].tvdb!.epoffset !== 0) continue;
    const split: Split = unitHash(`split:${showId}`) < 0.7 ? 'fit' : 'holdout';
    // Single-season shows: a sample of them keeps the base rate of easy cases honest.
    if (mainLine.length === 1 && unitHash(`single:${showId}`) > 0.25) continue;
    const first = mainLine[0];
    const series = english(first) ?? first.title;
    const crSeriesId = `G${showId.toString(36).toUpperCase()}`;
    let absolute = 0;
    let absoluteKnown = true;
    mainLine.forEach((entry, index) => {
      const h = (salt: string) => unitHash(`${salt}:${entry.mal_id}`);
      const tvdbSeason = entry.tvdb!.season;
      const partsBefore = mainLine.filter((e) => e.tvdb!.season === tvdbSeason && e.tvdb!.epoffset < entry.tvdb!.epoffset).length;
      const part = partsBefore + 1;
      const own = english(entry);
      // Season title habits, drawn per entry among those that apply.
      const habits: Array<[string, string]> = [];
      if (index === 0) habits.push(['series', series]);
      else {
        habits.push(['season-n', part > 1 ? `${series} Season ${tvdbSeason} (Part ${part})` : `${series} Season ${tvdbSeason}`]);
        if (part > 1) habits.push(['cour-n', `${series} Season ${tvdbSeason} Cour ${part}`]);
      }
      if (own && normaliseTitle(own) !== normaliseTitle(series)) {
        habits.push(['own-title', own]);
        const sub = subtitleAfter(own, series);
        if (sub) habits.push(['arc-name', sub], ['arc-name', sub]);
      }
      if (index > 0 && normaliseTitle(entry.title) !== normaliseTitle(series) && h('romaji') < 0.3) habits.push(['romaji', entry.title]);
      // CR sometimes titles every season with the bare series title: only the number, the episode
      // numbers and the dates tell them apart.
      if (index > 0 && h('bare') < 0.2) habits.splice(0, habits.length, ['series-again', series]);
      const [habit, baseSeasonTitle] = habits[Math.floor(h('habit') * habits.length)];
      const dubbed = h('dub') < 0.15;
      const seasonTitle = dubbed ? `${baseSeasonTitle} ${DUB_TAGS[Math.floor(h('dubtag') * DUB_TAGS.length)]}` : baseSeasonTitle;
      // CR's season number: by TVDB season, by entry (each cour a season), or missing.
      const numbering = h('number');
      const seasonNumber = numbering < 0.5 ? tvdbSeason : numbering < 0.85 ? index + 1 : null;
      const episodesKnown = typeof entry.episodes === 'number' && entry.episodes > 0;
      const count = episodesKnown ? entry.episodes! : 0;
      // Episode numbers: restarting at 1, running on within the TVDB season, or running on across the show.
      let offset = 0;
      const style = h('numbers');
      if (style < 0.2) offset = entry.tvdb!.epoffset;
      else if (style < 0.35 && absoluteKnown) offset = absolute;
      // Watched part of the season: often all of it, sometimes the first few episodes; with `midSeason`,
      // sometimes from part-way on (a history that begins late, the earlier episodes seen elsewhere).
      const firstWatched = options.midSeason && count >= 6 && h('mid') < 0.15 ? 2 + Math.floor(h('mid-start') * (count / 2)) : 1;
      const wanted = count === 0 ? 0 : h('watched') < 0.7 ? count : Math.max(1, Math.ceil(count * h('watched-share')));
      const watched = Math.min(wanted, count - firstWatched + 1);
      const episodeNumbers = Array.from({ length: Math.max(0, watched) }, (_, k) => offset + firstWatched + k);
      const airShift = dubbed ? 30 + Math.floor(h('dub-delay') * 200) : Math.floor(h('delay') * 3);
      // An older show CR added to its catalog years later: every episode carries the day it was added.
      const uploaded = options.catalogUploads && Number(entry.start_date!.slice(0, 4)) <= 2012 && h('upload') < 0.3 ? uploadDay(entry.start_date!, h('upload-day')) : undefined;
      const weekly = (k: number) => uploaded ?? addDays(entry.start_date!, airShift + 7 * (firstWatched - 1 + k));
      const built: BuiltCase = {
        id: `${crSeriesId}/${entry.mal_id}`,
        seriesTitle: series,
        seasonTitle,
        seasonNumber,
        expectedMalIds: [entry.mal_id],
        expectedFirstTv: entry.mal_id,
        split,
        habit: `${habit}${dubbed ? '+dub' : ''}${uploaded ? '+catalog' : ''}${firstWatched > 1 ? '+mid' : ''}`,
      };
      if (firstWatched > 1) built.firstWatched = firstWatched;
      if (seasonNumber === null) built.identifier = `${crSeriesId}|S${index + 1}|E${episodeNumbers[0] ?? 1}`;
      if (episodeNumbers.length > 0) {
        built.episodeNumbers = episodeNumbers;
        built.airDates = episodeNumbers.map((_, k) => weekly(k));
      } else built.airDates = [weekly(0)];
      if (h('duration') < 0.6) built.durationMs = (entry.type === 'ona' && h('short') < 0.2 ? 12 : 23) * 60_000 + Math.floor(h('sec') * 120_000);
      cases.push(built);
      if (episodesKnown) absolute += count;
      else absoluteKnown = false;
    });
    // Specials, OVAs and recaps placed in the show (TVDB season 0): CR often lists them as a season of
    // their own, numbered in sequence with the TV seasons around them.
    for (const extra of members.filter((e) => (e.tvdb?.season ?? 1) === 0 && ['special', 'ova', 'tv_special', 'ona'].includes(e.type ?? '') && isDated(e))) {
      const h = (salt: string) => unitHash(`${salt}:${extra.mal_id}`);
      const own = english(extra);
      if (!own || h('extra') > 0.5 || normaliseTitle(own) === normaliseTitle(series)) continue;
      const before = mainLine.filter((e) => e.start_date! <= extra.start_date!).length;
      const count = typeof extra.episodes === 'number' && extra.episodes > 0 ? extra.episodes : 1;
      cases.push({
        id: `${crSeriesId}/${extra.mal_id}`,
        seriesTitle: series,
        seasonTitle: own,
        seasonNumber: h('extra-number') < 0.6 ? before + 1 : null,
        episodeNumbers: Array.from({ length: count }, (_, k) => k + 1),
        airDates: [extra.start_date!.slice(0, 10)],
        // A TV special runs like a film; the others like episodes.
        durationMs: (extra.type === 'tv_special' ? 90 : 24) * 60_000,
        expectedMalIds: [extra.mal_id],
        expectedFirstTv: null,
        split,
        habit: 'extra-as-season',
      });
    }
    // Movies placed in the show (TVDB season 0): CR lists them as their own season with one long episode.
    for (const movie of members.filter((e) => (e.tvdb?.season ?? 1) === 0 && e.type === 'movie' && isDated(e))) {
      const h = (salt: string) => unitHash(`${salt}:${movie.mal_id}`);
      if (h('movie') > 0.5) continue;
      const own = english(movie) ?? movie.title;
      const sub = subtitleAfter(own, series);
      const seasonTitle = sub && h('movie-title') < 0.5 ? sub : own;
      cases.push({
        id: `${crSeriesId}/${movie.mal_id}`,
        seriesTitle: series,
        seasonTitle,
        seasonNumber: null,
        episodeNumbers: [1],
        airDates: [movie.start_date!.slice(0, 10)],
        durationMs: (85 + Math.floor(h('len') * 50)) * 60_000,
        expectedMalIds: [movie.mal_id],
        expectedFirstTv: null,
        split,
        habit: sub && seasonTitle === sub ? 'movie-subtitle' : 'movie-title',
      });
    }
  }
  return cases;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const { values: args } = parseArgs({
    options: {
      catalog: { type: 'string', default: resolve(repoRoot, '../shared/data/mal-catalog.jsonl.gz') },
      split: { type: 'string', default: 'all' },
      out: { type: 'string' },
    },
  });
  const cases = buildSeasonCases(await loadCatalog(args.catalog)).filter((c) => args.split === 'all' || c.split === args.split);
  const text = cases.map((c) => JSON.stringify(c)).join('\n') + '\n';
  if (args.out) writeFileSync(args.out, text);
  else process.stdout.write(text);
  process.stderr.write(`season cases: ${cases.length} (${args.split})\n`);
}
