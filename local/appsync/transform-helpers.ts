// util.transform.* of the APPSYNC_JS runtime. The DynamoDB helpers return a JSON *string*
// ({expression, expressionNames, expressionValues}) as AppSync documents; the rendering (value
// placeholders named after the nesting path, parentheses, no space after commas in functions)
// follows output recorded from the service. Input that AppSync cannot render yields null.
import { isPlainObject, toDynamoDB } from './dynamodb-value-helpers';

const COMPARATORS: Record<string, string> = { eq: '=', ne: '<>', le: '<=', lt: '<', ge: '>=', gt: '>' };
const ATTRIBUTE_TYPES: Record<string, string> = {
  _null: 'NULL',
  string: 'S',
  stringSet: 'SS',
  number: 'N',
  numberSet: 'NS',
  binary: 'B',
  binarySet: 'BS',
  boolean: 'BOOL',
  list: 'L',
  map: 'M',
};

class Unrenderable extends Error {
  override readonly name = 'Unrenderable';
}

type Acc = { names: Record<string, string>; values: Record<string, unknown> };

function renderOperator(operand: string, valueBase: string, op: string, value: unknown, acc: Acc): string {
  const placeholder = `:${valueBase}_${op}`;
  if (op in COMPARATORS) {
    acc.values[placeholder] = toDynamoDB(value);
    return `(${operand} ${COMPARATORS[op]} ${placeholder})`;
  }
  switch (op) {
    case 'between': {
      if (!Array.isArray(value) || value.length < 2) throw new Unrenderable('between needs two bounds');
      acc.values[`${placeholder}_start`] = toDynamoDB(value[0]);
      acc.values[`${placeholder}_end`] = toDynamoDB(value[1]);
      return `(${operand} BETWEEN ${placeholder}_start AND ${placeholder}_end)`;
    }
    case 'in': {
      if (!Array.isArray(value)) throw new Unrenderable('in needs a list');
      if (value.length === 0) return '(null)';
      const names = value.map((v, i) => {
        acc.values[`${placeholder}_${i}`] = toDynamoDB(v);
        return `${placeholder}_${i}`;
      });
      return `(${operand} IN (${names.join(', ')}))`;
    }
    case 'beginsWith':
      acc.values[placeholder] = toDynamoDB(value);
      return `(begins_with(${operand},${placeholder}))`;
    case 'contains':
      acc.values[placeholder] = toDynamoDB(value);
      return `(contains(${operand},${placeholder}))`;
    case 'notContains':
      acc.values[placeholder] = toDynamoDB(value);
      return `(NOT contains(${operand},${placeholder}))`;
    case 'attributeExists':
      if (typeof value !== 'boolean') throw new Unrenderable('attributeExists needs a boolean');
      return value ? `(attribute_exists(${operand}))` : `(attribute_not_exists(${operand}))`;
    case 'attributeType': {
      const code = typeof value === 'string' ? ATTRIBUTE_TYPES[value] : undefined;
      if (!code) throw new Unrenderable(`unknown attributeType ${String(value)}`);
      acc.values[placeholder] = { S: code };
      return `(attribute_type(${operand},${placeholder}))`;
    }
    default:
      throw new Unrenderable(`unknown operator ${op}`);
  }
}

function joinOps(parts: string[]): string {
  return parts.length === 1 ? parts[0]! : parts.length === 0 ? '' : `(${parts.join(' AND ')})`;
}

function renderField(field: string, ops: unknown, prefix: string, acc: Acc): string {
  acc.names[`#${field}`] = field;
  if (!isPlainObject(ops)) throw new Unrenderable(`${field} must hold operators`);
  return renderOps(`#${field}`, `${prefix}${field}`, ops, acc);
}

function renderOps(operand: string, valueBase: string, ops: Record<string, unknown>, acc: Acc): string {
  const parts: string[] = [];
  for (const [op, value] of Object.entries(ops)) {
    if (op === 'size') {
      if (!isPlainObject(value)) throw new Unrenderable('size must hold operators');
      // size(size(x)) is not a DynamoDB function; AppSync keeps one size() and extends the name.
      const sizeOperand = operand.startsWith('size(') ? operand : `size(${operand})`;
      parts.push(renderOps(sizeOperand, `${valueBase}_size`, value, acc));
      continue;
    }
    parts.push(renderOperator(operand, valueBase, op, value, acc));
  }
  return joinOps(parts);
}

function renderFilter(filter: unknown, prefix: string, acc: Acc): string {
  if (!isPlainObject(filter)) throw new Unrenderable('filter must be an object');
  const parts: string[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === 'and' || key === 'or') {
      if (!Array.isArray(value)) throw new Unrenderable(`${key} needs a list`);
      const members = value.map((m, i) => {
        if (m === null || m === undefined) throw new Unrenderable(`${key} has a null member`);
        return renderFilter(m, `${prefix}${key}_${i}_`, acc);
      });
      if (members.length === 0) continue;
      parts.push(members.length === 1 ? members[0]! : `(${members.join(` ${key.toUpperCase()} `)})`);
    } else if (key === 'not') {
      if (!isPlainObject(value)) throw new Unrenderable('not needs an object');
      parts.push(`(NOT ${renderFilter(value, `${prefix}not_`, acc)})`);
    } else {
      parts.push(renderField(key, value, prefix, acc));
    }
  }
  return parts.join(' AND ');
}

function toExpressionJson(filter: unknown): string | null {
  const acc: Acc = { names: {}, values: {} };
  try {
    const expression = renderFilter(filter, '', acc);
    return JSON.stringify({ expression, expressionNames: acc.names, expressionValues: acc.values });
  } catch (e) {
    if (e instanceof Unrenderable) return null;
    throw e;
  }
}

/** util.transform.toDynamoDBFilterExpression → JSON string, or null if it can't be rendered. */
export function toDynamoDBFilterExpression(filter: unknown): string | null {
  return toExpressionJson(filter);
}

/** util.transform.toDynamoDBConditionExpression → JSON string, or null. */
export function toDynamoDBConditionExpression(condition: unknown): string | null {
  return toExpressionJson(condition);
}

export type SubscriptionFilterRule = { fieldName: string; operator: string; value: unknown };
export type SubscriptionFilterGroup = { filters: SubscriptionFilterRule[] };
export type SubscriptionFilterValue = { filterGroup: SubscriptionFilterGroup[] };

// Disjunctive normal form: a list of alternatives, each a list of rules that must all hold.
type Dnf = SubscriptionFilterRule[][];

function andDnf(a: Dnf, b: Dnf): Dnf {
  const out: Dnf = [];
  for (const x of a) for (const y of b) out.push([...x, ...y]);
  return out;
}

function subscriptionDnf(obj: Record<string, unknown>, ignored: Set<string>): Dnf {
  let dnf: Dnf = [[]];
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'and' || key === 'or') {
      const members = (Array.isArray(value) ? value : [value]).filter(isPlainObject).map((m) => subscriptionDnf(m, ignored));
      if (key === 'and') {
        for (const m of members) dnf = andDnf(dnf, m);
      } else if (members.length > 0) {
        dnf = andDnf(dnf, members.flat());
      }
      continue;
    }
    if (ignored.has(key) || !isPlainObject(value)) continue;
    const ops = Object.entries(value);
    if (ops.length === 0) continue;
    // Several operators on one field are alternatives, each its own rule set.
    dnf = andDnf(dnf, ops.map(([operator, v]) => [{ fieldName: key, operator, value: v }]));
  }
  return dnf;
}

/**
 * util.transform.toSubscriptionFilter(obj, ignoredFields?, rules?): the object AppSync takes in
 * extensions.setSubscriptionFilter, `{ filterGroup: [{ filters: [{fieldName, operator, value}] }] }`.
 * `rules` are further conditions, each one an alternative combined with the filter.
 */
export function toSubscriptionFilter(obj: unknown, ignoredFields?: unknown, rules?: unknown): SubscriptionFilterValue | null {
  if (!isPlainObject(obj)) return null;
  const ignored = new Set(Array.isArray(ignoredFields) ? ignoredFields.map(String) : []);
  let dnf = subscriptionDnf(obj, ignored);
  if (isPlainObject(rules)) {
    const alternatives = subscriptionDnf({ or: Object.entries(rules).map(([k, v]) => ({ [k]: v })) }, new Set());
    dnf = andDnf(dnf, alternatives);
  }
  const groups = dnf.filter((g) => g.length > 0).map((filters) => ({ filters }));
  return { filterGroup: groups };
}
