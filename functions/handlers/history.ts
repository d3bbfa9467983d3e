/**
 * AppSync Lambda data source for Mutation.processHistory. The resolver passes `{field, userId, args}` with
 * the caller's id from the authorizer, never from the arguments.
 */
import type { MutationProcessHistoryArgs } from '../../generated/graphql';
import { fieldHandler, signedIn } from '../shared/handler';
import { sendSyncMessage } from '../shared/sync-queue';
import { processHistory, type ProcessHistoryInput } from '../sync/process-history';

export interface HistoryArgs {
  processHistory: MutationProcessHistoryArgs;
}

export const handler = fieldHandler<HistoryArgs>('history', {
  processHistory: (userId, args) => processHistory(signedIn(userId), args.input as unknown as ProcessHistoryInput, { enqueue: sendSyncMessage }),
});
