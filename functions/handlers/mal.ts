/** MalFunction: public MAL anime info and direct changes to the caller's MAL list. */
import { apiHandler } from '../shared/handler';
import { ValidationError } from '../shared/errors';
import { getMalAnime, updateSeriesStatus, type SeriesStatusInput } from '../catalog/mal-anime';

export type MalEvent = { field: 'malAnime'; userId: string; malId: number } | { field: 'updateSeriesStatus'; userId: string; input: SeriesStatusInput };

export const handler = apiHandler('mal', async (event: MalEvent) => {
  switch (event.field) {
    case 'malAnime':
      return getMalAnime(event.userId, event.malId);
    case 'updateSeriesStatus':
      return updateSeriesStatus(event.userId, event.input);
    default:
      throw new ValidationError('unknown MAL operation');
  }
});
