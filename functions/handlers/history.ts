/**
 * AppSync Lambda data source for Mutation.processHistory. The resolver passes `{userId, input}` with the
 * caller's id from the authorizer, never from the arguments.
 */
import { apiHandler } from '../shared/handler';
import { sendSyncMessage } from '../shared/sync-queue';
import { processHistory, type ProcessHistoryInput } from '../sync/process-history';

export interface HistoryEvent {
  userId: string;
  input: ProcessHistoryInput;
}

export const handler = apiHandler('history', (event: HistoryEvent) => processHistory(event.userId, event.input, { enqueue: sendSyncMessage }));
