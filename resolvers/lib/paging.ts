import { util } from '@aws-appsync/utils';

/** A page size within 1–100, as every paginated field documents. */
export function pageLimit(limit: number | null | undefined, fallback: number): number {
  if (limit === null || limit === undefined) return fallback;
  if (limit < 1 || limit > 100) util.error('limit must be between 1 and 100', 'ValidationError', null, { field: 'limit', min: 1, max: 100 });
  return limit;
}
