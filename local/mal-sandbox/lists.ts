/**
 * Per-user MAL lists of the sandbox: in memory, optionally mirrored to a JSON file so a local stack keeps
 * its users across restarts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';

export const LIST_STATUSES = ['watching', 'completed', 'on_hold', 'dropped', 'plan_to_watch'] as const;
export type SandboxListStatusName = (typeof LIST_STATUSES)[number];

/** A list entry as MAL's reads name it (`num_episodes_watched`). */
export interface SandboxListStatus {
  status: SandboxListStatusName;
  score: number;
  num_episodes_watched: number;
  is_rewatching: boolean;
  updated_at: string;
  start_date?: string;
  finish_date?: string;
  num_times_rewatched: number;
  priority: number;
  rewatch_value: number;
  tags: string[];
  comments: string;
}

export interface SandboxUser {
  id: number;
  name: string;
  joined_at: string;
  list: Map<number, SandboxListStatus>;
}

/** What `seedList` takes: the anime id plus any list-status fields (defaults fill the rest). */
export type SandboxSeedEntry = { animeId: number } & Partial<SandboxListStatus>;

export class ListsFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ListsFileError';
  }
}

interface ListsFileShape {
  version: 1;
  users: Array<{ id: number; name: string; joined_at: string; list: Array<{ animeId: number } & SandboxListStatus> }>;
}

/** MAL writes timestamps as `2017-11-11T19:51:22+00:00`. */
export function malTimestamp(date: Date = new Date()): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

export function defaultListStatus(): SandboxListStatus {
  return {
    status: 'plan_to_watch',
    score: 0,
    num_episodes_watched: 0,
    is_rewatching: false,
    updated_at: malTimestamp(),
    num_times_rewatched: 0,
    priority: 0,
    rewatch_value: 0,
    tags: [],
    comments: '',
  };
}

export class ListStore {
  private readonly users = new Map<string, SandboxUser>();
  private nextUserId = 1_000_001;
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly filePath?: string) {
    if (filePath && existsSync(filePath)) this.load(filePath);
  }

  private load(filePath: string): void {
    let parsed: ListsFileShape;
    try {
      parsed = JSON.parse(readFileSync(filePath, 'utf8')) as ListsFileShape;
    } catch (error) {
      throw new ListsFileError(`cannot read sandbox lists file ${filePath}`, { cause: error });
    }
    if (parsed?.version !== 1 || !Array.isArray(parsed.users)) {
      throw new ListsFileError(`sandbox lists file ${filePath} is not a version-1 lists file`);
    }
    for (const stored of parsed.users) {
      const list = new Map<number, SandboxListStatus>();
      for (const { animeId, ...status } of stored.list) list.set(animeId, status);
      this.users.set(stored.name.toLowerCase(), { id: stored.id, name: stored.name, joined_at: stored.joined_at, list });
      this.nextUserId = Math.max(this.nextUserId, stored.id + 1);
    }
  }

  /** MAL user names are case-insensitive; the first spelling seen is kept. */
  findUser(name: string): SandboxUser | undefined {
    return this.users.get(name.toLowerCase());
  }

  getOrCreateUser(name: string): SandboxUser {
    const existing = this.findUser(name);
    if (existing) return existing;
    const user: SandboxUser = { id: this.nextUserId++, name, joined_at: malTimestamp(), list: new Map() };
    this.users.set(name.toLowerCase(), user);
    this.changed();
    return user;
  }

  seed(userName: string, entries: SandboxSeedEntry[]): void {
    const user = this.getOrCreateUser(userName);
    for (const { animeId, ...fields } of entries) {
      user.list.set(animeId, { ...defaultListStatus(), ...fields });
    }
    this.changed();
  }

  /** Schedules a save (batched: a sync writes many entries in a row). */
  changed(): void {
    if (!this.filePath || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.flush();
    }, 100);
    this.saveTimer.unref();
  }

  async flush(): Promise<void> {
    if (!this.filePath) return;
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    const filePath = this.filePath;
    const snapshot: ListsFileShape = {
      version: 1,
      users: [...this.users.values()].map((u) => ({
        id: u.id,
        name: u.name,
        joined_at: u.joined_at,
        list: [...u.list.entries()].map(([animeId, status]) => ({ animeId, ...status })),
      })),
    };
    // Write to a temporary file and rename, so a crash never leaves half a file.
    this.saving = this.saving.then(async () => {
      const temporary = `${filePath}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(snapshot, null, 1));
      await rename(temporary, filePath);
    });
    await this.saving;
  }
}
