/**
 * The sync queue: `{userId, jobId}` messages for the sync worker. In AWS an SQS queue (SYNC_QUEUE_URL,
 * consumed by the sync-worker Lambda); locally an in-process queue the local stack starts, which hands
 * each message to the same worker handler with SQS's event shape, redelivering failed messages after a
 * delay (as SQS does after the visibility timeout) up to a receive limit.
 */
import { randomUUID } from 'node:crypto';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { componentLogger, errorFields } from './logger';
import { ENV, env } from './config';

const log = componentLogger('local-sync-queue');

export interface SyncMessage {
  userId: string;
  jobId: string;
}

export class SyncQueueError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SyncQueueError';
  }
}

/** SQS's event shape, as much of it as the worker reads. */
export interface SqsEvent {
  Records: Array<{ messageId: string; body: string; receiptHandle?: string; attributes?: { ApproximateReceiveCount?: string } }>;
}

export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

export type SyncWorkerHandler = (event: SqsEvent) => Promise<SqsBatchResponse | void>;

let sqs: SQSClient | undefined;
let localQueue: LocalSyncQueue | undefined;

/** `delaySeconds` (SQS: at most 900) holds the message back before its first delivery. */
export async function sendSyncMessage(message: SyncMessage, options: { delaySeconds?: number } = {}): Promise<void> {
  const url = env(ENV.SYNC_QUEUE_URL);
  const delaySeconds = Math.min(900, Math.max(0, Math.round(options.delaySeconds ?? 0)));
  if (url) {
    sqs ??= new SQSClient({});
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(message), ...(delaySeconds > 0 ? { DelaySeconds: delaySeconds } : {}) }));
    } catch (error) {
      throw new SyncQueueError(`could not queue job ${message.jobId}`, { cause: error });
    }
    return;
  }
  if (!localQueue) throw new SyncQueueError('no sync queue: set SYNC_QUEUE_URL, or start the local stack (which runs a local queue)');
  localQueue.send(message, { delayMs: delaySeconds * 1000 });
}

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
export class LocalSyncQueue {
  private readonly waiting: Pending[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Aborted on stop(): the worker stops at its next step (its job resumes on the next start). */
  readonly abort = new AbortController();
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

/** Makes `queue` the target of sendSyncMessage in this process (local stack); returns an unregister. */
export function registerLocalSyncQueue(queue: LocalSyncQueue): () => void {
  localQueue = queue;
  return () => {
    if (localQueue === queue) localQueue = undefined;
  };
}

/** The registered local queue, if any (tests wait for it to go idle). */
export function currentLocalSyncQueue(): LocalSyncQueue | undefined {
  return localQueue;
}
