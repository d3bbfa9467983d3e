/**
 * What a resolver sends a Lambda data source: the field it serves, the caller (null for API-key fields)
 * and the field's arguments (codegen's `TypeFieldArgs`). Resolvers build it with `satisfies`, handlers
 * dispatch on `field` through a field → function map.
 */
export interface LambdaEvent<Field extends string = string, Args = Record<string, unknown>> {
  field: Field;
  userId: string | null;
  args: Args;
}

/** Fields whose only input is the caller. */
export type NoArgs = Record<string, never>;

/** Fields that act on the caller's own session (the request's `authorization` header). */
export interface SessionTokenArgs {
  sessionToken: string;
}
