/**
 * Named errors of the MAL client. Every message says what failed and where (method + path), never a token;
 * `cause` is a sanitised error (no request object, so no Authorization header can leak through it).
 */

export interface MalErrorDetails {
  method: string;
  /** URL path of the call, e.g. `/v2/users/@me` (no query: queries never carry secrets, but keep it short). */
  path: string;
  /** HTTP status, when MAL answered. */
  status?: number;
  /** MAL's `error` code from the body (`invalid_token`, `invalid_grant`, `bad_request`…). */
  malError?: string;
  /** MAL's `message`/`hint`, when given. */
  malMessage?: string;
  /** How many attempts were made (1 = no retry). */
  attempts?: number;
  cause?: unknown;
}

export class MalError extends Error {
  static readonly errorName: string = 'MalError';
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly malError?: string;
  readonly malMessage?: string;
  readonly attempts?: number;

  constructor(summary: string, details: MalErrorDetails) {
    const status = details.status === undefined ? '' : ` ${details.status}`;
    const code = details.malError ? ` ${details.malError}` : '';
    const message = details.malMessage ? ` (${details.malMessage})` : '';
    const attempts = details.attempts && details.attempts > 1 ? ` after ${details.attempts} attempts` : '';
    super(`MAL ${details.method} ${details.path} failed:${status}${code}${message}${attempts} — ${summary}`, {
      cause: details.cause,
    });
    // The class's own errorName: a string, so the name survives the bundles' minification.
    this.name = (new.target as typeof MalError).errorName;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.malError = details.malError;
    this.malMessage = details.malMessage;
    this.attempts = details.attempts;
  }
}

/** Authentication refused: bad client credentials, or a user token MAL no longer accepts. */
export class MalAuthError extends MalError {
  static override readonly errorName: string = 'MalAuthError';
}

/** The user's MAL authorisation is gone (refresh token revoked/expired, or refreshed token refused): sign in again. */
export class MalReloginRequiredError extends MalAuthError {
  static override readonly errorName: string = 'MalReloginRequiredError';
}

/** MAL kept saying "slow down" (429, or 403 used as a throttle) past the retry budget. */
export class MalThrottledError extends MalError {
  static override readonly errorName: string = 'MalThrottledError';
}

/** MAL is down or unreachable: 5xx, timeouts, network errors past the retry budget. */
export class MalUnavailableError extends MalError {
  static override readonly errorName: string = 'MalUnavailableError';
}

export class MalNotFoundError extends MalError {
  static override readonly errorName: string = 'MalNotFoundError';
}

/** MAL refused the request as malformed (400), or the client refused to send it. */
export class MalBadRequestError extends MalError {
  static override readonly errorName: string = 'MalBadRequestError';
}

/** MAL answered something this client does not understand (unexpected status or shape). */
export class MalResponseError extends MalError {
  static override readonly errorName: string = 'MalResponseError';
}

/**
 * MAL is blocking this client (most likely its IP range: MAL is known to block cloud providers): an HTML
 * "blocked"/"access denied" page instead of the API's JSON, or a storm of 403s that no backoff ends.
 * Not the user's fault and not fixed by retrying soon: callers pause and resume later.
 */
export class MalBlockedError extends MalThrottledError {
  static override readonly errorName: string = 'MalBlockedError';
  constructor(
    summary: string,
    details: MalErrorDetails,
    readonly evidence: 'block-page' | '403-storm',
  ) {
    super(summary, details);
  }
}
