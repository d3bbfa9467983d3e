/**
 * The JSONL "match case" format read by the match CLI and the benchmark:
 * `{"id","seriesTitle","seasonTitle"?,"seasonNumber"?,"episodes"?,"year"?,"type"?,"identifier"?,
 * "episodeNumbers"?,"airDates"?,"durationMs"?}` per line
 * (benchmark files add expectedMalIds/expectedFirstTv, which are ignored here).
 */
import type { MalMediaType, MatchRequest } from './types';

export interface MatchCase {
  id: string;
  seriesTitle: string;
  seasonTitle?: string;
  seasonNumber?: number | null;
  episodes?: number | null;
  year?: number | null;
  type?: string | null;
  identifier?: string | null;
  episodeNumbers?: number[] | null;
  airDates?: string[] | null;
  durationMs?: number | null;
}

export class MatchCaseError extends Error {
  constructor(
    message: string,
    readonly lineNumber: number,
    options?: { cause?: unknown },
  ) {
    super(`line ${lineNumber}: ${message}`, options);
    this.name = 'MatchCaseError';
  }
}

function optionalNumber(record: Record<string, unknown>, field: string, lineNumber: number): number | null | undefined {
  const value = record[field];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new MatchCaseError(`${field}: expected a number or null`, lineNumber);
  return value;
}

/** Parses and validates one JSONL line. */
export function parseMatchCase(line: string, lineNumber: number): MatchCase {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (cause) {
    throw new MatchCaseError('not valid JSON', lineNumber, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new MatchCaseError('expected a JSON object', lineNumber);
  const record = parsed as Record<string, unknown>;
  if (typeof record.id !== 'string' && typeof record.id !== 'number') throw new MatchCaseError('id: expected a string', lineNumber);
  if (typeof record.seriesTitle !== 'string') throw new MatchCaseError('seriesTitle: expected a string', lineNumber);
  if (record.seasonTitle !== undefined && record.seasonTitle !== null && typeof record.seasonTitle !== 'string') {
    throw new MatchCaseError('seasonTitle: expected a string', lineNumber);
  }
  if (record.type !== undefined && record.type !== null && typeof record.type !== 'string') {
    throw new MatchCaseError('type: expected a string', lineNumber);
  }
  if (record.identifier !== undefined && record.identifier !== null && typeof record.identifier !== 'string') {
    throw new MatchCaseError('identifier: expected a string', lineNumber);
  }
  const episodeNumbers = record.episodeNumbers;
  if (episodeNumbers !== undefined && episodeNumbers !== null && (!Array.isArray(episodeNumbers) || !episodeNumbers.every((n) => typeof n === 'number' && Number.isFinite(n)))) {
    throw new MatchCaseError('episodeNumbers: expected an array of numbers', lineNumber);
  }
  const airDates = record.airDates;
  if (airDates !== undefined && airDates !== null && (!Array.isArray(airDates) || !airDates.every((d) => typeof d === 'string'))) {
    throw new MatchCaseError('airDates: expected an array of date strings', lineNumber);
  }
  return {
    id: String(record.id),
    identifier: (record.identifier as string | null | undefined) ?? undefined,
    episodeNumbers: (episodeNumbers as number[] | null | undefined) ?? undefined,
    airDates: (airDates as string[] | null | undefined) ?? undefined,
    durationMs: optionalNumber(record, 'durationMs', lineNumber),
    seriesTitle: record.seriesTitle,
    seasonTitle: (record.seasonTitle as string | null | undefined) ?? undefined,
    seasonNumber: optionalNumber(record, 'seasonNumber', lineNumber),
    episodes: optionalNumber(record, 'episodes', lineNumber),
    year: optionalNumber(record, 'year', lineNumber),
    type: (record.type as string | null | undefined) ?? undefined,
  };
}

const MEDIA_TYPE_BY_CASE_TYPE: Record<string, MalMediaType> = {
  tv: 'tv',
  web: 'ona',
  ona: 'ona',
  ova: 'ova',
  oad: 'ova',
  movie: 'movie',
  special: 'special',
  tv_special: 'tv_special',
  music: 'music',
};

export function matchCaseToRequest(matchCase: MatchCase): MatchRequest {
  return {
    seasonKey: matchCase.id,
    seriesTitle: matchCase.seriesTitle,
    seasonTitle: matchCase.seasonTitle,
    seasonNumber: matchCase.seasonNumber ?? null,
    episodeCount: matchCase.episodes ?? null,
    year: matchCase.year ?? null,
    mediaType: matchCase.type ? (MEDIA_TYPE_BY_CASE_TYPE[matchCase.type.toLowerCase()] ?? null) : null,
    episodeNumbers: matchCase.episodeNumbers ?? null,
    airDates: matchCase.airDates ?? null,
    durationMs: matchCase.durationMs ?? null,
    identifier: matchCase.identifier ?? null,
  };
}
