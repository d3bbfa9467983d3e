/**
 * Mutation.publishSyncProgress — the sync worker's progress event (IAM only, per the schema). Nothing is
 * stored: the mutation exists so that `onSyncProgress` subscribers are triggered with its result.
 * @dataSource None
 */
import { util, type Context } from '@aws-appsync/utils';
import type { MutationPublishSyncProgressArgs } from '../generated/graphql';

export function request(ctx: Context<MutationPublishSyncProgressArgs>) {
  const event = ctx.args.event;
  if (event.seq < 1) util.error('seq counts from 1', 'ValidationError', null, { field: 'seq' });
  if (event.processed < 0 || event.total < 0) util.error('processed and total cannot be negative', 'ValidationError', null, { field: 'processed' });
  return {
    payload: {
      jobId: event.jobId,
      userId: event.userId,
      seq: event.seq,
      status: event.status,
      phase: event.phase,
      processed: event.processed,
      total: event.total,
      currentSeries: event.currentSeries ?? null,
      // AWSJSON arrives parsed; AppSync serialises objects back to JSON strings on the way out.
      change: event.change ?? null,
      error: event.error ?? null,
      summary: event.summary ?? null,
      at: util.time.nowISO8601(),
    },
  };
}

export function response(ctx: Context<MutationPublishSyncProgressArgs>) {
  if (ctx.error) util.error(ctx.error.message, ctx.error.type);
  return ctx.result;
}
