/**
 * The local data sources behind resolvers: DynamoDB tables (DynamoDB Local), Lambda functions (the same
 * handlers, invoked in-process with AppSync's event shape) and NONE.
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { DATA_SOURCES, findDataSource, type LambdaFunctionId } from '#contract/datasources';
import { FUNCTIONS, type FunctionId } from '#contract/functions';
import { physicalTableName, type TableId } from '#contract/tables';
import { executeDynamoDBRequest } from './dynamodb-datasource';
import type { DynamoDBCaller } from './dynamodb-json-client';
import { AccessDeniedException, runAsFunction } from '../grants';
import type { AppSyncContext, DataSourceInvoker } from './executor';

export type LambdaHandler = (event: unknown) => Promise<unknown>;

/** Imports a function's handler from its entry in contract/functions.ts. */
export async function loadHandler(root: string, id: FunctionId): Promise<LambdaHandler> {
  const definition = FUNCTIONS.find((f) => f.id === id);
  if (!definition) throw new Error(`function ${id} is not defined in contract/functions.ts`);
  const module = (await import(pathToFileURL(join(root, definition.entry)).href)) as { handler?: LambdaHandler };
  if (typeof module.handler !== 'function') throw new Error(`${definition.entry} exports no handler`);
  return module.handler;
}

/**
 * As in AWS, an error thrown by a handler reaches the resolver as `ctx.error` with the error's name as
 * type. Our handlers return API errors as values (functions/shared/handler.ts), so a thrown error is a
 * fault that resolvers report as InternalError without its message.
 */
function lambdaError(error: unknown): { message: string; type: string } {
  const e = error as { name?: string; message?: string };
  return { type: e?.name ?? 'Error', message: String(e?.message ?? error) };
}

export function createDataSourceInvoker(options: {
  /** AppSync's own access to the tables (a DynamoDBJsonClient), not the functions' SDK client. */
  dynamodb: DynamoDBCaller;
  stage: string;
  lambdas: Partial<Record<LambdaFunctionId, LambdaHandler>>;
}): DataSourceInvoker {
  const logicalToPhysical = (logical: string) => {
    const table = DATA_SOURCES.find((d) => d.kind === 'dynamodb' && (d.name === logical || d.table === logical));
    return table && table.kind === 'dynamodb' ? physicalTableName(table.table, options.stage) : physicalTableName(logical as TableId, options.stage);
  };
  return async (name: string, request: unknown, ctx: AppSyncContext) => {
    const definition = findDataSource(name);
    if (!definition) return { error: { type: 'InvalidRequest', message: `unknown data source ${name}` } };
    if (definition.kind === 'dynamodb') {
      const own = physicalTableName(definition.table, options.stage);
      // CDK grants a DynamoDB data source's role its own table only: a batch or transaction naming
      // another table is refused as IAM would (ctx.error type DynamoDB:AccessDeniedException).
      const ownTableOnly = (logical: string) => {
        const physical = logicalToPhysical(logical);
        if (physical !== own) {
          throw new AccessDeniedException(
            `User: arn:aws:sts::000000000000:assumed-role/${name}ServiceRole/APPSYNC_ASSUME_ROLE is not authorized to perform: dynamodb:* on resource: arn:aws:dynamodb:us-east-1:000000000000:table/${physical} because no identity-based policy allows it`,
          );
        }
        return physical;
      };
      return executeDynamoDBRequest(options.dynamodb, own, request, ownTableOnly);
    }
    if (definition.kind === 'none') {
      const payload = (request as { payload?: unknown } | null)?.payload;
      return { result: payload ?? null };
    }
    const handler = options.lambdas[definition.function];
    if (!handler) return { error: { type: 'Lambda:Unhandled', message: `function ${definition.function} is not available locally` } };
    const invoke = request as { operation?: string; payload?: unknown };
    if (invoke?.operation !== 'Invoke' && invoke?.operation !== 'BatchInvoke') {
      return { error: { type: 'InvalidRequest', message: `Lambda request operation must be Invoke or BatchInvoke, got ${String(invoke?.operation)}` } };
    }
    // Without a payload AppSync sends the whole context (arguments, identity, source, request, info, prev, stash).
    const event =
      invoke.payload !== undefined
        ? invoke.payload
        : { arguments: ctx.arguments, identity: ctx.identity, source: ctx.source, request: ctx.request, info: ctx.info, prev: ctx.prev, stash: ctx.stash };
    try {
      // A JSON round trip: the handler sees what it would see after AppSync serialised the event.
      // One invocation of the function: its AWS calls are checked against its grants (local/grants.ts).
      const payload = JSON.parse(JSON.stringify(event ?? null));
      const result = await runAsFunction(definition.function, () => handler(payload));
      return { result: result === undefined ? null : JSON.parse(JSON.stringify(result)) };
    } catch (error) {
      return { error: lambdaError(error) };
    }
  };
}
