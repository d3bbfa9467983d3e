/**
 * Watch history → canonical seasons: dub seasons folded into their original, episodes merged across
 * replays and audio versions, continuous numbering undone, movies kept apart.
 */
import { hasVersionTag, normaliseTitle, stripVersionTags } from '../matching/text';
import { parseHistory } from './parse';
import type { CrEpisode, CrSeason, NormalisedHistory, WatchEvent } from './types';

export interface NormaliseOptions {
  /** Progress at or above which an episode counts as watched even without CR's flag (default 0.9). */
  watchedThreshold?: number;
  /** The clock dates are checked against (tests). */
  now?: number;
}

const COMPILATION_TITLE = /\b(?:movie|film|compilation|gekijouban)\b/i;
const ORIGINAL_AUDIO = new Set(['ja-JP', 'zh-CN', 'zh-TW', 'ko-KR']);

/** Union-find over CR season ids: dub seasons join their original. */
class SeasonLinks {
  private readonly parent = new Map<string, string>();
  find(id: string): string {
    let root = id;
    while (this.parent.has(root) && this.parent.get(root) !== root) root = this.parent.get(root)!;
    if (!this.parent.has(id)) this.parent.set(id, id);
    return root;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

interface SeasonGroup {
  events: WatchEvent[];
  seasonIds: Set<string>;
  /** Season ids CR marks as the original-audio version. */
  originalIds: Set<string>;
}

/** Parses and normalises a CR watch history (v2 `data[]`, v1 `items[]` with panels, compact `items[]`, or a mix). */
export function normaliseHistory(input: unknown, options: NormaliseOptions = {}): NormalisedHistory {
  const watchedThreshold = options.watchedThreshold ?? 0.9;
  const { format, events, skipped, warnings } = parseHistory(input, { now: options.now });

  // 1. Link seasons: explicit version links first.
  const links = new SeasonLinks();
  const originalIds = new Set<string>();
  for (const event of events) {
    links.find(event.seasonId);
    for (const version of event.versions) {
      links.union(event.seasonId, version.seasonId);
      if (version.original) originalIds.add(version.seasonId);
    }
  }
  // 2. Then, for seasons CR did not link, titles and identifiers (see linkByTitle).
  linkByTitle(events, links);

  const groups = new Map<string, SeasonGroup>();
  for (const event of events) {
    const root = links.find(event.seasonId);
    const group = groups.get(root) ?? { events: [], seasonIds: new Set<string>(), originalIds: new Set<string>() };
    group.events.push(event);
    group.seasonIds.add(event.seasonId);
    for (const version of event.versions) {
      group.seasonIds.add(version.seasonId);
      if (originalIds.has(version.seasonId)) group.originalIds.add(version.seasonId);
    }
    groups.set(root, group);
  }

  const seasons: CrSeason[] = [];
  const movies: CrSeason[] = [];
  for (const group of groups.values()) {
    const season = buildSeason(group, watchedThreshold);
    (season.isMovie ? movies : seasons).push(season);
  }
  undoContinuousNumbering(seasons);
  const byKey = (a: CrSeason, b: CrSeason) =>
    a.seriesTitle.localeCompare(b.seriesTitle) || (a.seasonNumber ?? 0) - (b.seasonNumber ?? 0) || a.seasonKey.localeCompare(b.seasonKey);
  return { seasons: seasons.sort(byKey), movies: movies.sort(byKey), skipped, warnings, format };
}

interface SeasonFacts {
  seasonId: string;
  seasonNumbers: Set<number | null>;
  identifierSeasons: Set<string>;
  /** Some entry's season title carries an audio-version tag ("(English Dub)"). */
  tagged: boolean;
  audioLocales: Set<string>;
}

/**
 * Folds dub seasons CR did not link (`versions` null) into their original, within one series and one
 * season title once audio-version tags are removed:
 * - the same season number, unless both look like originals (no tag, same audio): two distinct seasons can
 *   share a number and a title equal to the series title;
 * - the same season part of CR's `identifier` ("S2");
 * - a tagged season with another number: a dub can carry its own season number, so it joins the one
 *   untagged season of that title (none or several: left apart rather than guessed).
 */
function linkByTitle(events: WatchEvent[], links: SeasonLinks): void {
  const byTitle = new Map<string, Map<string, SeasonFacts>>();
  for (const event of events) {
    if (event.isMovie) continue;
    const key = `${event.seriesId}\u0000${normaliseTitle(stripVersionTags(event.seasonTitle))}`;
    const seasons = byTitle.get(key) ?? new Map<string, SeasonFacts>();
    byTitle.set(key, seasons);
    const facts = seasons.get(event.seasonId) ?? { seasonId: event.seasonId, seasonNumbers: new Set(), identifierSeasons: new Set(), tagged: false, audioLocales: new Set() };
    seasons.set(event.seasonId, facts);
    facts.seasonNumbers.add(event.seasonNumber);
    if (event.identifierSeason) facts.identifierSeasons.add(event.identifierSeason);
    facts.tagged ||= hasVersionTag(event.seasonTitle);
    if (event.audioLocale) facts.audioLocales.add(event.audioLocale);
  }
  const sameAudio = (a: SeasonFacts, b: SeasonFacts) =>
    a.audioLocales.size > 0 && a.audioLocales.size === b.audioLocales.size && [...a.audioLocales].every((l) => b.audioLocales.has(l));
  const shares = <T>(a: Set<T>, b: Set<T>) => [...a].some((v) => b.has(v));
  for (const seasons of byTitle.values()) {
    const list = [...seasons.values()];
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i];
        const b = list[j];
        const bothOriginal = !a.tagged && !b.tagged && sameAudio(a, b);
        if (shares(a.identifierSeasons, b.identifierSeasons) || (shares(a.seasonNumbers, b.seasonNumbers) && !bothOriginal)) links.union(a.seasonId, b.seasonId);
      }
    }
    const untaggedRoots = new Set(list.filter((f) => !f.tagged).map((f) => links.find(f.seasonId)));
    if (untaggedRoots.size !== 1) continue;
    const [root] = untaggedRoots;
    for (const facts of list) if (facts.tagged) links.union(root, facts.seasonId);
  }
}

/**
 * The canonical (original-audio) season of a group. CR's `versions[].original` decides when given;
 * otherwise no single signal does (`is_dubbed` can be true on the original, `audio_locale` empty or
 * wrong), so a dub tag in the title weighs most, then `is_dubbed`, then a non-original audio locale, and
 * ties go to the smallest season id, so the choice does not depend on entry order.
 */
function canonicalEvent(group: SeasonGroup): WatchEvent {
  const rank = (event: WatchEvent) =>
    (group.originalIds.has(event.seasonId) ? 0 : 8) +
    (hasVersionTag(event.seasonTitle) ? 2 : 0) +
    (event.isDubbed === true ? 1 : 0) +
    (event.audioLocale && !ORIGINAL_AUDIO.has(event.audioLocale) ? 1 : 0);
  return [...group.events].sort((a, b) => rank(a) - rank(b) || (a.seasonId < b.seasonId ? -1 : a.seasonId > b.seasonId ? 1 : 0))[0];
}

function buildSeason(group: SeasonGroup, watchedThreshold: number): CrSeason {
  const canonical = canonicalEvent(group);
  const canonicalSeasonId = group.originalIds.size > 0 ? [...group.originalIds].sort()[0] : canonical.seasonId;
  const isMovie = group.events.some((e) => e.isMovie) || COMPILATION_TITLE.test(stripVersionTags(canonical.seasonTitle));

  const episodes = new Map<number, CrEpisode>();
  const audioLocales = new Set<string>();
  for (const event of group.events) {
    if (event.audioLocale) audioLocales.add(event.audioLocale);
    const crNumber = event.episodeNumber ?? event.sequenceNumber;
    if (crNumber === null) continue;
    const progress = event.fullyWatched
      ? 1
      : event.playheadS !== null && event.durationMs
        ? Math.min(1, Math.max(0, (event.playheadS * 1000) / event.durationMs))
        : 0;
    const existing = episodes.get(crNumber);
    if (!existing) {
      episodes.set(crNumber, {
        number: crNumber,
        crEpisodeNumber: event.episodeNumber,
        episodeIds: event.episodeId ? [event.episodeId] : [],
        durationMs: event.durationMs,
        airDate: event.airDate,
        playheadS: event.playheadS,
        progress,
        fullyWatched: event.fullyWatched || progress >= watchedThreshold,
        firstWatchedAt: event.watchedAt,
        lastWatchedAt: event.watchedAt,
        plays: 1,
        audioLocales: event.audioLocale ? [event.audioLocale] : [],
      });
      crSequenceNumbers.set(episodes.get(crNumber)!, event.sequenceNumber);
      continue;
    }
    existing.plays++;
    if (event.episodeId && !existing.episodeIds.includes(event.episodeId)) existing.episodeIds.push(event.episodeId);
    if (event.audioLocale && !existing.audioLocales.includes(event.audioLocale)) existing.audioLocales.push(event.audioLocale);
    existing.durationMs ??= event.durationMs;
    existing.airDate ??= event.airDate;
    if (event.playheadS !== null && (existing.playheadS === null || event.playheadS > existing.playheadS)) existing.playheadS = event.playheadS;
    existing.progress = Math.max(existing.progress, progress);
    existing.fullyWatched ||= event.fullyWatched || progress >= watchedThreshold;
    if (event.watchedAt < existing.firstWatchedAt) existing.firstWatchedAt = event.watchedAt;
    if (event.watchedAt > existing.lastWatchedAt) existing.lastWatchedAt = event.watchedAt;
  }
  const episodeList = [...episodes.values()].sort((a, b) => a.number - b.number);
  const times = group.events.map((e) => e.watchedAt).sort();
  return {
    seasonKey: isMovie && canonical.isMovie ? `movie:${canonicalSeasonId}` : `${canonical.seriesId}:${canonicalSeasonId}`,
    seriesId: canonical.seriesId,
    seriesTitle: canonical.seriesTitle,
    seasonId: canonicalSeasonId,
    foldedSeasonIds: [...group.seasonIds].sort(),
    seasonTitle: stripVersionTags(canonical.seasonTitle) || canonical.seasonTitle,
    seasonNumber: canonical.seasonNumber,
    seasonSequenceNumber: canonical.seasonSequenceNumber,
    audioLocales: [...audioLocales].sort(),
    isMovie,
    episodeNumberOffset: 0,
    episodeNumberOffsetSource: 'none',
    episodes: episodeList,
    firstWatchedAt: times[0],
    lastWatchedAt: times[times.length - 1],
  };
}

/** CR's per-season sequence number of each episode, kept aside to undo continuous numbering. */
const crSequenceNumbers = new WeakMap<CrEpisode, number | null>();

/** Minimum first episode number for the no-evidence heuristic: nobody skips that much of a new season. */
const HEURISTIC_MIN_START = 10;

/**
 * Season 2 numbered 13..24 becomes 1..12, recording the offset. Evidence in order: CR's own per-season
 * sequence numbers; the season numbered one less in the same series ending right before; and, for later
 * seasons that start at 10 or more with nothing below, the gap itself. `season_sequence_number` is not
 * used: it says nothing about the real order, and the season it names as previous may be a recap, a dub
 * or another arc; when two seasons share the previous number, neither is taken as evidence.
 */
function undoContinuousNumbering(seasons: CrSeason[]): void {
  const bySeries = new Map<string, CrSeason[]>();
  for (const season of seasons) bySeries.set(season.seriesId, [...(bySeries.get(season.seriesId) ?? []), season]);
  for (const seriesSeasons of bySeries.values()) {
    // Each season's original last episode, before any offset of its own is applied.
    const lastOf = new Map(seriesSeasons.map((s) => [s, s.episodes.at(-1)?.crEpisodeNumber ?? s.episodes.at(-1)?.number]));
    for (const season of seriesSeasons) {
      const episodes = season.episodes;
      if (episodes.length === 0) continue;
      const lowest = episodes[0].number;
      if (lowest <= 1) continue;
      let offset = 0;
      let source: CrSeason['episodeNumberOffsetSource'] = 'none';
      const differences = new Set(
        episodes.map((e) => {
          const sequence = crSequenceNumbers.get(e);
          return sequence !== null && sequence !== undefined ? e.number - sequence : NaN;
        }),
      );
      const [difference] = [...differences];
      if (differences.size === 1 && Number.isFinite(difference) && difference > 0) {
        offset = difference;
        source = 'sequence-number';
      } else {
        const previous = season.seasonNumber === null ? [] : seriesSeasons.filter((s) => s !== season && s.seasonNumber === season.seasonNumber! - 1);
        const previousLast = previous.length === 1 ? lastOf.get(previous[0]) : undefined;
        if (previousLast !== undefined && lowest === previousLast + 1) {
          offset = previousLast;
          source = 'previous-season';
        } else if ((season.seasonNumber ?? 1) >= 2 && lowest >= HEURISTIC_MIN_START) {
          offset = lowest - 1;
          source = 'heuristic';
        }
      }
      if (offset <= 0) continue;
      season.episodeNumberOffset = offset;
      season.episodeNumberOffsetSource = source;
      for (const episode of episodes) episode.number -= offset;
    }
  }
}
