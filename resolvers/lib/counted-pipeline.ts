/**
 * The pipeline the build puts around each root Query/Mutation resolver: countRequest, then the field's
 * own resolver (its bundle unchanged, run as a pipeline function); the field's value is the last
 * function's result.
 */
import type { Context } from '@aws-appsync/utils';

export function request() {
  return {};
}

export function response(ctx: Context) {
  return ctx.prev.result;
}
