/**
 * Thin-handler wrapper for AppSync Lambda data sources: API errors become values the resolver reports;
 * anything else is logged (name and message only, never the event, which may carry tokens) and
 * reported as InternalError with a reference id.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, type HandlerResult } from './errors';

export function apiHandler<E, T>(name: string, run: (event: E) => Promise<T>): (event: E) => Promise<HandlerResult<T>> {
  return async (event: E) => {
    try {
      return { data: await run(event) };
    } catch (error) {
      if (error instanceof ApiError) {
        return { error: { errorType: error.errorType, message: error.message, errorInfo: error.errorInfo } };
      }
      const reference = randomUUID();
      const e = error as Error;
      console.error(JSON.stringify({ level: 'error', handler: name, reference, error: e?.name, message: e?.message }));
      return { error: { errorType: 'InternalError', message: 'An internal error occurred.', errorInfo: { reference } } };
    }
  };
}
