/**
 * AppSync enhanced subscription filters, evaluated locally: the object that
 * `extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter(...))` (and
 * `setSubscriptionInvalidationFilter`) set is `{ filterGroup: [{ filters: [{ fieldName, operator, value }] }] }`.
 * The groups are alternatives (OR); the filters of one group must all hold (AND). Field names address
 * the mutation's response (dots reach into nested objects).
 */

export type FilterRule = { fieldName: string; operator: string; value: unknown };
export type FilterGroup = { filters: FilterRule[] };
export type SubscriptionFilter = { filterGroup: FilterGroup[] };

export const FILTER_OPERATORS = ['eq', 'ne', 'le', 'lt', 'ge', 'gt', 'contains', 'notContains', 'beginsWith', 'in', 'notIn', 'between', 'containsAny'] as const;

export class SubscriptionFilterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SubscriptionFilterError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Accepts what a resolver passed (object or its JSON string); null/undefined means "no filter". */
export function parseSubscriptionFilter(raw: unknown): SubscriptionFilter | null {
  if (raw === null || raw === undefined) return null;
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new SubscriptionFilterError('the subscription filter is not valid JSON', { cause: error });
    }
  }
  if (!isObject(value) || !Array.isArray(value.filterGroup)) throw new SubscriptionFilterError('a subscription filter needs a filterGroup list');
  const groups: FilterGroup[] = value.filterGroup.map((group, g) => {
    if (!isObject(group) || !Array.isArray(group.filters)) throw new SubscriptionFilterError(`filterGroup[${g}] needs a filters list`);
    return {
      filters: group.filters.map((rule, f) => {
        if (!isObject(rule) || typeof rule.fieldName !== 'string' || typeof rule.operator !== 'string') {
          throw new SubscriptionFilterError(`filterGroup[${g}].filters[${f}] needs fieldName and operator`);
        }
        if (!(FILTER_OPERATORS as readonly string[]).includes(rule.operator)) {
          throw new SubscriptionFilterError(`unsupported filter operator ${rule.operator}; AppSync supports ${FILTER_OPERATORS.join(', ')}`);
        }
        if ((rule.operator === 'in' || rule.operator === 'notIn' || rule.operator === 'containsAny') && !Array.isArray(rule.value)) {
          throw new SubscriptionFilterError(`${rule.operator} on ${rule.fieldName} needs a list of values`);
        }
        if (rule.operator === 'between' && (!Array.isArray(rule.value) || rule.value.length !== 2)) {
          throw new SubscriptionFilterError(`between on ${rule.fieldName} needs two bounds`);
        }
        return { fieldName: rule.fieldName, operator: rule.operator, value: rule.value };
      }),
    };
  });
  return { filterGroup: groups };
}

function fieldValue(data: unknown, path: string): unknown {
  let current: unknown = data;
  for (const key of path.split('.')) {
    if (!isObject(current) || !(key in current)) return undefined;
    current = current[key];
  }
  return current;
}

/** Scalars compare by value; an ID may arrive as a number on one side and a string on the other. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((typeof a === 'number' && typeof b === 'string') || (typeof a === 'string' && typeof b === 'number')) return String(a) === String(b);
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) return JSON.stringify(a) === JSON.stringify(b);
  return false;
}

function ordered(a: unknown, b: unknown): number | null {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

function contains(field: unknown, value: unknown): boolean {
  if (typeof field === 'string') return typeof value === 'string' && field.includes(value);
  if (Array.isArray(field)) return field.some((item) => same(item, value));
  return false;
}

export function ruleHolds(rule: FilterRule, data: unknown): boolean {
  const field = fieldValue(data, rule.fieldName);
  // A field the payload does not carry satisfies no condition: a filter can only let through what it saw.
  if (field === undefined) return false;
  const { value } = rule;
  switch (rule.operator) {
    case 'eq':
      return same(field, value);
    case 'ne':
      return !same(field, value);
    case 'le':
    case 'lt':
    case 'ge':
    case 'gt': {
      const order = ordered(field, value);
      if (order === null) return false;
      return rule.operator === 'le' ? order <= 0 : rule.operator === 'lt' ? order < 0 : rule.operator === 'ge' ? order >= 0 : order > 0;
    }
    case 'contains':
      return contains(field, value);
    case 'notContains':
      return (typeof field === 'string' || Array.isArray(field)) && !contains(field, value);
    case 'beginsWith':
      return typeof field === 'string' && typeof value === 'string' && field.startsWith(value);
    case 'in':
      return (value as unknown[]).some((v) => same(field, v));
    case 'notIn':
      return !(value as unknown[]).some((v) => same(field, v));
    case 'between': {
      const [low, high] = value as [unknown, unknown];
      const above = ordered(field, low);
      const below = ordered(field, high);
      return above !== null && below !== null && above >= 0 && below <= 0;
    }
    case 'containsAny':
      return Array.isArray(field) && (value as unknown[]).some((v) => field.some((item) => same(item, v)));
    default:
      return false;
  }
}

/** True when the data passes the filter: any group whose every rule holds. No filter passes everything. */
export function filterMatches(filter: SubscriptionFilter | null, data: unknown): boolean {
  if (!filter || filter.filterGroup.length === 0) return true;
  return filter.filterGroup.some((group) => group.filters.every((rule) => ruleHolds(rule, data)));
}
