/**
 * Mutation.publishSyncProgress — the sync worker's progress event (IAM only, per the schema). Nothing is
 * stored: the mutation exists so that `onSyncProgress` subscribers are triggered with its result.
 * @dataSource None
 */
import { util, type Context } from '@aws-appsync/utils';
import type { MutationPublishSyncProgressArgs } from '../generated/graphql';
import { apiError } from './lib/errors';

export function request(ctx: Context<MutationPublishSyncProgressArgs>) {
  const event = ctx.args.event;
  if (event.seq < 1) apiError('ValidationError', 'seq counts from 1', { field: 'seq' });
  if (event.processed < 0 || event.total < 0) apiError('ValidationError', 'processed and total cannot be negative', { field: 'processed' });
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
      etaSeconds: event.etaSeconds ?? null,
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
