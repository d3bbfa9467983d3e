/**
 * The API's error model: a closed set of `errorType` values, each with `errorInfo` a client can act on
 * (docs/api.md lists them), and the shape a Lambda data source returns them in. Functions throw named
 * errors that carry one of these types; resolvers report them with `util.error` (resolvers/lib/errors.ts).
 */
export const ERROR_TYPES = [
  'ValidationError',
  'Unauthorized',
  'NotFound',
  'Conflict',
  'LimitExceeded',
  'MalUnavailable',
  'MalBlocked',
  'MalReloginRequired',
  'InternalError',
] as const;

export type ErrorType = (typeof ERROR_TYPES)[number];

export type ErrorInfo = Record<string, unknown> | null;

/** What a Lambda data source returns: the resolver turns `error` into `util.error(message, errorType, null, errorInfo)`. */
export type HandlerResult<T> =
  | { data: T; error?: undefined }
  | { data?: undefined; error: { errorType: ErrorType; message: string; errorInfo: ErrorInfo } };
