/**
 * AppSync Lambda data source for cancelSync, retrySync, confirmMatch and matchCandidates. Each resolver
 * passes `{field, userId, args}` with the caller's id from the authorizer.
 */
import { malSessionForUser } from '../auth/mal-tokens';
import { apiHandler } from '../shared/handler';
import { ValidationError } from '../shared/errors';
import { sendSyncMessage } from '../shared/sync-queue';
import { cancelSync, confirmMatch, jobPlan, matchCandidates, retrySync, type ConfirmMatchInput } from '../sync/control';

export interface SyncControlEvent {
  field: 'cancelSync' | 'retrySync' | 'confirmMatch' | 'matchCandidates' | 'jobPlan';
  userId: string;
  args: { jobId?: string; seasonKey?: string; input?: ConfirmMatchInput };
}

export const handler = apiHandler('sync-control', async (event: SyncControlEvent): Promise<unknown> => {
  switch (event.field) {
    case 'cancelSync':
      return cancelSync(event.userId, event.args.jobId ?? '');
    case 'retrySync':
      return retrySync(event.userId, event.args.jobId ?? '', { enqueue: sendSyncMessage });
    case 'confirmMatch':
      return confirmMatch(event.userId, event.args.input as ConfirmMatchInput, { session: malSessionForUser });
    case 'matchCandidates':
      return matchCandidates(event.userId, event.args.seasonKey ?? '', { session: malSessionForUser });
    case 'jobPlan':
      return jobPlan(event.userId, event.args.jobId ?? '');
    default:
      throw new ValidationError(`unknown field ${String((event as { field?: unknown }).field)}`);
  }
});
