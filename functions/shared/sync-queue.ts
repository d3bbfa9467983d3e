/**
 * The sync queue: `{userId, jobId}` messages for the sync worker. In AWS an SQS queue (SYNC_QUEUE_URL,
 * consumed by the sync-worker Lambda); locally the in-process queue the local stack registers as a port
 * (sync-queue-port.ts).
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ENV, env } from './config';
import { localSyncQueue, SyncQueueError, type SyncMessage } from './sync-queue-port';

let sqs: SQSClient | undefined;

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
  const localQueue = localSyncQueue();
  if (!localQueue) throw new SyncQueueError('no sync queue: set SYNC_QUEUE_URL, or start the local stack (which runs a local queue)');
  localQueue.send(message, { delayMs: delaySeconds * 1000 });
}
