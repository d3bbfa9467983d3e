import { type Context } from '@aws-appsync/utils';
import { response } from './response';
import { apiError } from './errors';

/** A page size within 1–100, as every paginated field documents. */
export function pageLimit(limit: number | null | undefined, fallback: number): number {
  if (limit === null || limit === undefined) return fallback;
  if (limit < 1 || limit > 100) apiError('ValidationError', 'limit must be between 1 and 100', { field: 'limit', min: 1, max: 100 });
  return limit;
}

/** A Query/Scan result as a connection: the page's items and the cursor, null on the last page. */
export function pageResponse(ctx: Context) {
  const result = response(ctx) as { items: Record<string, unknown>[]; nextToken?: string };
  return { items: result.items, nextToken: result.nextToken ? result.nextToken : null };
}
