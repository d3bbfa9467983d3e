// Executes the request objects an APPSYNC_JS resolver returns for a DynamoDB data source,
// against any DynamoDB endpoint (DynamoDB's JSON protocol, dynamodb-json-client.ts), and shapes
// results the way AppSync hands them to ctx.result.
// Errors never throw: they come back as { error: { message, type } } for ctx.error, with the
// DynamoDB exception name prefixed "DynamoDB:" as AppSync does.
import {
  fromWireItem,
  InvalidAttributeValueError,
  isPlainObject,
  toWireAttributeMap,
  type AttributeValue,
} from './dynamodb-value-helpers';
import type { DynamoDBCaller } from './dynamodb-json-client';

export type DynamoDBDataSourceError = { message: string; type: string };
export type DynamoDBDataSourceResult = { result?: unknown; error?: DynamoDBDataSourceError };
export type TableNameResolver = (logicalName: string) => string;

/** A malformed request object: AppSync rejects it before calling DynamoDB. */
export class InvalidDynamoDBRequestError extends Error {
  override readonly name = 'InvalidDynamoDBRequestError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

type Req = Record<string, unknown>;
type WireItem = Record<string, AttributeValue>;
type WriteRequest = { PutRequest?: { Item: WireItem }; DeleteRequest?: { Key: WireItem } };
type Expr = { expression: string; expressionNames?: Record<string, string>; expressionValues?: Record<string, AttributeValue> };

const NEXT_TOKEN_PREFIX = 'alnt1.';

/** Opaque pagination token: base64url of the LastEvaluatedKey in DynamoDB's wire form. */
export function encodeNextToken(lastEvaluatedKey: Record<string, AttributeValue> | undefined): string | null {
  if (!lastEvaluatedKey) return null;
  return NEXT_TOKEN_PREFIX + Buffer.from(JSON.stringify(lastEvaluatedKey), 'utf8').toString('base64url');
}

export function decodeNextToken(token: unknown): Record<string, AttributeValue> | undefined {
  if (token === null || token === undefined || token === '') return undefined;
  if (typeof token !== 'string' || !token.startsWith(NEXT_TOKEN_PREFIX)) {
    throw new InvalidDynamoDBRequestError('Invalid nextToken');
  }
  try {
    const parsed = JSON.parse(Buffer.from(token.slice(NEXT_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
    return toWireAttributeMap(parsed, 'nextToken');
  } catch (e) {
    throw new InvalidDynamoDBRequestError('Invalid nextToken', { cause: e });
  }
}

function requireMap(req: Req, field: string): Record<string, AttributeValue> {
  if (!isPlainObject(req[field])) throw new InvalidDynamoDBRequestError(`'${field}' is required and must be a map of typed values`);
  return toWireAttributeMap(req[field], field);
}

function optionalExpr(value: unknown, field: string): Expr | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value) || typeof value.expression !== 'string') {
    throw new InvalidDynamoDBRequestError(`'${field}.expression' must be a string`);
  }
  const expr: Expr = { expression: value.expression };
  if (isPlainObject(value.expressionNames) && Object.keys(value.expressionNames).length > 0) {
    expr.expressionNames = value.expressionNames as Record<string, string>;
  }
  if (isPlainObject(value.expressionValues) && Object.keys(value.expressionValues).length > 0) {
    expr.expressionValues = toWireAttributeMap(value.expressionValues, `${field}.expressionValues`);
  }
  return expr;
}

/** DynamoDB rejects empty expressions; AppSync treats an empty filter as no filter. */
function nonEmpty(expr: Expr | undefined): Expr | undefined {
  return expr && expr.expression.trim() !== '' ? expr : undefined;
}

// Names and values from several expressions share one ExpressionAttribute* map in DynamoDB.
function mergeExprs(...exprs: Array<Expr | undefined>) {
  const names: Record<string, string> = {};
  const values: Record<string, AttributeValue> = {};
  for (const e of exprs) {
    if (!e) continue;
    Object.assign(names, e.expressionNames ?? {});
    Object.assign(values, e.expressionValues ?? {});
  }
  return {
    ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
    ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
  };
}

function projectionOf(req: Req): Expr | undefined {
  return nonEmpty(optionalExpr(req.projection, 'projection'));
}

function itemOrNull(item: Record<string, AttributeValue> | undefined): Record<string, unknown> | null {
  return item ? fromWireItem(item) : null;
}

function typedError(e: unknown): DynamoDBDataSourceError {
  if (e instanceof InvalidDynamoDBRequestError || e instanceof InvalidAttributeValueError) {
    return { message: e.message, type: 'DynamoDB:ValidationException' };
  }
  const err = e as { name?: string; message?: string };
  const name = err?.name && err.name !== 'Error' ? err.name : 'InternalFailure';
  return { message: err?.message ?? String(e), type: `DynamoDB:${name}` };
}

function selectOf(req: Req): string | undefined {
  const s = req.select;
  if (s === undefined || s === null) return undefined;
  // AppSync's names map onto DynamoDB's Select values.
  const map: Record<string, string> = {
    ALL_ATTRIBUTES: 'ALL_ATTRIBUTES',
    ALL_PROJECTED_ATTRIBUTES: 'ALL_PROJECTED_ATTRIBUTES',
    SPECIFIC_ATTRIBUTES: 'SPECIFIC_ATTRIBUTES',
  };
  if (typeof s !== 'string' || !map[s]) throw new InvalidDynamoDBRequestError(`Invalid select: ${String(s)}`);
  return map[s];
}

function limitOf(req: Req): number | undefined {
  if (req.limit === undefined || req.limit === null) return undefined;
  if (typeof req.limit !== 'number' || !Number.isInteger(req.limit) || req.limit < 1) {
    throw new InvalidDynamoDBRequestError(`Invalid limit: ${String(req.limit)}`);
  }
  return req.limit;
}

function sameItem(a: Record<string, unknown>, b: Record<string, unknown>, ignore: Set<string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => !ignore.has(k)));
  for (const k of keys) if (JSON.stringify(sortDeep(a[k])) !== JSON.stringify(sortDeep(b[k]))) return false;
  return true;
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (isPlainObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep(v[k])]));
  return v;
}

function isConditionalFailure(e: unknown): e is { name: string; Item?: Record<string, AttributeValue> } {
  return (e as { name?: string })?.name === 'ConditionalCheckFailedException';
}

async function getItem(client: DynamoDBCaller, table: string, req: Req) {
  const projection = projectionOf(req);
  const out = await client.call('GetItem', {
    TableName: table,
    Key: requireMap(req, 'key'),
    ConsistentRead: req.consistentRead === true ? true : undefined,
    ProjectionExpression: projection?.expression,
    ...mergeExprs(projection),
  });
  return itemOrNull(out.Item);
}

async function putItem(client: DynamoDBCaller, table: string, req: Req): Promise<DynamoDBDataSourceResult> {
  const key = requireMap(req, 'key');
  const attributes = req.attributeValues === undefined ? {} : requireMap(req, 'attributeValues');
  const item = { ...attributes, ...key };
  const condition = nonEmpty(optionalExpr(req.condition, 'condition'));
  try {
    await client.call('PutItem', {
      TableName: table,
      Item: item,
      ConditionExpression: condition?.expression,
      ...mergeExprs(condition),
      ReturnValuesOnConditionCheckFailure: condition ? 'ALL_OLD' : undefined,
    });
    return { result: fromWireItem(item) };
  } catch (e) {
    if (isConditionalFailure(e)) {
      // AppSync: if the stored item already equals the desired one, the write counts as done.
      const current = await currentItem(client, table, key, e.Item);
      const ignore = new Set(equalsIgnore(req.condition));
      if (current && sameItem(current, fromWireItem(item), ignore)) return { result: current };
      return { error: typedError(e) };
    }
    throw e;
  }
}

function equalsIgnore(condition: unknown): string[] {
  return isPlainObject(condition) && Array.isArray(condition.equalsIgnore) ? condition.equalsIgnore.map(String) : [];
}

async function currentItem(
  client: DynamoDBCaller,
  table: string,
  key: Record<string, AttributeValue>,
  fromError: Record<string, AttributeValue> | undefined,
): Promise<Record<string, unknown> | null> {
  if (fromError) return fromWireItem(fromError);
  const out = await client.call('GetItem', { TableName: table, Key: key, ConsistentRead: true });
  return itemOrNull(out.Item);
}

async function updateItem(client: DynamoDBCaller, table: string, req: Req): Promise<DynamoDBDataSourceResult> {
  const update = optionalExpr(req.update, 'update');
  if (!update || update.expression.trim() === '') throw new InvalidDynamoDBRequestError("'update.expression' is required");
  const condition = nonEmpty(optionalExpr(req.condition, 'condition'));
  try {
    const out = await client.call('UpdateItem', {
      TableName: table,
      Key: requireMap(req, 'key'),
      UpdateExpression: update.expression,
      ConditionExpression: condition?.expression,
      ...mergeExprs(update, condition),
      ReturnValues: 'ALL_NEW',
    });
    return { result: itemOrNull(out.Attributes) };
  } catch (e) {
    if (isConditionalFailure(e)) return { error: typedError(e) };
    throw e;
  }
}

async function deleteItem(client: DynamoDBCaller, table: string, req: Req): Promise<DynamoDBDataSourceResult> {
  const key = requireMap(req, 'key');
  const condition = nonEmpty(optionalExpr(req.condition, 'condition'));
  try {
    const out = await client.call('DeleteItem', {
      TableName: table,
      Key: key,
      ConditionExpression: condition?.expression,
      ...mergeExprs(condition),
      ReturnValues: 'ALL_OLD',
    });
    return { result: itemOrNull(out.Attributes) };
  } catch (e) {
    if (isConditionalFailure(e)) {
      // Desired state of a delete is "no item": already there counts as success.
      const current = await currentItem(client, table, key, undefined);
      if (current === null) return { result: null };
      return { error: typedError(e) };
    }
    throw e;
  }
}

async function queryOrScan(client: DynamoDBCaller, table: string, req: Req, kind: 'Query' | 'Scan') {
  const filter = nonEmpty(optionalExpr(req.filter, 'filter'));
  const projection = projectionOf(req);
  const common = {
    TableName: table,
    IndexName: typeof req.index === 'string' && req.index ? req.index : undefined,
    Limit: limitOf(req),
    ExclusiveStartKey: decodeNextToken(req.nextToken),
    ConsistentRead: req.consistentRead === true ? true : undefined,
    Select: selectOf(req) as 'ALL_ATTRIBUTES' | undefined,
    FilterExpression: filter?.expression,
    ProjectionExpression: projection?.expression,
  };
  if (kind === 'Query') {
    const query = optionalExpr(req.query, 'query');
    if (!query || query.expression.trim() === '') throw new InvalidDynamoDBRequestError("'query.expression' is required");
    const out = await client.call('Query', {
      ...common,
      KeyConditionExpression: query.expression,
      ScanIndexForward: req.scanIndexForward === false ? false : undefined,
      ...mergeExprs(query, filter, projection),
    });
    return { items: (out.Items ?? []).map(fromWireItem), nextToken: encodeNextToken(out.LastEvaluatedKey), scannedCount: out.ScannedCount ?? 0 };
  }
  const out = await client.call('Scan', {
    ...common,
    Segment: typeof req.segment === 'number' ? req.segment : undefined,
    TotalSegments: typeof req.totalSegments === 'number' ? req.totalSegments : undefined,
    ...mergeExprs(filter, projection),
  });
  return { items: (out.Items ?? []).map(fromWireItem), nextToken: encodeNextToken(out.LastEvaluatedKey), scannedCount: out.ScannedCount ?? 0 };
}

// Sync without a conflict-detection delta table: a Scan of the base table, shaped as AppSync's
// Sync result ({items, nextToken, startedAt}).
async function sync(client: DynamoDBCaller, table: string, req: Req) {
  const startedAt = Date.now();
  const page = await queryOrScan(client, table, { limit: req.limit, nextToken: req.nextToken, filter: req.filter }, 'Scan');
  return { items: page.items, nextToken: page.nextToken, startedAt };
}

function tablesOf(req: Req, resolve: TableNameResolver): Array<[string, string, unknown]> {
  if (!isPlainObject(req.tables) || Object.keys(req.tables).length === 0) {
    throw new InvalidDynamoDBRequestError("'tables' is required");
  }
  return Object.entries(req.tables).map(([logical, spec]) => [logical, resolve(logical), spec]);
}

function keyString(key: Record<string, unknown>): string {
  return JSON.stringify(sortDeep(key));
}

async function batchGet(client: DynamoDBCaller, req: Req, resolve: TableNameResolver) {
  const tables = tablesOf(req, resolve);
  const requestItems: Record<string, { Keys: Record<string, AttributeValue>[]; ConsistentRead?: boolean; ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string> }> = {};
  const wanted: Record<string, Array<Record<string, AttributeValue>>> = {};
  for (const [logical, physical, spec] of tables) {
    if (!isPlainObject(spec) || !Array.isArray(spec.keys)) throw new InvalidDynamoDBRequestError(`'tables.${logical}.keys' must be a list`);
    const keys = spec.keys.map((k, i) => toWireAttributeMap(k, `tables.${logical}.keys[${i}]`));
    wanted[logical] = keys;
    const projection = nonEmpty(optionalExpr(spec.projection, `tables.${logical}.projection`));
    requestItems[physical] = {
      Keys: keys,
      ConsistentRead: spec.consistentRead === true ? true : undefined,
      ProjectionExpression: projection?.expression,
      ExpressionAttributeNames: projection?.expressionNames,
    };
  }
  const out = await client.call<{ Responses?: Record<string, WireItem[]>; UnprocessedKeys?: Record<string, { Keys?: WireItem[] }> }>('BatchGetItem', { RequestItems: requestItems });
  const data: Record<string, Array<Record<string, unknown> | null>> = {};
  const unprocessedKeys: Record<string, unknown[]> = {};
  for (const [logical, physical] of tables) {
    const returned = (out.Responses?.[physical] ?? []).map(fromWireItem);
    const keys = wanted[logical]!;
    const keyNames = Object.keys(keys[0] ?? {});
    const byKey = new Map(returned.map((item) => [keyString(Object.fromEntries(keyNames.map((n) => [n, item[n]]))), item]));
    // AppSync keeps request order, null where an item is missing or unprocessed.
    data[logical] = keys.map((k) => byKey.get(keyString(fromWireItem(k))) ?? null);
    unprocessedKeys[logical] = (out.UnprocessedKeys?.[physical]?.Keys ?? []).map(fromWireItem);
  }
  return { data, unprocessedKeys };
}

async function batchWrite(client: DynamoDBCaller, req: Req, resolve: TableNameResolver, kind: 'put' | 'delete') {
  const tables = tablesOf(req, resolve);
  const requestItems: Record<string, WriteRequest[]> = {};
  for (const [logical, physical, spec] of tables) {
    if (!Array.isArray(spec)) throw new InvalidDynamoDBRequestError(`'tables.${logical}' must be a list`);
    requestItems[physical] = spec.map((v, i) => {
      const map = toWireAttributeMap(v, `tables.${logical}[${i}]`);
      return kind === 'put' ? { PutRequest: { Item: map } } : { DeleteRequest: { Key: map } };
    });
  }
  const out = await client.call<{ UnprocessedItems?: Record<string, WriteRequest[]> }>('BatchWriteItem', { RequestItems: requestItems });
  const data: Record<string, unknown[]> = {};
  const unprocessed: Record<string, unknown[]> = {};
  for (const [logical, physical, spec] of tables) {
    const left = (out.UnprocessedItems?.[physical] ?? []).map((w) =>
      fromWireItem((kind === 'put' ? w.PutRequest?.Item : w.DeleteRequest?.Key) ?? {}),
    );
    const leftKeys = new Set(left.map((x) => keyString(x)));
    data[logical] = (spec as unknown[]).map((v) => fromWireItem(toWireAttributeMap(v))).map((x) => (leftKeys.has(keyString(x)) ? null : x));
    unprocessed[logical] = left;
  }
  return kind === 'put' ? { data, unprocessedItems: unprocessed } : { data, unprocessedKeys: unprocessed };
}

function transactItemsOf(req: Req): Req[] {
  if (!Array.isArray(req.transactItems) || req.transactItems.length === 0) {
    throw new InvalidDynamoDBRequestError("'transactItems' is required");
  }
  return req.transactItems.map((t, i) => {
    if (!isPlainObject(t) || typeof t.table !== 'string') throw new InvalidDynamoDBRequestError(`'transactItems[${i}].table' is required`);
    return t;
  });
}

type CancellationReason = { type: string; message: string | null; item?: unknown };

function cancellationReasonsOf(e: unknown): CancellationReason[] | null {
  const reasons = (e as { CancellationReasons?: Array<{ Code?: string; Message?: string; Item?: Record<string, AttributeValue> }> })?.CancellationReasons;
  if (!Array.isArray(reasons)) return null;
  return reasons.map((r) => ({
    type: r.Code ?? 'None',
    message: r.Message ?? null,
    ...(r.Item ? { item: fromWireItem(r.Item) } : {}),
  }));
}

async function transactGet(client: DynamoDBCaller, req: Req, resolve: TableNameResolver): Promise<DynamoDBDataSourceResult> {
  const items = transactItemsOf(req);
  try {
    const out = await client.call<{ Responses?: Array<{ Item?: WireItem }> }>('TransactGetItems', {
      TransactItems: items.map((t, i) => {
        const projection = nonEmpty(optionalExpr(t.projection, `transactItems[${i}].projection`));
        return {
          Get: {
            TableName: resolve(t.table as string),
            Key: requireMap(t, 'key'),
            ProjectionExpression: projection?.expression,
            ExpressionAttributeNames: projection?.expressionNames,
          },
        };
      }),
    });
    return { result: { items: (out.Responses ?? []).map((r) => itemOrNull(r.Item)), cancellationReasons: null } };
  } catch (e) {
    const reasons = cancellationReasonsOf(e);
    if (reasons) return { result: { items: null, cancellationReasons: reasons }, error: typedError(e) };
    throw e;
  }
}

async function transactWrite(client: DynamoDBCaller, req: Req, resolve: TableNameResolver): Promise<DynamoDBDataSourceResult> {
  const items = transactItemsOf(req);
  const keys: Array<Record<string, unknown>> = [];
  const transactItems: Record<string, unknown>[] = items.map((t, i) => {
    const TableName = resolve(t.table as string);
    const Key = requireMap(t, 'key');
    keys.push(fromWireItem(Key));
    const condition = nonEmpty(optionalExpr(t.condition, `transactItems[${i}].condition`));
    const cond = {
      ConditionExpression: condition?.expression,
      ReturnValuesOnConditionCheckFailure: condition && t.returnValuesOnConditionCheckFailure !== false ? ('ALL_OLD' as const) : undefined,
    };
    switch (t.operation) {
      case 'PutItem': {
        const attrs = t.attributeValues === undefined ? {} : requireMap(t, 'attributeValues');
        return { Put: { TableName, Item: { ...attrs, ...Key }, ...cond, ...mergeExprs(condition) } };
      }
      case 'UpdateItem': {
        const update = optionalExpr(t.update, `transactItems[${i}].update`);
        if (!update || !update.expression.trim()) throw new InvalidDynamoDBRequestError(`'transactItems[${i}].update.expression' is required`);
        return { Update: { TableName, Key, UpdateExpression: update.expression, ...cond, ...mergeExprs(update, condition) } };
      }
      case 'DeleteItem':
        return { Delete: { TableName, Key, ...cond, ...mergeExprs(condition) } };
      case 'ConditionCheck':
        if (!condition) throw new InvalidDynamoDBRequestError(`'transactItems[${i}].condition' is required for ConditionCheck`);
        return { ConditionCheck: { TableName, Key, ConditionExpression: condition.expression, ...mergeExprs(condition) } };
      default:
        throw new InvalidDynamoDBRequestError(`Unsupported transactItems[${i}].operation: ${String(t.operation)}`);
    }
  });
  try {
    await client.call('TransactWriteItems', { TransactItems: transactItems });
    return { result: { keys, cancellationReasons: null } };
  } catch (e) {
    const reasons = cancellationReasonsOf(e);
    if (reasons) return { result: { keys: null, cancellationReasons: reasons }, error: typedError(e) };
    throw e;
  }
}

/**
 * Runs one AppSync DynamoDB request object. `tableName` is the data source's table; batch and
 * transact requests name tables themselves, mapped through `tableNameResolver` (identity if absent).
 */
export async function executeDynamoDBRequest(
  client: DynamoDBCaller,
  tableName: string,
  request: unknown,
  tableNameResolver?: TableNameResolver,
): Promise<DynamoDBDataSourceResult> {
  const resolve: TableNameResolver = tableNameResolver ?? ((name) => name);
  try {
    if (!isPlainObject(request)) throw new InvalidDynamoDBRequestError('The request must be an object with an operation');
    const req = request;
    switch (req.operation) {
      case 'GetItem':
        return { result: await getItem(client, tableName, req) };
      case 'PutItem':
        return await putItem(client, tableName, req);
      case 'UpdateItem':
        return await updateItem(client, tableName, req);
      case 'DeleteItem':
        return await deleteItem(client, tableName, req);
      case 'Query':
        return { result: await queryOrScan(client, tableName, req, 'Query') };
      case 'Scan':
        return { result: await queryOrScan(client, tableName, req, 'Scan') };
      case 'Sync':
        return { result: await sync(client, tableName, req) };
      case 'BatchGetItem':
        return { result: await batchGet(client, req, resolve) };
      case 'BatchPutItem':
        return { result: await batchWrite(client, req, resolve, 'put') };
      case 'BatchDeleteItem':
        return { result: await batchWrite(client, req, resolve, 'delete') };
      case 'TransactGetItems':
        return await transactGet(client, req, resolve);
      case 'TransactWriteItems':
        return await transactWrite(client, req, resolve);
      default:
        throw new InvalidDynamoDBRequestError(`Unsupported operation '${String(req.operation)}'`);
    }
  } catch (e) {
    return { error: typedError(e) };
  }
}
