// The `@aws-appsync/utils/dynamodb` built-in module (the npm package ships only types; the
// service provides the code). Each function builds the request object of AppSync's DynamoDB data
// source, e.g. get() → { operation: 'GetItem', key, consistentRead, projection }.
// Filters and conditions use the same renderer as util.transform.toDynamoDB*Expression.
import { isPlainObject } from './dynamodb-value-helpers';
import { toDynamoDBConditionExpression } from './transform-helpers';

type AnyMap = Record<string, unknown>;
type Expr = { expression: string; expressionNames?: Record<string, string>; expressionValues?: AnyMap };

/** Operation markers produced by `operations.*`, plain objects so resolvers can copy them. */
export type UpdateOperation =
  | { _type: 'add'; value: unknown }
  | { _type: 'remove' }
  | { _type: 'replace'; value: unknown }
  | { _type: 'increment'; by: number }
  | { _type: 'decrement'; by: number }
  | { _type: 'append'; value: unknown[] }
  | { _type: 'prepend'; value: unknown[] }
  | { _type: 'updateListItem'; value: unknown; index: number };

export class InvalidModuleInputError extends Error {
  override readonly name = 'InvalidModuleInputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const OP_TYPES = new Set(['add', 'remove', 'replace', 'increment', 'decrement', 'append', 'prepend', 'updateListItem']);
const SET_KEYS = ['SS', 'NS', 'BS'];

function isOperation(v: unknown): v is UpdateOperation {
  return isPlainObject(v) && typeof v._type === 'string' && OP_TYPES.has(v._type);
}

// toStringSet()/toNumberSet()/toBinarySet() results are already typed and pass through as is.
function isTypedSet(v: unknown): boolean {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && SET_KEYS.includes(keys[0]!) && Array.isArray(v[keys[0]!]);
}

function typed(value: unknown): unknown {
  if (isTypedSet(value)) return value;
  if (value === null || value === undefined) return { NULL: null };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: value };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(typed) };
  if (isPlainObject(value)) return { M: typedMap(value) };
  return { S: String(value) };
}

function typedMap(obj: unknown): AnyMap {
  if (!isPlainObject(obj)) throw new InvalidModuleInputError('Expected an object');
  const out: AnyMap = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = typed(v);
  return out;
}

function defined<T extends AnyMap>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== null)) as T;
}

function filterExpr(filter: unknown): Expr | undefined {
  if (filter === undefined || filter === null) return undefined;
  const json = toDynamoDBConditionExpression(filter);
  if (json === null) throw new InvalidModuleInputError('The filter/condition object cannot be rendered');
  const parsed = JSON.parse(json) as Expr;
  if (parsed.expression === '') return undefined;
  return defined({
    expression: parsed.expression,
    expressionNames: parsed.expressionNames && Object.keys(parsed.expressionNames).length ? parsed.expressionNames : undefined,
    expressionValues: parsed.expressionValues && Object.keys(parsed.expressionValues).length ? parsed.expressionValues : undefined,
  }) as Expr;
}

/** Placeholder names must be [A-Za-z0-9_]; keep them unique within one expression. */
class Names {
  readonly names: Record<string, string> = {};
  readonly values: AnyMap = {};
  private byName = new Map<string, string>();
  private used = new Set<string>();

  name(attr: string): string {
    const known = this.byName.get(attr);
    if (known) return known;
    const p = this.unique(`#${safe(attr)}`);
    this.byName.set(attr, p);
    this.names[p] = attr;
    return p;
  }

  value(base: string, v: unknown): string {
    const p = this.unique(`:${safe(base)}`);
    this.values[p] = v;
    return p;
  }

  private unique(candidate: string): string {
    let p = candidate;
    for (let i = 1; this.used.has(p); i += 1) p = `${candidate}_${i}`;
    this.used.add(p);
    return p;
  }
}

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_') || '_';
}

function projectionExpr(projection: unknown): Expr | undefined {
  if (projection === undefined || projection === null) return undefined;
  if (!Array.isArray(projection)) throw new InvalidModuleInputError('projection must be a list of attribute paths');
  if (projection.length === 0) return undefined;
  const n = new Names();
  const expression = projection.map((path) => String(path).split('.').map((seg) => n.name(seg)).join('.')).join(', ');
  return { expression, expressionNames: n.names };
}

const KEY_OPS: Record<string, string> = { eq: '=', le: '<=', lt: '<', ge: '>=', gt: '>' };

function keyConditionExpr(query: unknown): Expr {
  if (!isPlainObject(query) || Object.keys(query).length === 0) throw new InvalidModuleInputError('query needs a key condition');
  const n = new Names();
  const parts: string[] = [];
  for (const [field, ops] of Object.entries(query)) {
    if (!isPlainObject(ops)) throw new InvalidModuleInputError(`query.${field} must hold operators`);
    const name = n.name(field);
    for (const [op, v] of Object.entries(ops)) {
      if (op in KEY_OPS) parts.push(`${name} ${KEY_OPS[op]} ${n.value(field, typed(v))}`);
      else if (op === 'beginsWith') parts.push(`begins_with(${name}, ${n.value(`${field}_beginsWith`, typed(v))})`);
      else if (op === 'between' && Array.isArray(v) && v.length === 2) {
        parts.push(`${name} BETWEEN ${n.value(`${field}_start`, typed(v[0]))} AND ${n.value(`${field}_end`, typed(v[1]))}`);
      } else throw new InvalidModuleInputError(`Unsupported key condition operator ${op}`);
    }
  }
  return { expression: parts.join(' AND '), expressionNames: n.names, expressionValues: n.values };
}

function containsOperation(v: unknown): boolean {
  if (isOperation(v)) return true;
  if (Array.isArray(v)) return v.some(isOperation);
  return isPlainObject(v) && Object.values(v).some(containsOperation);
}

function asSetValue(v: unknown): unknown {
  if (isTypedSet(v)) return v;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number')) return { NS: v };
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return { SS: v };
  return typed(v);
}

function updateExpr(update: unknown): Expr {
  if (!isPlainObject(update) || Object.keys(update).length === 0) throw new InvalidModuleInputError('update needs at least one attribute');
  const n = new Names();
  const sections: Record<'SET' | 'REMOVE' | 'ADD' | 'DELETE', string[]> = { SET: [], REMOVE: [], ADD: [], DELETE: [] };

  const walk = (obj: AnyMap, pathNames: string[], pathLabel: string[]) => {
    for (const [attr, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      const path = [...pathNames, n.name(attr)].join('.');
      const label = [...pathLabel, attr].join('_');
      if (isOperation(v)) {
        switch (v._type) {
          case 'remove': sections.REMOVE.push(path); break;
          case 'replace': sections.SET.push(`${path} = ${n.value(label, typed(v.value))}`); break;
          case 'add': sections.ADD.push(`${path} ${n.value(label, asSetValue(v.value))}`); break;
          case 'increment': sections.ADD.push(`${path} ${n.value(label, { N: v.by })}`); break;
          case 'decrement': sections.ADD.push(`${path} ${n.value(label, { N: -v.by })}`); break;
          case 'append':
            sections.SET.push(`${path} = list_append(if_not_exists(${path}, ${n.value(`${label}_empty`, { L: [] })}), ${n.value(label, typed(v.value))})`);
            break;
          case 'prepend':
            sections.SET.push(`${path} = list_append(${n.value(label, typed(v.value))}, if_not_exists(${path}, ${n.value(`${label}_empty`, { L: [] })}))`);
            break;
          case 'updateListItem':
            sections.SET.push(`${path}[${Math.trunc(v.index)}] = ${n.value(`${label}_${Math.trunc(v.index)}`, typed(v.value))}`);
            break;
        }
      } else if (Array.isArray(v) && v.length > 0 && v.every(isOperation)) {
        // A list of updateListItem operations: one action per item.
        for (const op of v) walk({ [attr]: op }, pathNames, pathLabel);
      } else if (isPlainObject(v) && !isTypedSet(v) && containsOperation(v)) {
        walk(v, [...pathNames, n.name(attr)], [...pathLabel, attr]);
      } else {
        sections.SET.push(`${path} = ${n.value(label, typed(v))}`);
      }
    }
  };
  walk(update, [], []);

  const expression = (Object.keys(sections) as Array<keyof typeof sections>)
    .filter((k) => sections[k].length > 0)
    .map((k) => `${k} ${sections[k].join(', ')}`)
    .join(' ');
  return defined({
    expression,
    expressionNames: n.names,
    expressionValues: Object.keys(n.values).length ? n.values : undefined,
  }) as Expr;
}

function syncFields(p: AnyMap) {
  return { customPartitionKey: p.customPartitionKey, populateIndexFields: p.populateIndexFields, _version: p._version };
}

function input(payload: unknown, fn: string): AnyMap {
  if (!isPlainObject(payload)) throw new InvalidModuleInputError(`${fn}() needs an input object`);
  return payload;
}

function readFields(p: AnyMap) {
  return {
    index: p.index,
    limit: p.limit,
    nextToken: p.nextToken,
    consistentRead: p.consistentRead,
    select: p.select,
    scanIndexForward: p.scanIndexForward,
    filter: filterExpr(p.filter),
    projection: projectionExpr(p.projection),
  };
}

// `util` is accepted for parity with the other globals (the module is bound per resolver run).
export function createDynamoDBModule(_util?: unknown) {
  const operations = {
    add: (value: unknown): UpdateOperation => ({ _type: 'add', value }),
    remove: (): UpdateOperation => ({ _type: 'remove' }),
    replace: (value: unknown): UpdateOperation => ({ _type: 'replace', value }),
    increment: (by = 1): UpdateOperation => ({ _type: 'increment', by }),
    decrement: (by = 1): UpdateOperation => ({ _type: 'decrement', by }),
    append: (value: unknown[]): UpdateOperation => ({ _type: 'append', value }),
    prepend: (value: unknown[]): UpdateOperation => ({ _type: 'prepend', value }),
    updateListItem: (value: unknown, index: number): UpdateOperation => ({ _type: 'updateListItem', value, index }),
  };

  return {
    get(payload: unknown) {
      const p = input(payload, 'get');
      return defined({ operation: 'GetItem', key: typedMap(p.key), consistentRead: p.consistentRead, projection: projectionExpr(p.projection) });
    },
    put(payload: unknown) {
      const p = input(payload, 'put');
      return defined({
        operation: 'PutItem',
        key: typedMap(p.key),
        attributeValues: typedMap(p.item ?? {}),
        condition: filterExpr(p.condition),
        ...syncFields(p),
      });
    },
    remove(payload: unknown) {
      const p = input(payload, 'remove');
      return defined({ operation: 'DeleteItem', key: typedMap(p.key), condition: filterExpr(p.condition), ...syncFields(p) });
    },
    update(payload: unknown) {
      const p = input(payload, 'update');
      return defined({
        operation: 'UpdateItem',
        key: typedMap(p.key),
        update: updateExpr(p.update),
        condition: filterExpr(p.condition),
        ...syncFields(p),
      });
    },
    query(payload: unknown) {
      const p = input(payload, 'query');
      return defined({ operation: 'Query', query: keyConditionExpr(p.query), ...readFields(p) });
    },
    scan(payload: unknown) {
      const p = input(payload, 'scan');
      return defined({ operation: 'Scan', ...readFields(p), segment: p.segment, totalSegments: p.totalSegments });
    },
    sync(payload: unknown) {
      const p = input(payload, 'sync');
      return defined({
        operation: 'Sync',
        basePartitionKey: p.basePartitionKey,
        deltaIndexName: p.deltaIndexName,
        limit: p.limit,
        nextToken: p.nextToken,
        lastSync: p.lastSync,
        filter: filterExpr(p.filter),
      });
    },
    batchGet(payload: unknown) {
      const p = input(payload, 'batchGet');
      if (!isPlainObject(p.tables)) throw new InvalidModuleInputError('batchGet() needs tables');
      const tables: AnyMap = {};
      for (const [t, spec] of Object.entries(p.tables)) {
        if (!isPlainObject(spec) || !Array.isArray(spec.keys)) throw new InvalidModuleInputError(`batchGet() tables.${t}.keys must be a list`);
        tables[t] = defined({ keys: spec.keys.map(typedMap), consistentRead: spec.consistentRead, projection: projectionExpr(spec.projection) });
      }
      return { operation: 'BatchGetItem', tables };
    },
    batchPut(payload: unknown) {
      const p = input(payload, 'batchPut');
      if (!isPlainObject(p.tables)) throw new InvalidModuleInputError('batchPut() needs tables');
      return { operation: 'BatchPutItem', tables: Object.fromEntries(Object.entries(p.tables).map(([t, items]) => [t, (items as unknown[]).map(typedMap)])) };
    },
    batchDelete(payload: unknown) {
      const p = input(payload, 'batchDelete');
      if (!isPlainObject(p.tables)) throw new InvalidModuleInputError('batchDelete() needs tables');
      return { operation: 'BatchDeleteItem', tables: Object.fromEntries(Object.entries(p.tables).map(([t, keys]) => [t, (keys as unknown[]).map(typedMap)])) };
    },
    transactGet(payload: unknown) {
      const p = input(payload, 'transactGet');
      if (!Array.isArray(p.items)) throw new InvalidModuleInputError('transactGet() needs items');
      return {
        operation: 'TransactGetItems',
        transactItems: p.items.map((i: AnyMap) => defined({ table: i.table, key: typedMap(i.key), projection: projectionExpr(i.projection) })),
      };
    },
    transactWrite(payload: unknown) {
      const p = input(payload, 'transactWrite');
      if (!Array.isArray(p.items)) throw new InvalidModuleInputError('transactWrite() needs items');
      const transactItems = p.items.map((i: AnyMap) => {
        if (isPlainObject(i.putItem)) {
          const x = i.putItem;
          return defined({ table: x.table, operation: 'PutItem', key: typedMap(x.key), attributeValues: typedMap(x.item ?? {}), condition: filterExpr(x.condition) });
        }
        if (isPlainObject(i.updateItem)) {
          const x = i.updateItem;
          return defined({ table: x.table, operation: 'UpdateItem', key: typedMap(x.key), update: updateExpr(x.update), condition: filterExpr(x.condition) });
        }
        if (isPlainObject(i.deleteItem)) {
          const x = i.deleteItem;
          return defined({ table: x.table, operation: 'DeleteItem', key: typedMap(x.key), condition: filterExpr(x.condition) });
        }
        if (isPlainObject(i.conditionCheck)) {
          const x = i.conditionCheck;
          return defined({ table: x.table, operation: 'ConditionCheck', key: typedMap(x.key), condition: filterExpr(x.condition) });
        }
        throw new InvalidModuleInputError('transactWrite() items need putItem, updateItem, deleteItem or conditionCheck');
      });
      return { operation: 'TransactWriteItems', transactItems };
    },
    toStringSet: (list: string[]) => ({ SS: [...list] }),
    toNumberSet: (list: number[]) => ({ NS: [...list] }),
    toBinarySet: (list: string[]) => ({ BS: [...list] }),
    operations,
  };
}

export type DynamoDBModule = ReturnType<typeof createDynamoDBModule>;
