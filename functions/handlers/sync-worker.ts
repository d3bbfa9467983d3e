/**
 * The sync worker: consumes `{userId, jobId}` messages from the sync queue (SQS in AWS, the local queue
 * locally) and runs the job. A message whose user is busy with another job, or whose run hit a fault,
 * is reported as a batch item failure so the queue redelivers it; the job's checkpoint makes that safe.
 */
import { readFileSync } from 'node:fs';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { malSessionForUser } from '../auth/mal-tokens';
import { publishSyncProgress } from '../shared/progress-publisher';
import { sendSyncMessage } from '../shared/sync-queue';
import { localQueueStopping, type SqsBatchResponse, type SqsEvent } from '../shared/sync-queue-port';
import { DEFAULT_LEASE_MS, runSyncJob, type WorkerDeps } from '../sync/worker';
import type { PublishProgress } from '../sync/progress';
import { componentLogger, errorFields } from '../shared/logger';
import { ENV, env, envNumber } from '../shared/config';

const log = componentLogger('sync-worker');

/** Progress goes out through the API's IAM-only mutation when its URL is configured. */
function progressPublisher(): PublishProgress | undefined {
  const url = env(ENV.APPSYNC_GRAPHQL_URL);
  const accessKeyId = env(ENV.SYNC_PROGRESS_ACCESS_KEY_ID) ?? env(ENV.AWS_ACCESS_KEY_ID);
  const secretAccessKey = env(ENV.SYNC_PROGRESS_SECRET_ACCESS_KEY) ?? env(ENV.AWS_SECRET_ACCESS_KEY);
  if (!url || !accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env(ENV.SYNC_PROGRESS_ACCESS_KEY_ID) ? undefined : env(ENV.AWS_SESSION_TOKEN);
  const region = env(ENV.AWS_REGION) ?? 'us-east-1';
  // The local stack's --https certificate is self-signed: the worker trusts it as any client must.
  const caFile = env(ENV.SYNC_PROGRESS_CA_FILE);
  const ca = caFile ? readFileSync(caFile, 'utf8') : undefined;
  return (event) => publishSyncProgress(url, region, { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }, event, { ca });
}

function parseMessage(body: string): { userId: string; jobId: string } | undefined {
  try {
    const value = JSON.parse(body) as { userId?: unknown; jobId?: unknown };
    if (typeof value.userId === 'string' && typeof value.jobId === 'string') return { userId: value.userId, jobId: value.jobId };
  } catch {
    // fall through: a malformed message is dropped (it can never succeed)
  }
  return undefined;
}

/** How soon a message whose user is busy with another job comes back (instead of the long visibility timeout). */
const BUSY_RETRY_SECONDS = 60;
let sqs: SQSClient | undefined;

async function retrySoon(receiptHandle: string | undefined): Promise<void> {
  const queueUrl = env(ENV.SYNC_QUEUE_URL);
  if (!queueUrl || !receiptHandle) return;
  sqs ??= new SQSClient({});
  await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: BUSY_RETRY_SECONDS })).catch((error) => {
    log.warn('could not shorten the visibility timeout', errorFields(error));
  });
}

export async function handler(event: SqsEvent): Promise<SqsBatchResponse> {
  const deps: WorkerDeps = {
    session: malSessionForUser,
    publish: progressPublisher(),
    leaseMs: envNumber(ENV.SYNC_LEASE_MS, DEFAULT_LEASE_MS),
    signal: localQueueStopping(),
    // A job paused while MAL blocks us comes back as a new, delayed message (not a redelivery: those
    // count towards the dead-letter queue's receive limit).
    resumeLater: (message, delaySeconds) => sendSyncMessage(message, { delaySeconds }),
  };
  const batchItemFailures: SqsBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const message = parseMessage(record.body);
    if (!message) {
      log.error('malformed queue message dropped', { messageId: record.messageId });
      continue;
    }
    try {
      const outcome = await runSyncJob(deps, message);
      if (outcome === 'busy') {
        await retrySoon(record.receiptHandle);
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    } catch (error) {
      log.error('sync job run failed', { jobId: message.jobId, ...errorFields(error) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
