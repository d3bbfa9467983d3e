/**
 * The API's data sources, defined once for CDK and the local runtime. Resolver files name theirs in a
 * `@dataSource` tag (see scripts/build-resolvers.ts), so wiring is derived from the resolver files.
 */
import type { TableId } from './tables';

export type LambdaFunctionId = 'auth' | 'mal' | 'history' | 'sync-control' | 'account';

export type DataSourceDefinition =
  | { name: string; kind: 'dynamodb'; table: TableId }
  | { name: string; kind: 'lambda'; function: LambdaFunctionId }
  | { name: string; kind: 'none' };

export const DATA_SOURCES: readonly DataSourceDefinition[] = [
  { name: 'UsersTable', kind: 'dynamodb', table: 'users' },
  { name: 'SeriesDataTable', kind: 'dynamodb', table: 'series-data' },
  { name: 'MalMappingsTable', kind: 'dynamodb', table: 'mal-mappings' },
  { name: 'SyncJobsTable', kind: 'dynamodb', table: 'sync-jobs' },
  { name: 'SyncHistoryTable', kind: 'dynamodb', table: 'sync-history' },
  // The per-user request counter (resolvers/functions/countRequest.ts).
  { name: 'RateLimitsTable', kind: 'dynamodb', table: 'rate-limits' },
  { name: 'AuthFunction', kind: 'lambda', function: 'auth' },
  { name: 'MalFunction', kind: 'lambda', function: 'mal' },
  { name: 'HistoryFunction', kind: 'lambda', function: 'history' },
  { name: 'SyncControlFunction', kind: 'lambda', function: 'sync-control' },
  { name: 'AccountFunction', kind: 'lambda', function: 'account' },
  { name: 'None', kind: 'none' },
];

/** The data source named `name`, or undefined when there is none (callers say what they were wiring). */
export function findDataSource(name: string): DataSourceDefinition | undefined {
  for (const d of DATA_SOURCES) if (d.name === name) return d;
  return undefined;
}
