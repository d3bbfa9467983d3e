/**
 * The sync queue's shapes and its local port: what the local stack needs to run its in-process queue
 * (local/sync-queue.ts) without loading the SQS client, which only sync-queue.ts uses.
 */

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

let localQueue: SyncQueuePort | undefined;

/** The local queue registered in this process, if any (sendSyncMessage's target when no SQS queue is set). */
export function localSyncQueue(): SyncQueuePort | undefined {
  return localQueue;
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
