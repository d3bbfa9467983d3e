/**
 * Rate limiting of MAL calls. MAL publishes no limit: stay near 1 request/s per client. One limiter is
 * shared by all the work of one client (key = the client id), so retries and parallel syncs queue behind
 * each other instead of hammering MAL.
 */

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
  constructor(message: string) {
    super(message);
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

interface Bucket {
  tokens: number;
  refilledAt: number;
  /** Tail of the FIFO of waiters, so callers are served in arrival order. */
  queue: Promise<void>;
}

/** In-process token bucket (one Lambda container, one local process). */
export class TokenBucketRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly options: TokenBucketOptions;

  constructor(options: Partial<TokenBucketOptions> = {}, private readonly now: () => number = () => performance.now()) {
    this.options = checkTokenBucketOptions({ ...DEFAULT_MAL_RATE, ...options });
  }

  acquire(key: string): Promise<void> {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.options.burst, refilledAt: this.now(), queue: Promise.resolve() };
      this.buckets.set(key, bucket);
    }
    const current = bucket;
    const turn = current.queue.then(() => this.take(current));
    current.queue = turn;
    return turn;
  }

  private async take(bucket: Bucket): Promise<void> {
    for (;;) {
      const now = this.now();
      bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.refilledAt) / 1000) * this.options.ratePerSecond);
      bucket.refilledAt = now;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - bucket.tokens) / this.options.ratePerSecond) * 1000));
    }
  }
}

/** For callers that must not be limited (e.g. a benchmark against a sandbox with rate limiting off). */
export class UnlimitedRateLimiter implements RateLimiter {
  async acquire(): Promise<void> {}
}
