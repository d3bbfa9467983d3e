// Signals used to unwind a resolver running in node:vm. AppSync stops a resolver when
// `util.error` or `runtime.earlyReturn` is called; we emulate that with throws that the
// executor catches by class (`instanceof`) and never lets reach the resolver's caller.

/** One entry of the GraphQL response's `errors` array as AppSync shapes it. */
export type AppSyncGraphQLError = {
  message: string;
  errorType?: string;
  data?: unknown;
  errorInfo?: unknown;
};

/** Thrown by `util.error(message, errorType?, data?, errorInfo?)`. */
export class UtilErrorSignal extends Error {
  override readonly name = 'UtilErrorSignal';
  readonly errorType?: string;
  readonly data?: unknown;
  readonly errorInfo?: unknown;

  constructor(message: string, errorType?: string, data?: unknown, errorInfo?: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.errorType = errorType;
    this.data = data;
    this.errorInfo = errorInfo;
  }

  /** The GraphQL error entry AppSync reports for this `util.error` call. */
  toGraphQLError(): AppSyncGraphQLError {
    const error: AppSyncGraphQLError = { message: this.message };
    if (this.errorType !== undefined) error.errorType = this.errorType;
    if (this.data !== undefined) error.data = this.data;
    if (this.errorInfo !== undefined) error.errorInfo = this.errorInfo;
    return error;
  }
}

/** Thrown by `runtime.earlyReturn(value?)`; the executor uses `value` as the result. */
export class EarlyReturnSignal extends Error {
  override readonly name = 'EarlyReturnSignal';
  readonly value: unknown;
  /** `{ skipTo: 'END' | 'NEXT' }` from `runtime.earlyReturn(obj, returnOptions)`, if given. */
  readonly returnOptions?: { skipTo: 'END' | 'NEXT' };

  constructor(value?: unknown, returnOptions?: { skipTo: 'END' | 'NEXT' }, options?: { cause?: unknown }) {
    super('runtime.earlyReturn', options);
    this.value = value;
    this.returnOptions = returnOptions;
  }
}

export function isUtilErrorSignal(e: unknown): e is UtilErrorSignal {
  return e instanceof UtilErrorSignal;
}

export function isEarlyReturnSignal(e: unknown): e is EarlyReturnSignal {
  return e instanceof EarlyReturnSignal;
}
