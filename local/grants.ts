/**
 * IAM for the local runtime. DynamoDB Local (and the in-process stand-ins for KMS, SQS and the IAM-signed
 * publish) check no permissions, so a missing grant would only show up after a deploy. Here every AWS call
 * a function makes is checked against that function's grants — `grantedActions()` of its definition in
 * contract/functions.ts, the same list CDK turns into its role's policy — and refused the way AWS refuses
 * it: DynamoDB answers HTTP 400 `AccessDeniedException`, the stand-ins throw an `AccessDeniedException`.
 *
 * Functions run in-process and share module-level clients, so the caller is tracked per invocation
 * (AsyncLocalStorage): the data-source invoker, the authorizer and the sync worker runner enter it.
 * Calls outside any invocation (test fixtures, the local runtime itself) are not a function's and pass.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Readable } from 'node:stream';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { grantResourceKey, isGranted, type FunctionDefinition, type FunctionId, type GrantResource } from '#contract/functions';
import { TABLES, type TableId } from '#contract/tables';
import { tableName } from '../functions/shared/config';
import type { AccessChecker } from '../functions/shared/aws-access';

const invocation = new AsyncLocalStorage<FunctionId>();

/** Runs `work` as an invocation of function `id`: its AWS calls are checked against `id`'s grants. */
export function runAsFunction<T>(id: FunctionId, work: () => T): T {
  return invocation.run(id, work);
}

/** The handler, each call of it an invocation of function `id`. */
export function asFunction<E, R>(id: FunctionId, handler: (event: E) => Promise<R>): (event: E) => Promise<R> {
  return (event: E) => runAsFunction(id, () => handler(event));
}

/** The function whose invocation is running, if any. */
export function currentFunction(): FunctionId | undefined {
  return invocation.getStore();
}

export class AccessDeniedException extends Error {
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 400 };
  constructor(message: string) {
    super(message);
    this.name = 'AccessDeniedException';
  }
}

export interface GrantCheckerOptions {
  definitions: readonly FunctionDefinition[];
  stage: string;
  region: string;
  accountId: string;
}

/** One DynamoDB item-level permission check: the IAM action and the table name it is on. */
interface DynamoDBAccess {
  action: string;
  table: string;
}

/** The permissions a DynamoDB API call needs (TransactWrite/TransactGet are authorised per item). */
export function dynamoDBAccesses(operation: string, input: Record<string, any>): DynamoDBAccess[] {
  const per = (action: string, table: unknown) => ({ action: `dynamodb:${action}`, table: String(table) });
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys(input.RequestItems ?? {}).map((table) => per(operation, table));
    case 'TransactWriteItems':
      return (input.TransactItems ?? []).flatMap((item: Record<string, { TableName?: string }>) => {
        const out: DynamoDBAccess[] = [];
        if (item.Put) out.push(per('PutItem', item.Put.TableName));
        if (item.Update) out.push(per('UpdateItem', item.Update.TableName));
        if (item.Delete) out.push(per('DeleteItem', item.Delete.TableName));
        if (item.ConditionCheck) out.push(per('ConditionCheckItem', item.ConditionCheck.TableName));
        return out;
      });
    case 'TransactGetItems':
      return (input.TransactItems ?? []).map((item: { Get?: { TableName?: string } }) => per('GetItem', item.Get?.TableName));
    default:
      return [per(operation, input.TableName)];
  }
}

export function createGrantChecker(options: GrantCheckerOptions): AccessChecker {
  const byId = new Map(options.definitions.map((d) => [d.id, d]));
  const roleArn = (id: FunctionId) => `arn:aws:sts::${options.accountId}:assumed-role/animelog-${options.stage}-${id}/animelog-${options.stage}-${id}`;
  const arnOf = (resource: GrantResource | undefined, fallback: string) => {
    if (!resource) return fallback;
    const base = `arn:aws:*:${options.region}:${options.accountId}`;
    if (resource.kind === 'table') return `arn:aws:dynamodb:${options.region}:${options.accountId}:table/${tableName(resource.table)}`;
    return `${base}:${grantResourceKey(resource)}`;
  };
  const denial = (id: FunctionId, action: string, resourceArn: string) =>
    `User: ${roleArn(id)} is not authorized to perform: ${action} on resource: ${resourceArn} because no identity-based policy allows the ${action} action`;
  const allowed = (id: FunctionId, action: string, resource: GrantResource | undefined) => {
    const definition = byId.get(id);
    return Boolean(definition && resource && isGranted(definition, action, resource));
  };
  const tableIdOf = (name: string): TableId | undefined => TABLES.find((t) => tableName(t.id) === name)?.id;

  return {
    authorize(action, resource) {
      const id = currentFunction();
      if (!id || allowed(id, action, resource)) return;
      throw new AccessDeniedException(denial(id, action, arnOf(resource, grantResourceKey(resource))));
    },
    checkHttp(request: HttpRequest) {
      const id = currentFunction();
      if (!id) return undefined;
      const target = String(request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '');
      const [service, operation] = target.split('.');
      if (service !== 'DynamoDB_20120810' || !operation) return undefined;
      let input: Record<string, any> = {};
      try {
        input = JSON.parse(typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body as Uint8Array));
      } catch {
        return undefined;
      }
      for (const access of dynamoDBAccesses(operation, input)) {
        const table = tableIdOf(access.table);
        const resource: GrantResource | undefined = table ? { kind: 'table', table } : undefined;
        if (allowed(id, access.action, resource)) continue;
        const arn = `arn:aws:dynamodb:${options.region}:${options.accountId}:table/${access.table}`;
        const body = JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: denial(id, access.action, arn) });
        return new HttpResponse({
          statusCode: 400,
          headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `local-${Date.now()}` },
          body: Readable.from([Buffer.from(body)]),
        });
      }
      return undefined;
    },
  };
}
