/**
 * The sync queue: `{userId, jobId}` messages for the sync worker. In AWS an SQS queue (SYNC_QUEUE_URL,
 * consumed by the sync-worker Lambda); locally the in-process queue the local stack registers as a port.
 */
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

/**
 * Where messages go when no SQS queue is configured: the local stack registers its in-process queue
 * (local/sync-queue.ts) here. `stopping` is aborted when that queue stops, so a worker run ends at its
 * next step.
 */
export interface SyncQueuePort {
  send(message: SyncMessage, options: { delayMs: number }): void;
  readonly stopping?: AbortSignal;
}

let sqs: SQSClient | undefined;
let localQueue: SyncQueuePort | undefined;

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

/** Makes `queue` the target of sendSyncMessage in this process (local stack); returns an unregister. */
export function registerLocalSyncQueue(queue: SyncQueuePort): () => void {
  localQueue = queue;
  return () => {
    if (localQueue === queue) localQueue = undefined;
  };
}

/** The registered local queue's stop signal, if a local queue runs in this process. */
export function localQueueStopping(): AbortSignal | undefined {
  return localQueue?.stopping;
}
