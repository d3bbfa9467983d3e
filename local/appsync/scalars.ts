/**
 * AppSync's scalars with the validation AppSync applies. AWSJSON inputs arrive in resolvers parsed
 * (maps, lists, scalars) and object results are serialised back to a JSON string, as the service does.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

function literalValue(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
    case Kind.ENUM:
      return ast.value;
    case Kind.INT:
      return Number.parseInt(ast.value, 10);
    case Kind.FLOAT:
      return Number.parseFloat(ast.value);
    case Kind.NULL:
      return null;
    default:
      return undefined;
  }
}

function stringScalar(name: string, description: string, valid: (value: string) => boolean): GraphQLScalarType {
  const check = (value: unknown) => {
    if (typeof value !== 'string' || !valid(value)) {
      throw new GraphQLError(`Invalid ${name} value: ${JSON.stringify(value)?.slice(0, 80)}`);
    }
    return value;
  };
  return new GraphQLScalarType({
    name,
    description,
    serialize: (value) => (value instanceof Date ? value.toISOString() : check(value)),
    parseValue: check,
    parseLiteral: (ast) => check(literalValue(ast)),
  });
}

const DATE = /^\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2}(:\d{2})?)?$/;
const TIME = /^\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s().-]{3,}$/;

function validUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol.length > 1 && value.includes('://');
  } catch {
    return false;
  }
}

function validIp(value: string): boolean {
  return /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/.test(value) || /^[0-9a-fA-F:]+(\/\d{1,3})?$/.test(value);
}

/**
 * Deepest nesting an AWSJSON value may have. Far beyond any real document (a CR history is about 6
 * deep; processHistory itself allows 64), and low enough that parsing and copying it cannot exhaust the
 * stack: a 100,000-deep value is refused here as invalid input, not failed on later as a fault.
 */
export const MAX_AWSJSON_DEPTH = 512;

/** The nesting depth of a JSON text, counted without parsing it (brackets outside strings). */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return deepest;
}

function parseJson(text: string): unknown {
  if (jsonDepth(text) > MAX_AWSJSON_DEPTH) throw new GraphQLError(`Invalid AWSJSON value: nested deeper than ${MAX_AWSJSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch {
    throw new GraphQLError('Invalid AWSJSON value: not valid JSON');
  }
}

const AWSJSON = new GraphQLScalarType({
  name: 'AWSJSON',
  description: 'A JSON string; resolvers receive it parsed.',
  serialize: (value) => (typeof value === 'string' ? value : JSON.stringify(value)),
  parseValue: (value) => {
    if (typeof value !== 'string') throw new GraphQLError('Invalid AWSJSON value: expected a JSON string');
    return parseJson(value);
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('Invalid AWSJSON value: expected a JSON string');
    return parseJson(ast.value);
  },
});

const AWSTimestamp = new GraphQLScalarType({
  name: 'AWSTimestamp',
  description: 'Seconds since the epoch.',
  serialize: (value) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new GraphQLError('Invalid AWSTimestamp value');
    return value;
  },
  parseValue: (value) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new GraphQLError('Invalid AWSTimestamp value');
    return value;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.INT) throw new GraphQLError('Invalid AWSTimestamp value');
    return Number.parseInt(ast.value, 10);
  },
});

export const APPSYNC_SCALARS: Record<string, GraphQLScalarType> = {
  AWSDate: stringScalar('AWSDate', 'An extended ISO 8601 date (YYYY-MM-DD).', (v) => DATE.test(v)),
  AWSTime: stringScalar('AWSTime', 'An extended ISO 8601 time.', (v) => TIME.test(v)),
  AWSDateTime: stringScalar('AWSDateTime', 'An extended ISO 8601 date-time with offset.', (v) => DATE_TIME.test(v)),
  AWSEmail: stringScalar('AWSEmail', 'An email address.', (v) => EMAIL.test(v)),
  AWSURL: stringScalar('AWSURL', 'A URL with a scheme.', validUrl),
  AWSPhone: stringScalar('AWSPhone', 'A phone number.', (v) => PHONE.test(v)),
  AWSIPAddress: stringScalar('AWSIPAddress', 'An IPv4 or IPv6 address.', validIp),
  AWSJSON,
  AWSTimestamp,
};
