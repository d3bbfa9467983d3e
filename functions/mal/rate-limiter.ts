/**
 * Rate limiting of MAL calls. MAL publishes no limit: stay near 1 request/s per client. One limiter is
 * shared by all the work of one client (key = the client id), so retries and parallel syncs queue behind
 * each other instead of hammering MAL.
 *
 * The budget is divided fairly between the users it serves (their "shares"): the work of one user runs
 * inside `withRateShare(userId, …)`, and when several shares wait for a token the one that used the least
 * lately (usage decays with a half-life) goes first. A short sync therefore passes a long backfill instead
 * of queueing behind it, two long backfills alternate, and nobody waits longer than `maxDeferMs` for a turn
 * (a share deferred that long goes first). Unused tokens are never held back for anyone.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RateLimiter {
  /** Resolves when one request may be sent under `key`. */
  acquire(key: string): Promise<void>;
}

export interface TokenBucketOptions {
  /** Sustained requests per second. */
  ratePerSecond: number;
  /** How many requests may go at once after a quiet spell. */
  burst: number;
}

export const DEFAULT_MAL_RATE: TokenBucketOptions = { ratePerSecond: 1, burst: 2 };

export class RateLimiterConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RateLimiterConfigError';
  }
}

export function checkTokenBucketOptions(options: TokenBucketOptions): TokenBucketOptions {
  if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) {
    throw new RateLimiterConfigError(`ratePerSecond must be a positive number, got ${options.ratePerSecond}`);
  }
  if (!(options.burst >= 1) || !Number.isFinite(options.burst)) {
    throw new RateLimiterConfigError(`burst must be at least 1, got ${options.burst}`);
  }
  return options;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface FairnessOptions {
  /** Half-life of a share's recent usage, the measure of who goes first. */
  usageHalfLifeMs: number;
  /** A share that has waited this long goes first whatever its usage (bounds every share's wait). */
  maxDeferMs: number;
}

export const DEFAULT_FAIRNESS: FairnessOptions = { usageHalfLifeMs: 30_000, maxDeferMs: 15_000 };

/** The share of calls made outside `withRateShare` (public reads, sign-in); not empty (DynamoDB map keys cannot be). */
export const UNATTRIBUTED_SHARE = '(unattributed)';

const shareContext = new AsyncLocalStorage<string>();

/** Runs `work` with every MAL call it makes (however deep) counted against `share`, e.g. a user id. */
export function withRateShare<T>(share: string, work: () => Promise<T>): Promise<T> {
  return shareContext.run(share, work);
}

/** The share the current call is counted against. */
export function currentRateShare(): string {
  return shareContext.getStore() ?? UNATTRIBUTED_SHARE;
}

/** `usage` as of `atMs`, decayed to `nowMs`. */
export function decayedUsage(usage: number, atMs: number, nowMs: number, halfLifeMs: number): number {
  const elapsed = Math.max(0, nowMs - atMs);
  return usage * 2 ** (-elapsed / halfLifeMs);
}

export interface ShareContender {
  share: string;
  /** Decayed usage now. */
  usage: number;
  /** Since when the share's oldest waiting call has waited. */
  waitingSinceMs: number;
}

/** Who takes the next token: a share deferred for `maxDeferMs` first (longest waiting), else the least used lately. */
export function nextShare(contenders: ShareContender[], nowMs: number, maxDeferMs: number): ShareContender | undefined {
  let best: ShareContender | undefined;
  let bestStarved = false;
  for (const c of contenders) {
    const starved = nowMs - c.waitingSinceMs >= maxDeferMs;
    if (!best) {
      best = c;
      bestStarved = starved;
      continue;
    }
    if (starved !== bestStarved) {
      if (starved) {
        best = c;
        bestStarved = true;
      }
      continue;
    }
    const better = starved
      ? c.waitingSinceMs < best.waitingSinceMs || (c.waitingSinceMs === best.waitingSinceMs && c.share < best.share)
      : c.usage < best.usage || (c.usage === best.usage && (c.waitingSinceMs < best.waitingSinceMs || (c.waitingSinceMs === best.waitingSinceMs && c.share < best.share)));
    if (better) best = c;
  }
  return best;
}

export function checkFairnessOptions(options: FairnessOptions): FairnessOptions {
  if (!(options.usageHalfLifeMs > 0) || !Number.isFinite(options.usageHalfLifeMs)) {
    throw new RateLimiterConfigError(`usageHalfLifeMs must be a positive number, got ${options.usageHalfLifeMs}`);
  }
  if (!(options.maxDeferMs >= 0) || !Number.isFinite(options.maxDeferMs)) {
    throw new RateLimiterConfigError(`maxDeferMs must be a non-negative number, got ${options.maxDeferMs}`);
  }
  return options;
}

interface Waiter {
  sinceMs: number;
  grant: () => void;
}

interface Bucket {
  tokens: number;
  refilledAt: number;
  /** Waiting calls per share, each share's in arrival order. */
  waiting: Map<string, Waiter[]>;
  usage: Map<string, { value: number; atMs: number }>;
  timer?: ReturnType<typeof setTimeout>;
}

/** Usage below this is forgotten (keeps the map to the shares active lately). */
const FORGET_USAGE = 0.01;

/** In-process token bucket (one Lambda container, one local process), shared fairly between shares. */
export class TokenBucketRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly options: TokenBucketOptions;
  private readonly fairness: FairnessOptions;

  constructor(
    options: Partial<TokenBucketOptions & FairnessOptions> = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.options = checkTokenBucketOptions({ ratePerSecond: options.ratePerSecond ?? DEFAULT_MAL_RATE.ratePerSecond, burst: options.burst ?? DEFAULT_MAL_RATE.burst });
    this.fairness = checkFairnessOptions({ usageHalfLifeMs: options.usageHalfLifeMs ?? DEFAULT_FAIRNESS.usageHalfLifeMs, maxDeferMs: options.maxDeferMs ?? DEFAULT_FAIRNESS.maxDeferMs });
  }

  acquire(key: string): Promise<void> {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.options.burst, refilledAt: this.now(), waiting: new Map(), usage: new Map() };
      this.buckets.set(key, bucket);
    }
    const share = currentRateShare();
    const current = bucket;
    return new Promise<void>((resolve) => {
      const queue = current.waiting.get(share) ?? [];
      queue.push({ sinceMs: this.now(), grant: resolve });
      current.waiting.set(share, queue);
      this.pump(current);
    });
  }

  /** Grants every token available, fairly, then sleeps until the next one if calls still wait. */
  private pump(bucket: Bucket): void {
    const now = this.now();
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.refilledAt) / 1000) * this.options.ratePerSecond);
    bucket.refilledAt = now;
    const { usageHalfLifeMs, maxDeferMs } = this.fairness;
    while (bucket.tokens >= 1 && bucket.waiting.size > 0) {
      const contenders: ShareContender[] = [];
      for (const [share, queue] of bucket.waiting) {
        const used = bucket.usage.get(share);
        contenders.push({ share, usage: used ? decayedUsage(used.value, used.atMs, now, usageHalfLifeMs) : 0, waitingSinceMs: queue[0].sinceMs });
      }
      const chosen = nextShare(contenders, now, maxDeferMs)!;
      const queue = bucket.waiting.get(chosen.share)!;
      const waiter = queue.shift()!;
      if (queue.length === 0) bucket.waiting.delete(chosen.share);
      bucket.tokens -= 1;
      bucket.usage.set(chosen.share, { value: chosen.usage + 1, atMs: now });
      waiter.grant();
    }
    for (const [share, used] of bucket.usage) {
      if (!bucket.waiting.has(share) && decayedUsage(used.value, used.atMs, now, usageHalfLifeMs) < FORGET_USAGE) bucket.usage.delete(share);
    }
    if (bucket.waiting.size > 0 && !bucket.timer) {
      const waitMs = Math.max(1, Math.ceil(((1 - bucket.tokens) / this.options.ratePerSecond) * 1000));
      bucket.timer = setTimeout(() => {
        bucket.timer = undefined;
        this.pump(bucket);
      }, waitMs);
    }
  }
}

/** For callers that must not be limited (e.g. a benchmark against a sandbox with rate limiting off). */
export class UnlimitedRateLimiter implements RateLimiter {
  async acquire(): Promise<void> {}
}
