/**
 * Query.stats — the caller's statistics, as the sync worker keeps them (one GetItem).
 * @dataSource UsersTable
 */
import type { Context } from '@aws-appsync/utils';
import { get } from '@aws-appsync/utils/dynamodb';
import { STATS_SK } from '#contract/keys';
import { callerUserId } from './lib/identity';
import { response as sharedResponse } from './lib/response';

export function request(ctx: Context) {
  return get({ key: { userId: callerUserId(ctx), sk: STATS_SK }, consistentRead: true });
}

export function response(ctx: Context) {
  const item = sharedResponse(ctx);
  const watch = item && item.watch ? item.watch : {};
  const malChanges = item && item.malChanges ? item.malChanges : 0;
  const perEpisodeRequests = watch.episodesSynced ? watch.episodesSynced : 0;
  return {
    episodesWatched: watch.episodesWatched ? watch.episodesWatched : 0,
    hoursWatched: watch.hoursWatched ? watch.hoursWatched : 0,
    episodesWithoutDuration: watch.episodesWithoutDuration ? watch.episodesWithoutDuration : 0,
    byMonth: watch.byMonth ? watch.byMonth : [],
    bySeries: watch.bySeries ? watch.bySeries : [],
    seasonsSynced: watch.seasonsSynced ? watch.seasonsSynced : 0,
    seasonsPendingReview: watch.seasonsPendingReview ? watch.seasonsPendingReview : 0,
    seasonsNeverSynced: watch.seasonsNeverSynced ? watch.seasonsNeverSynced : 0,
    malChanges,
    perEpisodeRequests,
    malRequestsSaved: perEpisodeRequests > malChanges ? perEpisodeRequests - malChanges : 0,
    updatedAt: item && item.updatedAt ? item.updatedAt : null,
  };
}
