/**
 * AppSync Lambda data source for cancelSync, retrySync, revertSync, setSeriesRules, confirmMatch, matchCandidates and a
 * dry run's plan. Each resolver passes `{field, userId, args}` with the caller's id from the authorizer.
 */
import type { MutationCancelSyncArgs, MutationConfirmMatchArgs, MutationRetrySyncArgs, MutationRevertSyncArgs, MutationSetSeriesRulesArgs, QueryMatchCandidatesArgs } from '../../generated/graphql';
import { malSessionForUser } from '../auth/mal-tokens';
import { fieldHandler, signedIn } from '../shared/handler';
import { sendSyncMessage } from '../shared/sync-queue';
import { cancelSync, confirmMatch, jobPlan, matchCandidates, retrySync, type ConfirmMatchInput } from '../sync/control';
import { revertSync } from '../sync/revert';
import { setSeriesRules } from '../sync/rules';

/** The arguments each field's resolver sends. */
export interface SyncControlArgs {
  cancelSync: MutationCancelSyncArgs;
  retrySync: MutationRetrySyncArgs;
  revertSync: MutationRevertSyncArgs;
  setSeriesRules: MutationSetSeriesRulesArgs;
  confirmMatch: MutationConfirmMatchArgs;
  matchCandidates: QueryMatchCandidatesArgs;
  jobPlan: { jobId: string };
}

export const handler = fieldHandler<SyncControlArgs>('sync-control', {
  cancelSync: (userId, args) => cancelSync(signedIn(userId), args.jobId ?? ''),
  retrySync: (userId, args) => retrySync(signedIn(userId), args.jobId ?? '', { enqueue: sendSyncMessage }),
  revertSync: (userId, args) => revertSync(signedIn(userId), args.jobId ?? '', args.dryRun === true, { enqueue: sendSyncMessage }),
  setSeriesRules: (userId, args) => setSeriesRules(signedIn(userId), args.items),
  confirmMatch: (userId, args) => confirmMatch(signedIn(userId), args.input as ConfirmMatchInput, { session: malSessionForUser }),
  matchCandidates: (userId, args) => matchCandidates(signedIn(userId), args.seasonKey ?? '', { session: malSessionForUser }),
  jobPlan: (userId, args) => jobPlan(signedIn(userId), args.jobId ?? ''),
});
