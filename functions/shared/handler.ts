/**
 * Thin-handler wrapper for AppSync Lambda data sources: API errors become values the resolver reports;
 * anything else is logged (name and message only, never the event, which may carry tokens) and
 * reported as InternalError with a reference id.
 */
import { randomUUID } from 'node:crypto';
import type { LambdaEvent } from '#contract/lambda-events';
import { ApiError, UnauthorizedError, ValidationError, type HandlerResult } from './errors';
import { MalBadRequestError, MalBlockedError, MalNotFoundError, MalReloginRequiredError, MalThrottledError, MalUnavailableError } from '../mal/errors';
import { METRIC } from '#contract/metrics';
import { emitMetric } from './metrics';
import { componentLogger, errorFields } from './logger';

const log = componentLogger('api-handler');

/** MAL client errors in the API's error model: what a client can act on, without MAL's internals. */
export function apiErrorFromMal(error: unknown): ApiError | undefined {
  if (error instanceof MalReloginRequiredError) {
    return new ApiError('MalReloginRequired', 'MyAnimeList no longer accepts this account\'s authorisation: sign in with MAL again', { action: 'START_LOGIN' }, { cause: error });
  }
  if (error instanceof MalBlockedError) {
    emitMetric(METRIC.MalBlocked);
    return new ApiError('MalBlocked', 'MyAnimeList is blocking AnimeLog\'s requests right now; try again later', { retryAfterSeconds: 900 }, { cause: error });
  }
  if (error instanceof MalThrottledError || error instanceof MalUnavailableError) {
    return new ApiError('MalUnavailable', 'MyAnimeList is not answering right now; try again later', { retryAfterSeconds: 60 }, { cause: error });
  }
  if (error instanceof MalNotFoundError) return new ApiError('NotFound', 'MyAnimeList has no such entry', null, { cause: error });
  if (error instanceof MalBadRequestError) return new ApiError('ValidationError', 'MyAnimeList refused the request as invalid', { status: error.status ?? null }, { cause: error });
  return undefined;
}

export function apiHandler<E, T>(name: string, run: (event: E) => Promise<T>): (event: E) => Promise<HandlerResult<T>> {
  return async (event: E) => {
    try {
      return { data: await run(event) };
    } catch (error) {
      const apiError = error instanceof ApiError ? error : apiErrorFromMal(error);
      if (apiError) {
        return { error: { errorType: apiError.errorType, message: apiError.message, errorInfo: apiError.errorInfo } };
      }
      const reference = randomUUID();
      const e = error;
      log.error('handler fault', { handler: name, reference, ...errorFields(e) });
      return { error: { errorType: 'InternalError', message: 'An internal error occurred.', errorInfo: { reference } } };
    }
  };
}

/** One function per field a Lambda data source serves: `(userId, args)` of that field's event. */
export type FieldRoutes<Args extends object> = { [F in keyof Args & string]: (userId: string | null, args: Args[F]) => Promise<unknown> };

/**
 * A data source's handler from its field → function map: dispatches `{ field, userId, args }` (the shape
 * every resolver sends) and reports an unknown field as a ValidationError.
 */
export function fieldHandler<Args extends object>(name: string, routes: FieldRoutes<Args>) {
  return apiHandler(name, async (event: LambdaEvent<keyof Args & string, Args[keyof Args & string]>) => {
    const route = Object.hasOwn(routes, event.field) ? routes[event.field] : undefined;
    if (!route) throw new ValidationError(`${name} does not serve field ${String(event.field)}`);
    return route(event.userId, event.args);
  });
}

/** The caller of a field that acts for a signed-in user (the resolver passes it from the authorizer). */
export function signedIn(userId: string | null): string {
  if (!userId) throw new UnauthorizedError();
  return userId;
}
