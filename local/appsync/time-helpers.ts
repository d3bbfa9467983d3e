// util.time.* of the APPSYNC_JS runtime. Format strings follow java.time's DateTimeFormatter
// (as AppSync documents); the common letters are supported: y u M L d D H h k K m s S a E
// Z X x z V and 'quoted' literals. Unsupported letters throw, as Java does for bad patterns.

export class TimeFormatError extends Error {
  override readonly name = 'TimeFormatError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

type Token = { kind: 'field'; letter: string; count: number } | { kind: 'literal'; text: string };

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        tokens.push({ kind: 'literal', text: "'" });
        i += 2;
        continue;
      }
      let j = i + 1;
      let text = '';
      for (; j < pattern.length; j += 1) {
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            text += "'";
            j += 1;
            continue;
          }
          break;
        }
        text += pattern[j];
      }
      if (j >= pattern.length) throw new TimeFormatError(`Unterminated quote in pattern: ${pattern}`);
      tokens.push({ kind: 'literal', text });
      i = j + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j += 1;
      if (!'yuMLdDHhkKmsSaEZXxzV'.includes(c)) throw new TimeFormatError(`Unsupported pattern letter '${c}' in ${pattern}`);
      tokens.push({ kind: 'field', letter: c, count: j - i });
      i = j;
    } else {
      tokens.push({ kind: 'literal', text: c });
      i += 1;
    }
  }
  return tokens;
}

/** Minutes east of UTC for a fixed offset ("+08:00", "-0530", "Z", "UTC") or null if it's a region id. */
function fixedOffset(zone: string): number | null {
  if (zone === 'Z' || zone === 'UTC' || zone === 'GMT') return 0;
  const m = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(zone);
  if (!m) return null;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
}

function zoneOffsetMinutes(epochMs: number, zone: string): number {
  const fixed = fixedOffset(zone);
  if (fixed !== null) return fixed;
  let dtf: Intl.DateTimeFormat;
  try {
    dtf = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  } catch (e) {
    throw new TimeFormatError(`Unknown time zone: ${zone}`, { cause: e });
  }
  const parts = Object.fromEntries(dtf.formatToParts(new Date(epochMs)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((asUtc - Math.floor(epochMs / 1000) * 1000) / 60000);
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

function formatOffset(minutes: number, withColon: boolean, hoursOnly = false): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hh = pad(Math.floor(abs / 60), 2);
  const mm = pad(abs % 60, 2);
  if (hoursOnly && abs % 60 === 0) return `${sign}${hh}`;
  return withColon ? `${sign}${hh}:${mm}` : `${sign}${hh}${mm}`;
}

function zoneShortName(epochMs: number, zone: string): string {
  if (fixedOffset(zone) !== null) return zone === 'Z' ? 'Z' : zone;
  const part = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'short' })
    .formatToParts(new Date(epochMs))
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? zone;
}

export function formatEpochMillis(epochMs: number, pattern: string, zone = 'UTC'): string {
  if (!Number.isFinite(epochMs)) throw new TimeFormatError(`Invalid epoch milliseconds: ${epochMs}`);
  const offset = zoneOffsetMinutes(epochMs, zone);
  const d = new Date(epochMs + offset * 60000);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const hour = d.getUTCHours();
  let out = '';
  for (const t of tokenize(pattern)) {
    if (t.kind === 'literal') {
      out += t.text;
      continue;
    }
    const n = t.count;
    switch (t.letter) {
      case 'y':
      case 'u':
        out += n === 2 ? pad(year % 100, 2) : pad(year, n);
        break;
      case 'M':
      case 'L':
        out += n >= 4 ? MONTHS[month] : n === 3 ? MONTHS[month]!.slice(0, 3) : pad(month + 1, n);
        break;
      case 'd': out += pad(d.getUTCDate(), n); break;
      case 'D': {
        const doy = Math.floor((Date.UTC(year, month, d.getUTCDate()) - Date.UTC(year, 0, 1)) / 86400000) + 1;
        out += pad(doy, n);
        break;
      }
      case 'H': out += pad(hour, n); break;
      case 'k': out += pad(hour === 0 ? 24 : hour, n); break;
      case 'K': out += pad(hour % 12, n); break;
      case 'h': out += pad(hour % 12 === 0 ? 12 : hour % 12, n); break;
      case 'm': out += pad(d.getUTCMinutes(), n); break;
      case 's': out += pad(d.getUTCSeconds(), n); break;
      case 'S': out += pad(d.getUTCMilliseconds(), 3).padEnd(n, '0').slice(0, n); break;
      case 'a': out += hour < 12 ? 'AM' : 'PM'; break;
      case 'E': out += n >= 4 ? DAYS[d.getUTCDay()] : DAYS[d.getUTCDay()]!.slice(0, 3); break;
      case 'Z':
        out += n <= 3 ? formatOffset(offset, false) : n === 4 ? (offset === 0 ? 'GMT' : `GMT${formatOffset(offset, true)}`) : offset === 0 ? 'Z' : formatOffset(offset, true);
        break;
      case 'X':
        out += offset === 0 ? 'Z' : formatOffset(offset, n >= 3, n === 1);
        break;
      case 'x':
        out += formatOffset(offset, n >= 3, n === 1);
        break;
      case 'z': out += zoneShortName(epochMs, zone); break;
      case 'V': out += zone; break;
      default: throw new TimeFormatError(`Unsupported pattern letter '${t.letter}'`);
    }
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const OFFSET_RE = '(Z|[+-]\\d{2}(?::?\\d{2})?)';

export function parseFormattedToEpochMillis(text: string, pattern: string, zone = 'UTC'): number {
  const tokens = tokenize(pattern);
  const groups: Array<{ letter: string; count: number }> = [];
  let re = '^';
  for (const t of tokens) {
    if (t.kind === 'literal') {
      re += escapeRegExp(t.text);
      continue;
    }
    groups.push({ letter: t.letter, count: t.count });
    const n = t.count;
    switch (t.letter) {
      case 'y':
      case 'u':
        re += n === 2 ? '(\\d{2})' : n >= 4 ? '([+-]?\\d{4,9})' : '(\\d{1,9})';
        break;
      case 'M':
      case 'L':
        re += n >= 4 ? `(${MONTHS.join('|')})` : n === 3 ? `(${MONTHS.map((m) => m.slice(0, 3)).join('|')})` : n === 2 ? '(\\d{2})' : '(\\d{1,2})';
        break;
      case 'S': re += `(\\d{${n}})`; break;
      case 'a': re += '(AM|PM|am|pm)'; break;
      case 'E': re += `(${(n >= 4 ? DAYS : DAYS.map((x) => x.slice(0, 3))).join('|')})`; break;
      case 'Z': case 'X': case 'x': re += OFFSET_RE; break;
      case 'z': case 'V': re += '([A-Za-z_/+\\-:0-9]+)'; break;
      case 'D': re += n >= 3 ? '(\\d{3})' : '(\\d{1,3})'; break;
      default: re += n >= 2 ? `(\\d{${n}})` : '(\\d{1,2})';
    }
  }
  const m = new RegExp(`${re}$`, 'i').exec(String(text));
  if (!m) throw new TimeFormatError(`Text '${text}' could not be parsed with pattern '${pattern}'`);
  let year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, ms = 0;
  let pm: boolean | null = null;
  let offset: number | null = null;
  let parsedZone: string | null = null;
  let dayOfYear: number | null = null;
  groups.forEach((g, i) => {
    const v = m[i + 1]!;
    switch (g.letter) {
      case 'y': case 'u': year = g.count === 2 ? 2000 + Number(v) : Number(v); break;
      case 'M': case 'L':
        month = g.count >= 3 ? MONTHS.findIndex((x) => x.toLowerCase().startsWith(v.toLowerCase())) + 1 : Number(v);
        break;
      case 'd': day = Number(v); break;
      case 'D': dayOfYear = Number(v); break;
      case 'H': case 'k': hour = Number(v) % 24; break;
      case 'h': case 'K': hour = Number(v) % 12; break;
      case 'm': minute = Number(v); break;
      case 's': second = Number(v); break;
      case 'S': ms = Math.floor(Number(`0.${v}`) * 1000 + 1e-9); break;
      case 'a': pm = v.toUpperCase() === 'PM'; break;
      case 'Z': case 'X': case 'x': offset = fixedOffset(v); break;
      case 'z': case 'V': parsedZone = v; break;
      default: break;
    }
  });
  if (pm === true) hour = (hour % 12) + 12;
  let local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (dayOfYear !== null) local = Date.UTC(year, 0, dayOfYear, hour, minute, second, ms);
  if (offset !== null) return local - offset * 60000;
  const z = parsedZone ?? zone;
  // Resolve the wall-clock time in the zone; two passes settle DST boundaries.
  let guess = local - zoneOffsetMinutes(local, z) * 60000;
  guess = local - zoneOffsetMinutes(guess, z) * 60000;
  return guess;
}

export function createTimeUtils(now: () => number) {
  return {
    nowISO8601: () => new Date(now()).toISOString(),
    nowEpochSeconds: () => Math.floor(now() / 1000),
    nowEpochMilliSeconds: () => now(),
    nowFormatted: (format: string, timezone?: string) => formatEpochMillis(now(), format, timezone ?? 'UTC'),
    parseFormattedToEpochMilliSeconds: (timestamp: string, format: string, timezone?: string) =>
      parseFormattedToEpochMillis(timestamp, format, timezone ?? 'UTC'),
    parseISO8601ToEpochMilliSeconds(timestamp: string): number {
      const ms = Date.parse(String(timestamp));
      if (Number.isNaN(ms)) throw new TimeFormatError(`Text '${timestamp}' could not be parsed as ISO 8601`);
      return ms;
    },
    epochMilliSecondsToSeconds: (milliseconds: number) => Math.floor(milliseconds / 1000),
    epochMilliSecondsToISO8601: (milliseconds: number) => new Date(milliseconds).toISOString(),
    epochMilliSecondsToFormatted: (milliseconds: number, format: string, timezone?: string) =>
      formatEpochMillis(milliseconds, format, timezone ?? 'UTC'),
  };
}
