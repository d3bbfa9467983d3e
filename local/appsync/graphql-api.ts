/**
 * GraphQL execution as AppSync does it: schema.graphql plus AppSync's scalars and directives, the real
 * resolver bundles per field, field-level authorisation from `@aws_*` directives, and AppSync-shaped
 * results (`errors[].errorType`, `errorInfo`, `data`, partial data).
 */
import { randomUUID } from 'node:crypto';
import {
  GraphQLError,
  GraphQLObjectType,
  buildSchema,
  defaultFieldResolver,
  execute,
  getOperationAST,
  isObjectType,
  parse,
  print,
  validate,
  Kind,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type SelectionSetNode,
  type ExecutionResult,
} from 'graphql';
import { API_LIMITS } from '#contract/api-limits';
import { APPSYNC_SCALARS } from './scalars';
import { authenticate, type AuthConfig, type AuthenticatedCaller, type AuthMode } from './auth';
import type { AppSyncContext, ResolverOutcome, ResolverSet } from './executor';
import type { AppSyncGraphQLError } from './signals';

export interface GraphQLRequest {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

export interface AppSyncError extends AppSyncGraphQLError {
  path?: (string | number)[];
  locations?: { line: number; column: number }[];
}

export interface AppSyncResponse {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: AppSyncError[] };
}

/** A mutation that ran through the API: what subscriptions are triggered by. */
export interface MutationEvent {
  fieldName: string;
  arguments: Record<string, unknown>;
  /** The mutation's result limited to the fields it selected (aliases removed). */
  data: unknown;
  /** The caller that ran it. */
  caller: AuthenticatedCaller;
  /** `extensions.invalidateSubscriptions(...)` objects its resolver set (the real-time server acts on them). */
  invalidations: unknown[];
}

interface ExecutionState {
  caller: AuthenticatedCaller;
  headers: Record<string, string>;
  variables: Record<string, unknown>;
  extraErrors: AppSyncError[];
  outcomes: Map<string, ResolverOutcome>;
  /** Resolver invocations so far in this request (AppSync's resolverCountLimit counts them). */
  resolverCalls: number;
}

/** AppSync's per-request cost limits (contract/api-limits.ts, the values CDK deploys). */
export interface CostLimits {
  queryDepthLimit: number;
  resolverCountLimit: number;
}

/** A parsed and validated document, kept per query text: clients send the same few documents. */
interface PreparedDocument {
  document: DocumentNode;
}

const DOCUMENT_CACHE_SIZE = 500;

/**
 * The deepest field of a validated document's operations (fragments followed; a root field is depth 1),
 * with where it is: what the depth limit is checked against before anything runs.
 */
function documentDepth(document: DocumentNode): { depth: number; at?: FieldNode } {
  const fragments = new Map<string, SelectionSetNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def.selectionSet);
  const memo = new Map<string, { depth: number; at?: FieldNode }>();
  const walk = (set: SelectionSetNode): { depth: number; at?: FieldNode } => {
    let deepest: { depth: number; at?: FieldNode } = { depth: 0 };
    for (const selection of set.selections) {
      let found: { depth: number; at?: FieldNode };
      if (selection.kind === Kind.FIELD) {
        const below = selection.selectionSet ? walk(selection.selectionSet) : { depth: 0 };
        found = { depth: below.depth + 1, at: below.at ?? selection };
      } else if (selection.kind === Kind.INLINE_FRAGMENT) found = walk(selection.selectionSet);
      else {
        const name = selection.name.value;
        if (!memo.has(name)) {
          memo.set(name, { depth: 0 }); // validation rules out fragment cycles; this only guards the walk
          const target = fragments.get(name);
          memo.set(name, target ? walk(target) : { depth: 0 });
        }
        found = memo.get(name)!;
      }
      if (found.depth > deepest.depth) deepest = found;
    }
    return deepest;
  };
  let deepest: { depth: number; at?: FieldNode } = { depth: 0 };
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    const found = walk(def.selectionSet);
    if (found.depth > deepest.depth) deepest = found;
  }
  return deepest;
}

const DIRECTIVE_MODES: Record<string, AuthMode> = {
  aws_api_key: 'API_KEY',
  aws_lambda: 'AWS_LAMBDA',
  aws_iam: 'AWS_IAM',
};

const AUTH_TYPE_NAMES = {
  API_KEY: 'API Key Authorization',
  AWS_LAMBDA: 'Lambda Authorization',
  AWS_IAM: 'IAM Authorization',
} as const;

const DIRECTIVE_NAMES = new Set(['aws_api_key', 'aws_iam', 'aws_lambda', 'aws_oidc', 'aws_cognito_user_pools', 'aws_auth']);

function modesFrom(directives: readonly { name: { value: string } }[] | undefined): AuthMode[] | null {
  const names = (directives ?? []).map((d) => d.name.value).filter((n) => DIRECTIVE_NAMES.has(n));
  if (names.length === 0) return null;
  return names.map((n) => DIRECTIVE_MODES[n]).filter(Boolean);
}

class FieldError extends GraphQLError {
  constructor(readonly appsync: AppSyncGraphQLError) {
    super(appsync.message);
  }
}

/** Field paths below a field, as AppSync's `info.selectionSetList` lists them. */
function selectionSetList(selectionSet: SelectionSetNode | undefined, info: GraphQLResolveInfo, prefix = ''): string[] {
  if (!selectionSet) return [];
  const out: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      const path = prefix + selection.name.value;
      out.push(path);
      out.push(...selectionSetList(selection.selectionSet, info, `${path}/`));
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      out.push(...selectionSetList(selection.selectionSet, info, prefix));
    } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
      out.push(...selectionSetList(info.fragments[selection.name.value]?.selectionSet, info, prefix));
    }
  }
  return [...new Set(out)];
}

/**
 * `info.selectionSetList` and `selectionSetGraphQL` depend on the field node alone, and documents are
 * cached, so they are worked out once per field of a document.
 */
const selections = new WeakMap<FieldNode, { list: readonly string[]; graphql: string }>();
function selectionOf(info: GraphQLResolveInfo): { list: readonly string[]; graphql: string } {
  const node = info.fieldNodes[0]!;
  let found = selections.get(node);
  if (!found) {
    found = { list: selectionSetList(node.selectionSet, info), graphql: node.selectionSet ? print(node.selectionSet) : '' };
    selections.set(node, found);
  }
  return found;
}

function pathArray(path: GraphQLResolveInfo['path']): (string | number)[] {
  const out: (string | number)[] = [];
  for (let p: GraphQLResolveInfo['path'] | undefined = path; p; p = p.prev) out.unshift(p.key);
  return out;
}

/** The field's value with only the fields the operation selected, keyed by field name (not alias). */
function pruneToSelection(value: unknown, selectionSet: SelectionSetNode | undefined, fragments: Record<string, { selectionSet: SelectionSetNode }>): unknown {
  if (value === null || value === undefined || !selectionSet || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => pruneToSelection(v, selectionSet, fragments));
  const out: Record<string, unknown> = {};
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name === '__typename') continue;
        const alias = selection.alias?.value ?? name;
        const source = value as Record<string, unknown>;
        out[name] = pruneToSelection(alias in source ? source[alias] : source[name], selection.selectionSet, fragments);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
      else if (selection.kind === Kind.FRAGMENT_SPREAD && fragments[selection.name.value]) visit(fragments[selection.name.value].selectionSet);
    }
  };
  visit(selectionSet);
  return out;
}

export interface GraphQLApiOptions {
  schemaSdl: string;
  preludeSdl: string;
  resolvers: ResolverSet;
  auth: AuthConfig;
  /** Public URL of the GraphQL endpoint (IAM signatures cover it). */
  endpointUrl: () => string;
  env?: Record<string, string>;
  /** Per-request cost limits (default: the deployed ones, contract/api-limits.ts). */
  limits?: CostLimits;
}

export class GraphQLApi {
  readonly schema: GraphQLSchema;
  readonly limits: CostLimits;
  private readonly mutationListeners = new Set<(event: MutationEvent) => void>();
  private readonly documents = new Map<string, PreparedDocument | { errors: AppSyncError[] }>();

  constructor(private readonly options: GraphQLApiOptions) {
    this.limits = options.limits ?? API_LIMITS;
    this.schema = buildSchema(`${options.preludeSdl}\n${options.schemaSdl}`);
    for (const [name, scalar] of Object.entries(APPSYNC_SCALARS)) {
      const type = this.schema.getType(name);
      if (type && 'serialize' in type) Object.assign(type, { serialize: scalar.serialize, parseValue: scalar.parseValue, parseLiteral: scalar.parseLiteral });
    }
    for (const type of Object.values(this.schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) this.wrapField(type, field);
    }
  }

  onMutation(listener: (event: MutationEvent) => void): () => void {
    this.mutationListeners.add(listener);
    return () => this.mutationListeners.delete(listener);
  }

  /** Auth modes allowed on a field: its own directives, else its type's, else the API default. */
  allowedModes(type: GraphQLObjectType, field: GraphQLField<unknown, unknown>): AuthMode[] {
    return modesFrom(field.astNode?.directives) ?? modesFrom(type.astNode?.directives) ?? [this.options.auth.defaultMode];
  }

  private wrapField(type: GraphQLObjectType, field: GraphQLField<unknown, unknown>) {
    const typeName = type.name;
    const fieldName = field.name;
    const qualified = `${typeName}.${fieldName}`;
    const allowed = this.allowedModes(type, field);
    const authorize = (state: ExecutionState, info: GraphQLResolveInfo) => {
      const { caller } = state;
      if (!allowed.includes(caller.mode) || (caller.deniedFields.length > 0 && (caller.deniedFields.includes(qualified) || caller.deniedFields.includes(fieldName)))) {
        throw new FieldError({ message: `Not Authorized to access ${fieldName} on type ${typeName}`, errorType: 'Unauthorized' });
      }
    };
    if (!this.options.resolvers.has(typeName, fieldName)) {
      // No resolver: a synchronous property read, as graphql-js does by default (no promise per field).
      field.resolve = (source, args, context, info) => {
        authorize(context as ExecutionState, info);
        return defaultFieldResolver(source, args, context, info);
      };
      return;
    }
    const { resolverCountLimit } = this.limits;
    field.resolve = (source, args, context, info) => {
      const state = context as ExecutionState;
      authorize(state, info);
      // AppSync's resolverCountLimit: invocations past the limit fail, aliases and list items included.
      if (++state.resolverCalls > resolverCountLimit) {
        throw new FieldError({
          message: `Resolver invocation limit reached: a request may run at most ${resolverCountLimit} resolvers (resolverCountLimit); ask for fewer fields, aliases or list items at once.`,
          errorType: 'ResolverExecutionLimitReached',
        });
      }
      return this.runField(typeName, fieldName, source, args as Record<string, unknown>, state, info);
    };
  }

  private async runField(typeName: string, fieldName: string, source: unknown, args: Record<string, unknown>, state: ExecutionState, info: GraphQLResolveInfo) {
    const outcome = await this.runResolver(typeName, fieldName, source, args, state, info);
    const path = pathArray(info.path);
    state.outcomes.set(path.join('.'), outcome);
    const [stopping, ...appended] = outcome.data === undefined ? [outcome.errors.at(-1), ...outcome.errors.slice(0, -1)] : [undefined, ...outcome.errors];
    for (const error of appended) state.extraErrors.push({ ...error, path, locations: info.fieldNodes.map((n) => n.loc && { line: n.loc.startToken.line, column: n.loc.startToken.column }).filter(Boolean) as AppSyncError['locations'] });
    if (stopping) throw new FieldError(stopping);
    return outcome.data;
  }

  /** Runs one field's resolver with an AppSync context; public for the real-time server's subscription resolvers. */
  async runResolver(
    typeName: string,
    fieldName: string,
    source: unknown,
    rawArgs: Record<string, unknown>,
    state: Pick<ExecutionState, 'caller' | 'headers' | 'variables'>,
    info: GraphQLResolveInfo,
  ): Promise<ResolverOutcome> {
    const { list, graphql } = selectionOf(info);
    const args = structuredClone(rawArgs);
    const ctx: AppSyncContext = {
      arguments: args,
      args,
      identity: state.caller.identity,
      source: source ?? null,
      stash: {},
      prev: {},
      request: { headers: state.headers, domainName: null },
      info: {
        fieldName,
        parentTypeName: typeName,
        variables: state.variables,
        selectionSetList: [...list],
        selectionSetGraphQL: graphql,
      },
      env: this.options.env ?? {},
    };
    return this.options.resolvers.resolve(typeName, fieldName, ctx, { authType: AUTH_TYPE_NAMES[state.caller.mode] });
  }

  /** Parses and validates an operation; returns AppSync-shaped errors when it is not executable. */
  prepare(request: GraphQLRequest): { document: DocumentNode; variables: Record<string, unknown>; operationName?: string } | { errors: AppSyncError[] } {
    if (typeof request.query !== 'string' || request.query.trim() === '') {
      return { errors: [{ errorType: 'MalformedHttpRequestException', message: 'The request has no GraphQL query string.' }] };
    }
    if (request.variables !== undefined && request.variables !== null && (typeof request.variables !== 'object' || Array.isArray(request.variables))) {
      return { errors: [{ errorType: 'MalformedHttpRequestException', message: 'variables must be a JSON object.' }] };
    }
    const prepared = this.parseAndValidate(request.query);
    if ('errors' in prepared) return prepared;
    return {
      document: prepared.document,
      variables: (request.variables as Record<string, unknown>) ?? {},
      operationName: typeof request.operationName === 'string' ? request.operationName : undefined,
    };
  }

  /** AppSync's queryDepthLimit, checked on the document before any resolver runs. */
  private checkDepth(document: DocumentNode): PreparedDocument | { errors: AppSyncError[] } {
    const limit = this.limits.queryDepthLimit;
    const { depth, at } = documentDepth(document);
    if (depth <= limit) return { document };
    const location = at?.loc ? [{ line: at.loc.startToken.line, column: at.loc.startToken.column }] : undefined;
    return {
      errors: [{ errorType: 'ValidationError', message: `Query depth limit of ${limit} exceeded (queryDepthLimit): the query nests ${depth} levels deep at ${at?.name.value}.`, locations: location }],
    };
  }

  /** Parsing and validation depend on the query text alone, so their result is kept per text (bounded). */
  private parseAndValidate(query: string): PreparedDocument | { errors: AppSyncError[] } {
    const cached = this.documents.get(query);
    if (cached) return cached;
    let result: PreparedDocument | { errors: AppSyncError[] };
    try {
      const document = parse(query, { maxTokens: 20_000 });
      const problems = validate(this.schema, document);
      result =
        problems.length > 0
          ? { errors: problems.map((p) => ({ errorType: 'ValidationError', message: p.message, locations: p.locations ? [...p.locations] : undefined })) }
          : this.checkDepth(document);
    } catch (error) {
      const e = error as GraphQLError;
      result = { errors: [{ errorType: 'ValidationError', message: `Syntax error: ${e.message}`, locations: e.locations ? [...e.locations] : undefined }] };
    }
    if (this.documents.size >= DOCUMENT_CACHE_SIZE) this.documents.delete(this.documents.keys().next().value!);
    this.documents.set(query, result);
    return result;
  }

  async executeHttp(request: GraphQLRequest, headers: Record<string, string>, body: string): Promise<AppSyncResponse> {
    const prepared = this.prepare(request);
    const caller = await authenticate(this.options.auth, {
      headers,
      url: this.options.endpointUrl(),
      body,
      query: typeof request.query === 'string' ? request.query : '',
      operationName: typeof request.operationName === 'string' ? request.operationName : undefined,
      variables: (request.variables as Record<string, unknown>) ?? {},
      requestId: randomUUID(),
    });
    if (!caller) {
      return { status: 401, body: { errors: [{ errorType: 'UnauthorizedException', message: 'You are not authorized to make this call.' }] } };
    }
    if ('errors' in prepared) return { status: 400, body: { errors: prepared.errors } };
    const operation = getOperationAST(prepared.document, prepared.operationName);
    if (!operation) {
      return { status: 400, body: { errors: [{ errorType: 'ValidationError', message: 'No operation to run: name one with operationName.' }] } };
    }
    if (operation.operation === 'subscription') {
      return {
        status: 400,
        body: { errors: [{ errorType: 'ValidationError', message: 'Subscriptions are served over the real-time WebSocket endpoint (/graphql/realtime), not HTTP POST.' }] },
      };
    }
    const state: ExecutionState = {
      caller,
      headers,
      variables: prepared.variables,
      extraErrors: [],
      outcomes: new Map(),
      resolverCalls: 0,
    };
    const result = (await execute({
      schema: this.schema,
      document: prepared.document,
      variableValues: prepared.variables,
      operationName: prepared.operationName,
      contextValue: state,
    })) as ExecutionResult;

    const errors: AppSyncError[] = [...(result.errors ?? []).map((e) => this.toAppSyncError(e)), ...state.extraErrors];
    if (operation.operation === 'mutation' && result.data) this.emitMutations(operation.selectionSet, result.data as Record<string, unknown>, prepared, caller, state);
    const response: AppSyncResponse['body'] = { data: (result.data as Record<string, unknown> | null | undefined) ?? null };
    if (errors.length > 0) response.errors = errors;
    return { status: 200, body: response };
  }

  private emitMutations(
    selectionSet: SelectionSetNode,
    data: Record<string, unknown>,
    prepared: { document: DocumentNode; variables: Record<string, unknown> },
    caller: AuthenticatedCaller,
    state: ExecutionState,
  ) {
    if (this.mutationListeners.size === 0) return;
    const fragments: Record<string, { selectionSet: SelectionSetNode }> = {};
    for (const def of prepared.document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments[def.name.value] = def;
    for (const selection of selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) continue;
      const key = selection.alias?.value ?? selection.name.value;
      const value = data[key];
      if (value === null || value === undefined) continue;
      const field = this.schema.getMutationType()?.getFields()[selection.name.value];
      const args: Record<string, unknown> = {};
      for (const arg of selection.arguments ?? []) {
        args[arg.name.value] = arg.value.kind === Kind.VARIABLE ? prepared.variables[arg.value.name.value] : valueFromLiteral(arg.value);
      }
      if (!field) continue;
      const event: MutationEvent = {
        fieldName: selection.name.value,
        arguments: args,
        data: pruneToSelection(value, (selection as FieldNode).selectionSet, fragments),
        caller,
        invalidations: state.outcomes.get(key)?.subscriptionInvalidations ?? [],
      };
      for (const listener of this.mutationListeners) {
        try {
          listener(event);
        } catch (error) {
          console.error('[realtime] mutation listener failed:', (error as Error).message);
        }
      }
    }
  }

  toAppSyncError(error: GraphQLError): AppSyncError {
    const base: AppSyncError = {
      path: error.path ? [...error.path] : undefined,
      locations: error.locations ? [...error.locations] : undefined,
      message: error.message,
    };
    const original = error.originalError;
    if (original instanceof FieldError) {
      const { message, errorType, data, errorInfo } = original.appsync;
      return { path: base.path, data: data ?? null, errorType, errorInfo: errorInfo ?? null, locations: base.locations, message };
    }
    if (original && !(original instanceof GraphQLError)) {
      // Unexpected faults never leak internals to the client.
      console.error('[graphql] unexpected error at', base.path?.join('.'), original);
      return { ...base, errorType: 'InternalError', message: 'An internal error occurred.' };
    }
    return { ...base, errorType: 'ValidationError' };
  }
}

function valueFromLiteral(node: import('graphql').ValueNode): unknown {
  switch (node.kind) {
    case Kind.INT:
      return Number.parseInt(node.value, 10);
    case Kind.FLOAT:
      return Number.parseFloat(node.value);
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map(valueFromLiteral);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, valueFromLiteral(f.value)]));
    default:
      return undefined;
  }
}
