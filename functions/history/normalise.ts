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

/** Parses and normalises a CR watch history (v2 `data[]`, v1 `items[]` with panels, or compact `items[]`). */
export function normaliseHistory(input: unknown, options: NormaliseOptions = {}): NormalisedHistory {
  const watchedThreshold = options.watchedThreshold ?? 0.9;
  const { format, events, warnings } = parseHistory(input);

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
  // 2. Then title/number heuristics for seasons without links: same series, same season number, same
  //    title once "(English Dub)"-style tags are removed.
  const byHeuristicKey = new Map<string, string>();
  for (const event of events) {
    if (event.isMovie) continue;
    const key = `${event.seriesId}\u0000${event.seasonNumber ?? '?'}\u0000${normaliseTitle(stripVersionTags(event.seasonTitle))}`;
    const first = byHeuristicKey.get(key);
    if (first === undefined) byHeuristicKey.set(key, event.seasonId);
    else links.union(first, event.seasonId);
  }

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
    const season = buildSeason(group, watchedThreshold, warnings);
    (season.isMovie ? movies : seasons).push(season);
  }
  undoContinuousNumbering(seasons);
  const byKey = (a: CrSeason, b: CrSeason) =>
    a.seriesTitle.localeCompare(b.seriesTitle) || (a.seasonNumber ?? 0) - (b.seasonNumber ?? 0) || a.seasonKey.localeCompare(b.seasonKey);
  return { seasons: seasons.sort(byKey), movies: movies.sort(byKey), warnings, format };
}

/** The season whose title carries no dub tag, in original audio, preferred as the canonical one. */
function canonicalEvent(group: SeasonGroup): WatchEvent {
  const rank = (event: WatchEvent) =>
    (group.originalIds.has(event.seasonId) ? 0 : 4) +
    (event.isDubbed === true ? 2 : 0) +
    (hasVersionTag(event.seasonTitle) ? 1 : 0) +
    (event.audioLocale && !ORIGINAL_AUDIO.has(event.audioLocale) ? 1 : 0);
  return [...group.events].sort((a, b) => rank(a) - rank(b))[0];
}

function buildSeason(group: SeasonGroup, watchedThreshold: number, warnings: string[]): CrSeason {
  const canonical = canonicalEvent(group);
  const canonicalSeasonId = group.originalIds.size > 0 ? [...group.originalIds].sort()[0] : canonical.seasonId;
  const isMovie = group.events.some((e) => e.isMovie) || COMPILATION_TITLE.test(stripVersionTags(canonical.seasonTitle));

  const episodes = new Map<number, CrEpisode>();
  const audioLocales = new Set<string>();
  for (const event of group.events) {
    if (event.audioLocale) audioLocales.add(event.audioLocale);
    const crNumber = event.episodeNumber ?? event.sequenceNumber;
    if (crNumber === null) {
      warnings.push(`${event.path}: no episode number or sequence number; entry skipped`);
      continue;
    }
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
 * sequence numbers; the previous season of the series ending right before; and, for later seasons that
 * start at 10 or more with nothing below, the gap itself.
 */
function undoContinuousNumbering(seasons: CrSeason[]): void {
  const bySeries = new Map<string, CrSeason[]>();
  for (const season of seasons) bySeries.set(season.seriesId, [...(bySeries.get(season.seriesId) ?? []), season]);
  for (const seriesSeasons of bySeries.values()) {
    const ordered = [...seriesSeasons].sort(
      (a, b) => (a.seasonSequenceNumber ?? a.seasonNumber ?? 0) - (b.seasonSequenceNumber ?? b.seasonNumber ?? 0),
    );
    ordered.forEach((season, index) => {
      const episodes = season.episodes;
      if (episodes.length === 0) return;
      const lowest = episodes[0].number;
      if (lowest <= 1) return;
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
        const previous = index > 0 ? ordered[index - 1] : undefined;
        const previousLast = previous?.episodes.at(-1)?.crEpisodeNumber ?? previous?.episodes.at(-1)?.number;
        if (previousLast !== undefined && lowest === previousLast + 1) {
          offset = previousLast;
          source = 'previous-season';
        } else if ((season.seasonNumber ?? 1) >= 2 && lowest >= HEURISTIC_MIN_START) {
          offset = lowest - 1;
          source = 'heuristic';
        }
      }
      if (offset <= 0) return;
      season.episodeNumberOffset = offset;
      season.episodeNumberOffsetSource = source;
      for (const episode of episodes) episode.number -= offset;
    });
  }
}
