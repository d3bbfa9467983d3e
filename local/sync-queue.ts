/**
 * The local stand-in for SQS + the Lambda event source mapping: hands each message to the sync-worker
 * handler with SQS's event shape, redelivering failed messages after a delay (as SQS does after the
 * visibility timeout) up to a receive limit. Registered with functions/shared/sync-queue.ts as its port.
 */
import { randomUUID } from 'node:crypto';
import { SyncQueueError, type SyncMessage, type SyncQueuePort, type SyncWorkerHandler } from '../functions/shared/sync-queue-port';
import { componentLogger, errorFields } from '../functions/shared/logger';

const log = componentLogger('local-sync-queue');

export interface LocalSyncQueueOptions {
  /** Redelivery delay after a failed or busy attempt (SQS: the visibility timeout). */
  redeliveryDelayMs?: number;
  /** Receives after which a message is dropped (SQS: the redrive policy's maxReceiveCount). */
  maxReceives?: number;
  /** Messages worked on at once. */
  concurrency?: number;
}

interface Pending {
  id: string;
  message: SyncMessage;
  receives: number;
}

/** The local stand-in for SQS + the Lambda event source mapping. */
export class LocalSyncQueue implements SyncQueuePort {
  private readonly waiting: Pending[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Aborted on stop(): the worker stops at its next step (its job resumes on the next start). */
  private readonly abort = new AbortController();
  readonly stopping = this.abort.signal;
  private readonly options: Required<LocalSyncQueueOptions>;

  constructor(
    private readonly handler: SyncWorkerHandler,
    options: LocalSyncQueueOptions = {},
  ) {
    this.options = { redeliveryDelayMs: 500, maxReceives: 20, concurrency: 4, ...options };
  }

  send(message: SyncMessage, options: { delayMs?: number } = {}): void {
    if (this.stopped) throw new SyncQueueError('the local sync queue is stopped');
    const item = { id: randomUUID(), message, receives: 0 };
    if (options.delayMs && options.delayMs > 0) {
      // SQS's DelaySeconds: invisible until the delay is over.
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.stopped) return;
        this.waiting.push(item);
        this.pump();
      }, options.delayMs);
      this.timers.add(timer);
      return;
    }
    this.waiting.push(item);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.options.concurrency && this.waiting.length > 0) {
      const item = this.waiting.shift()!;
      const work = this.deliver(item).finally(() => {
        this.running.delete(work);
        this.pump();
      });
      this.running.add(work);
    }
  }

  private async deliver(item: Pending): Promise<void> {
    item.receives += 1;
    let failed = false;
    try {
      const out = await this.handler({ Records: [{ messageId: item.id, body: JSON.stringify(item.message), attributes: { ApproximateReceiveCount: String(item.receives) } }] });
      failed = !!out && out.batchItemFailures.some((f) => f.itemIdentifier === item.id);
    } catch (error) {
      failed = true;
      log.error('sync worker threw', { jobId: item.message.jobId, ...errorFields(error) });
    }
    if (!failed || this.stopped) return;
    if (item.receives >= this.options.maxReceives) {
      log.error('message dropped', { jobId: item.message.jobId, receives: item.receives });
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      this.waiting.push(item);
      this.pump();
    }, this.options.redeliveryDelayMs);
    this.timers.add(timer);
  }

  /** True when nothing is waiting, running or scheduled. */
  get idle(): boolean {
    return this.waiting.length === 0 && this.running.size === 0 && this.timers.size === 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.waiting.length = 0;
    await Promise.allSettled([...this.running]);
  }
}

