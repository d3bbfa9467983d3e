/** MalFunction: MAL anime info and direct changes to the caller's MAL list. */
import type { MutationUpdateSeriesStatusArgs, QueryMalAnimeArgs } from '../../generated/graphql';
import { fieldHandler, signedIn } from '../shared/handler';
import { getMalAnime, updateSeriesStatus, type SeriesStatusInput } from '../catalog/mal-anime';

export interface MalArgs {
  malAnime: QueryMalAnimeArgs;
  updateSeriesStatus: MutationUpdateSeriesStatusArgs;
}

export const handler = fieldHandler<MalArgs>('mal', {
  malAnime: (userId, args) => getMalAnime(signedIn(userId), args.malId),
  updateSeriesStatus: (userId, args) => updateSeriesStatus(signedIn(userId), args.input as SeriesStatusInput),
});
