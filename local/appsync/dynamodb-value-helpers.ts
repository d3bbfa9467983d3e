// Conversions between plain JS values and the DynamoDB typed values AppSync uses.
// AppSync's util.dynamodb emits numbers as JSON numbers ({ N: 12 }) and null as { NULL: null };
// DynamoDB's JSON protocol wants { N: '12' } and { NULL: true }, so the data source normalises on the way out.

/** An attribute value as DynamoDB's JSON protocol carries it (numbers as strings, binary as base64). */
export interface AttributeValue {
  S?: string;
  N?: string;
  B?: string;
  BOOL?: boolean;
  NULL?: boolean;
  SS?: string[];
  NS?: string[];
  BS?: string[];
  L?: AttributeValue[];
  M?: Record<string, AttributeValue>;
}

/** Binary as canonical base64: what a lenient decode of the given text holds. */
function base64(value: unknown): string {
  return Buffer.from(String(value), 'base64').toString('base64');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** util.dynamodb.toDynamoDB: strings → S, numbers → N, booleans → BOOL, lists → L, objects → M. */
export function toDynamoDB(value: unknown): unknown {
  if (value === null || value === undefined) return { NULL: null };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: value };
  if (typeof value === 'bigint') return { N: value.toString() };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map((v) => toDynamoDB(v)) };
  if (isPlainObject(value)) return { M: toMapValues(value) };
  return { S: String(value) };
}

/** util.dynamodb.toMapValues: each value of the object converted, the object itself not wrapped. */
export function toMapValues(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    // AppSync drops undefined (absent in JSON); explicit null becomes { NULL: null }.
    if (v === undefined) continue;
    out[k] = toDynamoDB(v);
  }
  return out;
}

export class InvalidAttributeValueError extends Error {
  override readonly name = 'InvalidAttributeValueError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const TYPE_KEYS = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'L', 'M', 'SS', 'NS', 'BS']);

/** One AppSync-style typed value → DynamoDB's wire form; throws InvalidAttributeValueError. */
export function toWireAttributeValue(value: unknown, path = 'value'): AttributeValue {
  if (!isPlainObject(value)) throw new InvalidAttributeValueError(`${path} is not a typed value`);
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  if (keys.length !== 1 || !TYPE_KEYS.has(keys[0]!)) {
    throw new InvalidAttributeValueError(`${path} must have exactly one of ${[...TYPE_KEYS].join(', ')}`);
  }
  const type = keys[0]!;
  const v = value[type];
  switch (type) {
    case 'S':
      return { S: String(v) };
    case 'N':
      return { N: String(v) };
    case 'B':
      return { B: base64(v) };
    case 'BOOL':
      return { BOOL: Boolean(v) };
    case 'NULL':
      return { NULL: true };
    case 'SS':
      return { SS: asArray(v, path).map(String) };
    case 'NS':
      return { NS: asArray(v, path).map(String) };
    case 'BS':
      return { BS: asArray(v, path).map(base64) };
    case 'L':
      return { L: asArray(v, path).map((e, i) => toWireAttributeValue(e, `${path}[${i}]`)) };
    default: {
      if (!isPlainObject(v)) throw new InvalidAttributeValueError(`${path}.M is not a map`);
      return { M: toWireAttributeMap(v, `${path}.M`) };
    }
  }
}

function asArray(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new InvalidAttributeValueError(`${path} set/list is not an array`);
  return v;
}

export function toWireAttributeMap(map: unknown, path = 'map'): Record<string, AttributeValue> {
  if (!isPlainObject(map)) throw new InvalidAttributeValueError(`${path} is not a map of typed values`);
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(map)) {
    if (v === undefined) continue;
    out[k] = toWireAttributeValue(v, `${path}.${k}`);
  }
  return out;
}

/** A wire-form attribute value → plain JS, the way AppSync hands items to ctx.result. */
export function fromWireAttributeValue(av: AttributeValue): unknown {
  // DynamoDB sends exactly one type key per value; a switch on it is about twice as fast as probing
  // each type in turn, which showed on 100 KB pages.
  for (const type in av) {
    const value = av[type as keyof AttributeValue];
    if (value === undefined) continue;
    switch (type) {
      case 'S':
      case 'B':
      case 'BOOL':
        return value;
      case 'N':
        return Number(value);
      case 'NULL':
        return null;
      case 'M':
        return fromWireItem(value as Record<string, AttributeValue>);
      case 'L': {
        const list = value as AttributeValue[];
        const out = new Array<unknown>(list.length);
        for (let i = 0; i < list.length; i++) out[i] = fromWireAttributeValue(list[i]!);
        return out;
      }
      case 'SS':
      case 'BS':
        return [...(value as string[])];
      case 'NS':
        return (value as string[]).map(Number);
    }
  }
  return null;
}

export function fromWireItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in item) out[k] = fromWireAttributeValue(item[k]!);
  return out;
}
