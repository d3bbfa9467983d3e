/**
 * AppSync's GraphQL real-time protocol on the local runtime (`/graphql/realtime`), as AWS documents it
 * and as its clients speak it:
 *
 *   connect  subprotocol `graphql-ws`; auth as base64 JSON in the `header` query parameter (with
 *            `payload`, base64 `{}`) or in a `header-<base64url JSON>` subprotocol beside `graphql-ws`
 *   client → {type:'connection_init'}            server → {type:'connection_ack', payload:{connectionTimeoutMs}}
 *                                                server → {type:'ka'} every keepAliveMs
 *   client → {type:'start', id, payload:{data:'{"query":…,"variables":…}', extensions:{authorization:{…}}}}
 *                                                server → {type:'start_ack', id} | {type:'error', id, payload:{errors}}
 *                                                server → {type:'data', id, payload:{data:{field:{…}}}}
 *   client → {type:'stop', id}                   server → {type:'complete', id}
 *   bad connection auth                          server → {type:'connection_error', payload:{errors}} and close
 *
 * `@aws_subscribe(mutations: [...])` semantics: only mutations run through the API trigger (the API's
 * mutation hook); each given subscription argument must equal the mutation response's field of that name;
 * the enhanced filter set by the subscription resolver must pass; subscribers get the subscription's
 * selection of what the mutation selected (fields the mutation did not select are null). A mutation
 * resolver's `extensions.invalidateSubscriptions` ends the subscriptions whose invalidation filter
 * matches its payload (the client gets `complete`).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GraphQLSkipDirective,
  GraphQLIncludeDirective,
  Kind,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  isListType,
  isObjectType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type SelectionSetNode,
  getVariableValues,
} from 'graphql';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { authenticate, type AuthConfig, type AuthenticatedCaller } from '../appsync/auth';
import type { AppSyncError, GraphQLApi, MutationEvent } from '../appsync/graphql-api';
import type { LocalHttpServer } from '../http-server';
import { filterMatches, parseSubscriptionFilter, SubscriptionFilterError, type SubscriptionFilter } from './filters';
import { verifySigV4 } from '../appsync/sigv4';

export const REALTIME_PATH = '/graphql/realtime';
export const SUBPROTOCOL = 'graphql-ws';
/** What AppSync announces in connection_ack. */
export const CONNECTION_TIMEOUT_MS = 300_000;

export interface RealtimeServerOptions {
  api: GraphQLApi;
  auth: AuthConfig;
  /** Which fields have a resolver in the build (the subscription field's runs at `start`). */
  resolvers: { has(typeName: string, fieldName: string): boolean };
  /** The HTTP GraphQL endpoint: IAM signatures name it (and `<it>/connect` for the connection). */
  graphqlUrl: () => string;
  /** How often to send `ka` (default 60 s; tests use less). */
  keepAliveMs?: number;
  connectionTimeoutMs?: number;
}

export interface RealtimeError {
  errorType?: string;
  message: string;
  errorCode?: number;
  errorInfo?: unknown;
  data?: unknown;
  locations?: AppSyncError['locations'];
  path?: AppSyncError['path'];
}

export class RealtimeProtocolError extends Error {
  constructor(
    readonly errors: RealtimeError[],
    options?: { cause?: unknown },
  ) {
    super(errors.map((e) => `${e.errorType ?? 'Error'}: ${e.message}`).join('; '), options);
    this.name = 'RealtimeProtocolError';
  }
}

interface Subscription {
  id: string;
  connection: Connection;
  fieldName: string;
  responseKey: string;
  returnType: GraphQLOutputType;
  selectionSet: SelectionSetNode | undefined;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  args: Record<string, unknown>;
  /** The given arguments that name a field of the payload type: these must equal the mutation's response. */
  matchedArgs: Record<string, unknown>;
  mutations: Set<string>;
  filter: SubscriptionFilter | null;
  invalidationFilter: SubscriptionFilter | null;
}

interface Connection {
  id: string;
  socket: WebSocket;
  /** Resolves to the connection's caller, or null when its credentials were refused. */
  auth: Promise<AuthenticatedCaller | null>;
  protocolOk: boolean;
  acknowledged: boolean;
  keepAlive?: ReturnType<typeof setInterval>;
  subscriptions: Map<string, Subscription>;
  /** `start`s still being authorised/resolved; a `stop` for one of them cancels it. */
  pending: Map<string, { cancelled: boolean }>;
}

const UNAUTHORIZED: RealtimeError = { errorType: 'UnauthorizedException', message: 'You are not authorized to make this call.', errorCode: 401 };

function lowerKeys(object: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(object)) if (typeof value === 'string') out[key.toLowerCase()] = value;
  return out;
}

function decodeBase64Json(text: string): Record<string, unknown> | null {
  // Clients send standard base64 in the query string and base64url in the subprotocol; accept both.
  const normalised = text.replace(/-/g, '+').replace(/_/g, '/');
  try {
    const value = JSON.parse(Buffer.from(normalised, 'base64').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  return (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** The connection's auth header object and the payload it was signed over. */
function connectionAuth(req: IncomingMessage): { header: Record<string, unknown>; payload: string } | null {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const fromSubprotocol = offeredProtocols(req).find((p) => p.startsWith('header-'));
  if (fromSubprotocol) {
    const header = decodeBase64Json(fromSubprotocol.slice('header-'.length));
    return header ? { header, payload: '{}' } : null;
  }
  const headerParam = url.searchParams.get('header');
  if (!headerParam) return null;
  const header = decodeBase64Json(headerParam);
  if (!header) return null;
  const payloadParam = url.searchParams.get('payload');
  const payload = payloadParam ? Buffer.from(payloadParam.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8') : '{}';
  return { header, payload };
}

export class RealtimeServer {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  /** Subscriptions by triggering mutation name, and by subscription field (for invalidation). */
  private readonly byMutation = new Map<string, Set<Subscription>>();
  private readonly byField = new Map<string, Set<Subscription>>();
  private readonly unsubscribeApi: () => void;
  private readonly keepAliveMs: number;
  private readonly connectionTimeoutMs: number;
  private closed = false;

  constructor(private readonly options: RealtimeServerOptions) {
    this.keepAliveMs = options.keepAliveMs ?? 60_000;
    this.connectionTimeoutMs = options.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS;
    this.wss = new WebSocketServer({
      noServer: true,
      // AppSync's payloads are at most 240 KB; a little headroom for the envelope.
      maxPayload: 512 * 1024,
      // Select graphql-ws when offered; otherwise select none and answer with a connection_error.
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.unsubscribeApi = options.api.onMutation((event) => this.onMutation(event));
  }

  /** Serves the protocol on `path` (and `/graphql`, where AppSync's own real-time host serves it). */
  attach(http: LocalHttpServer, paths: string[] = [REALTIME_PATH, '/graphql']) {
    for (const path of paths) http.onUpgrade(path, (req, socket, head) => this.handleUpgrade(req, socket, head));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get subscriptionCount(): number {
    let n = 0;
    for (const c of this.connections) n += c.subscriptions.size;
    return n;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  private accept(socket: WebSocket, req: IncomingMessage) {
    const protocolOk = socket.protocol === SUBPROTOCOL;
    const auth = connectionAuth(req);
    const connection: Connection = {
      id: randomUUID(),
      socket,
      protocolOk,
      acknowledged: false,
      subscriptions: new Map(),
      pending: new Map(),
      auth:
        protocolOk && auth
          ? this.authorise(auth.header, `${this.options.graphqlUrl()}/connect`, auth.payload, '').catch((error: unknown) => {
              console.error('[realtime] connection auth failed:', (error as Error)?.message);
              return null;
            })
          : Promise.resolve(null),
    };
    this.connections.add(connection);
    socket.on('message', (raw, isBinary) => this.onMessage(connection, raw, isBinary));
    socket.on('close', () => this.drop(connection));
    socket.on('error', () => this.drop(connection));
    // Refused credentials end the connection at once, whether or not the client has sent anything yet.
    void connection.auth.then((caller) => {
      if (!caller && protocolOk) this.refuse(connection);
    });
    if (!protocolOk) {
      // What AppSync answers a client that did not offer graphql-ws.
      this.send(connection, { type: 'connection_error', payload: { errors: [{ message: 'SubProtocolNotSupportedError', errorCode: 400 }] } });
      socket.close(1002, 'graphql-ws subprotocol required');
    }
  }

  /** Authorises a connection or a `start` with the same rules as HTTP requests. */
  private async authorise(headerObject: Record<string, unknown>, url: string, body: string, query: string, variables: Record<string, unknown> = {}): Promise<AuthenticatedCaller | null> {
    const headers = lowerKeys(headerObject);
    const { iam } = this.options.auth;
    if (headers['authorization']?.startsWith('AWS4-HMAC-SHA256')) {
      if (!iam || !verifySigV4(headers, url, body, iam)) return null;
      // The same identity the HTTP endpoint gives an IAM caller (local/appsync/auth.ts).
      return {
        mode: 'AWS_IAM',
        identity: {
          accountId: iam.accountId,
          userArn: `arn:aws:iam::${iam.accountId}:user/${iam.credentials.accessKeyId}`,
          username: iam.credentials.accessKeyId,
          sourceIp: ['127.0.0.1'],
          cognitoIdentityPoolId: null,
          cognitoIdentityId: null,
        },
        deniedFields: [],
      };
    }
    return authenticate(this.options.auth, { headers, url, body, query, variables, requestId: randomUUID() });
  }

  private send(connection: Connection, message: Record<string, unknown>) {
    if (connection.socket.readyState === WebSocket.OPEN) connection.socket.send(JSON.stringify(message));
  }

  private sendError(connection: Connection, id: string | undefined, errors: RealtimeError[]) {
    this.send(connection, id === undefined ? { type: 'error', payload: { errors } } : { type: 'error', id, payload: { errors } });
  }

  private async onMessage(connection: Connection, raw: RawData, isBinary: boolean) {
    if (isBinary) return this.sendError(connection, undefined, [{ errorType: 'UnsupportedOperation', message: 'Binary messages are not supported through the realtime channel' }]);
    let message: { type?: unknown; id?: unknown; payload?: unknown };
    try {
      message = JSON.parse(raw.toString());
    } catch {
      return this.sendError(connection, undefined, [{ errorType: 'MessageParsingError', message: 'The message is not valid JSON' }]);
    }
    if (!message || typeof message !== 'object') return this.sendError(connection, undefined, [{ errorType: 'MessageParsingError', message: 'The message must be a JSON object' }]);

    const caller = await connection.auth;
    if (!caller) return this.refuse(connection);
    switch (message.type) {
      case 'connection_init':
        return this.acknowledge(connection);
      case 'start':
        // connection_init is optional in AppSync's protocol; a start implies it.
        if (!connection.acknowledged) this.startKeepAlive(connection);
        return this.start(connection, message.id, message.payload);
      case 'stop':
        return this.stop(connection, message.id);
      default:
        return this.sendError(connection, typeof message.id === 'string' ? message.id : undefined, [
          { errorType: 'UnsupportedOperation', message: `${String(message.type)} not supported through the realtime channel` },
        ]);
    }
  }

  private refuse(connection: Connection) {
    this.send(connection, { type: 'connection_error', payload: { errors: [UNAUTHORIZED] } });
    connection.socket.close(1000);
  }

  private acknowledge(connection: Connection) {
    this.send(connection, { type: 'connection_ack', payload: { connectionTimeoutMs: this.connectionTimeoutMs } });
    if (!connection.acknowledged) this.startKeepAlive(connection);
  }

  private startKeepAlive(connection: Connection) {
    connection.acknowledged = true;
    this.send(connection, { type: 'ka' });
    connection.keepAlive = setInterval(() => this.send(connection, { type: 'ka' }), this.keepAliveMs);
    connection.keepAlive.unref?.();
  }

  private async start(connection: Connection, rawId: unknown, payload: unknown) {
    if (typeof rawId !== 'string' || rawId === '') {
      return this.sendError(connection, undefined, [{ errorType: 'MessageParsingError', message: 'A start message needs a string id' }]);
    }
    const id = rawId;
    if (connection.subscriptions.has(id) || connection.pending.has(id)) {
      return this.sendError(connection, id, [{ errorType: 'DuplicatedOperationError', message: `Subscription with id ${id} already exists` }]);
    }
    const ticket = { cancelled: false };
    connection.pending.set(id, ticket);
    try {
      const subscription = await this.prepareSubscription(connection, id, payload);
      if (ticket.cancelled || connection.socket.readyState !== WebSocket.OPEN) return;
      this.register(subscription);
      this.send(connection, { type: 'start_ack', id });
    } catch (error) {
      if (ticket.cancelled) return;
      if (error instanceof RealtimeProtocolError) return this.sendError(connection, id, error.errors);
      console.error('[realtime] start failed:', error);
      this.sendError(connection, id, [{ errorType: 'InternalFailure', message: 'An internal error occurred.' }]);
    } finally {
      connection.pending.delete(id);
    }
  }

  private async prepareSubscription(connection: Connection, id: string, payload: unknown): Promise<Subscription> {
    const { api } = this.options;
    const envelope = (payload ?? {}) as { data?: unknown; extensions?: { authorization?: unknown } };
    if (typeof envelope.data !== 'string') throw new RealtimeProtocolError([{ errorType: 'MessageParsingError', message: 'payload.data must be a JSON string of {query, variables}' }]);
    let request: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      request = JSON.parse(envelope.data);
    } catch (error) {
      throw new RealtimeProtocolError([{ errorType: 'MessageParsingError', message: 'payload.data is not valid JSON' }], { cause: error });
    }
    const authorization = envelope.extensions?.authorization;
    if (!authorization || typeof authorization !== 'object') throw new RealtimeProtocolError([UNAUTHORIZED]);
    const query = typeof request?.query === 'string' ? request.query : '';
    const rawVariables = request?.variables && typeof request.variables === 'object' ? (request.variables as Record<string, unknown>) : {};
    const caller = await this.authorise(authorization as Record<string, unknown>, this.options.graphqlUrl(), envelope.data, query, rawVariables);
    if (!caller) throw new RealtimeProtocolError([UNAUTHORIZED]);

    const prepared = api.prepare(request ?? {});
    if ('errors' in prepared) throw new RealtimeProtocolError(prepared.errors);
    const operation = getOperationAST(prepared.document, prepared.operationName);
    if (!operation) throw new RealtimeProtocolError([{ errorType: 'ValidationError', message: 'No operation to run: name one with operationName.' }]);
    if (operation.operation !== 'subscription') {
      throw new RealtimeProtocolError([{ errorType: 'UnsupportedOperation', message: `${operation.operation} not supported through the realtime channel` }]);
    }
    const subscriptionType = api.schema.getSubscriptionType()!;
    const fieldNode = operation.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && !s.name.value.startsWith('__'));
    if (!fieldNode) throw new RealtimeProtocolError([{ errorType: 'ValidationError', message: 'A subscription must select one subscription field.' }]);
    const field = subscriptionType.getFields()[fieldNode.name.value]!;
    const fragments = fragmentsOf(prepared.document);

    this.checkFieldAccess(subscriptionType, field, caller);
    this.checkSelectionAccess(getNamedType(field.type), fieldNode.selectionSet, fragments, caller);

    const coerced = getVariableValues(api.schema, operation.variableDefinitions ?? [], prepared.variables);
    if (coerced.errors) throw new RealtimeProtocolError(coerced.errors.map((e) => ({ errorType: 'ValidationError', message: e.message })));
    const variables = coerced.coerced;
    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(field, fieldNode, variables);
    } catch (error) {
      throw new RealtimeProtocolError([{ errorType: 'ValidationError', message: (error as Error).message }], { cause: error });
    }

    let filter: SubscriptionFilter | null = null;
    let invalidationFilter: SubscriptionFilter | null = null;
    if (this.options.resolvers.has(subscriptionType.name, field.name)) {
      const info = {
        fieldName: field.name,
        fieldNodes: [fieldNode],
        returnType: field.type,
        parentType: subscriptionType,
        path: { prev: undefined, key: fieldNode.alias?.value ?? field.name, typename: subscriptionType.name },
        schema: api.schema,
        fragments,
        rootValue: null,
        operation,
        variableValues: variables,
      } as unknown as GraphQLResolveInfo;
      const outcome = await api.runResolver(subscriptionType.name, field.name, null, args, { caller, headers: lowerKeys(authorization as Record<string, unknown>), variables }, info);
      if (outcome.data === undefined) {
        const stopping = outcome.errors.at(-1)!;
        throw new RealtimeProtocolError([{ errorType: stopping.errorType ?? undefined, message: stopping.message, errorInfo: stopping.errorInfo ?? null, data: stopping.data ?? null, path: [field.name] }]);
      }
      try {
        filter = parseSubscriptionFilter(outcome.subscriptionFilter);
        invalidationFilter = parseSubscriptionFilter(outcome.subscriptionInvalidationFilter);
      } catch (error) {
        if (error instanceof SubscriptionFilterError) throw new RealtimeProtocolError([{ errorType: 'ValidationError', message: `Invalid subscription filter: ${error.message}` }], { cause: error });
        throw error;
      }
    }

    return {
      id,
      connection,
      fieldName: field.name,
      responseKey: fieldNode.alias?.value ?? field.name,
      returnType: field.type,
      selectionSet: fieldNode.selectionSet,
      fragments,
      variables,
      args,
      matchedArgs: matchableArguments(args, field.type),
      mutations: new Set(subscribedMutations(field)),
      filter,
      invalidationFilter,
    };
  }

  private checkFieldAccess(type: GraphQLObjectType, field: GraphQLField<unknown, unknown>, caller: AuthenticatedCaller) {
    const allowed = this.options.api.allowedModes(type, field);
    if (!allowed.includes(caller.mode) || caller.deniedFields.includes(`${type.name}.${field.name}`) || caller.deniedFields.includes(field.name)) {
      throw new RealtimeProtocolError([{ errorType: 'Unauthorized', message: `Not Authorized to access ${field.name} on type ${type.name}` }]);
    }
  }

  /** Field-level auth of the payload's fields is checked once, at start, for the subscriber. */
  private checkSelectionAccess(type: ReturnType<typeof getNamedType>, selectionSet: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, caller: AuthenticatedCaller) {
    if (!selectionSet || !isObjectType(type)) return;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue;
        const field = type.getFields()[selection.name.value];
        if (!field) continue;
        this.checkFieldAccess(type, field, caller);
        this.checkSelectionAccess(getNamedType(field.type), selection.selectionSet, fragments, caller);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        this.checkSelectionAccess(type, selection.selectionSet, fragments, caller);
      } else {
        this.checkSelectionAccess(type, fragments[selection.name.value]?.selectionSet, fragments, caller);
      }
    }
  }

  private register(subscription: Subscription) {
    subscription.connection.subscriptions.set(subscription.id, subscription);
    for (const mutation of subscription.mutations) {
      let set = this.byMutation.get(mutation);
      if (!set) this.byMutation.set(mutation, (set = new Set()));
      set.add(subscription);
    }
    let byField = this.byField.get(subscription.fieldName);
    if (!byField) this.byField.set(subscription.fieldName, (byField = new Set()));
    byField.add(subscription);
  }

  private unregister(subscription: Subscription) {
    subscription.connection.subscriptions.delete(subscription.id);
    for (const mutation of subscription.mutations) this.byMutation.get(mutation)?.delete(subscription);
    this.byField.get(subscription.fieldName)?.delete(subscription);
  }

  private stop(connection: Connection, rawId: unknown) {
    if (typeof rawId !== 'string') return this.sendError(connection, undefined, [{ errorType: 'MessageParsingError', message: 'A stop message needs a string id' }]);
    const pending = connection.pending.get(rawId);
    if (pending) pending.cancelled = true;
    const subscription = connection.subscriptions.get(rawId);
    if (subscription) this.unregister(subscription);
    this.send(connection, { type: 'complete', id: rawId });
  }

  private drop(connection: Connection) {
    if (!this.connections.delete(connection)) return;
    if (connection.keepAlive) clearInterval(connection.keepAlive);
    for (const ticket of connection.pending.values()) ticket.cancelled = true;
    for (const subscription of [...connection.subscriptions.values()]) this.unregister(subscription);
  }

  private onMutation(event: MutationEvent) {
    const invalidations = event.invalidations ?? [];
    for (const invalidation of invalidations) this.invalidate(invalidation);

    const subscribers = this.byMutation.get(event.fieldName);
    if (!subscribers || subscribers.size === 0) return;
    for (const subscription of [...subscribers]) {
      if (!argumentsMatch(subscription.matchedArgs, event.data)) continue;
      if (!filterMatches(subscription.filter, event.data)) continue;
      const value = project(event.data, subscription.selectionSet, subscription.returnType, subscription.fragments, subscription.variables);
      this.send(subscription.connection, { id: subscription.id, type: 'data', payload: { data: { [subscription.responseKey]: value } } });
    }
  }

  /** `extensions.invalidateSubscriptions({subscriptionField, payload})` from a mutation resolver. */
  private invalidate(invalidation: unknown) {
    if (!invalidation || typeof invalidation !== 'object') return;
    const { subscriptionField, payload } = invalidation as { subscriptionField?: unknown; payload?: unknown };
    if (typeof subscriptionField !== 'string') return;
    for (const subscription of [...(this.byField.get(subscriptionField) ?? [])]) {
      // Only subscriptions whose resolver set an invalidation filter can be invalidated.
      if (!subscription.invalidationFilter || !filterMatches(subscription.invalidationFilter, payload ?? {})) continue;
      this.unregister(subscription);
      this.send(subscription.connection, { type: 'complete', id: subscription.id });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeApi();
    for (const connection of [...this.connections]) {
      this.drop(connection);
      connection.socket.terminate();
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  const out: Record<string, FragmentDefinitionNode> = {};
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) out[def.name.value] = def;
  return out;
}

/** The `mutations` of a field's `@aws_subscribe` directive. */
export function subscribedMutations(field: GraphQLField<unknown, unknown>): string[] {
  const directive = field.astNode?.directives?.find((d) => d.name.value === 'aws_subscribe');
  const arg = directive?.arguments?.find((a) => a.name.value === 'mutations');
  if (!arg) return [];
  if (arg.value.kind === Kind.LIST) return arg.value.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : []));
  return arg.value.kind === Kind.STRING ? [arg.value.value] : [];
}

/**
 * The arguments that take part in AppSync's basic argument matching: those naming a field of the
 * payload type. Others (e.g. `minPriority`) only feed the subscription resolver's enhanced filter.
 */
function matchableArguments(args: Record<string, unknown>, type: GraphQLOutputType): Record<string, unknown> {
  const named = getNamedType(type);
  if (!isObjectType(named)) return {};
  const fields = named.getFields();
  return Object.fromEntries(Object.entries(args).filter(([name]) => name in fields));
}

/** Every argument given (not null) must equal the mutation response's field of the same name. */
function argumentsMatch(args: Record<string, unknown>, data: unknown): boolean {
  for (const [name, expected] of Object.entries(args)) {
    if (expected === null || expected === undefined) continue;
    const actual = data && typeof data === 'object' ? (data as Record<string, unknown>)[name] : undefined;
    if (actual === undefined || actual === null) return false;
    const same =
      typeof expected === 'object' || typeof actual === 'object' ? JSON.stringify(expected) === JSON.stringify(actual) : String(expected) === String(actual);
    if (!same) return false;
  }
  return true;
}

function included(node: { directives?: readonly unknown[] }, variables: Record<string, unknown>): boolean {
  if (!node.directives?.length) return true;
  const skip = getDirectiveValues(GraphQLSkipDirective, node as FieldNode, variables);
  if (skip?.if === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node as FieldNode, variables);
  return include?.if !== false;
}

/**
 * The subscription's selection of the mutation's (already serialised, field-name keyed) result, keyed
 * by the subscription's aliases; what the mutation did not select is null.
 */
export function project(
  value: unknown,
  selectionSet: SelectionSetNode | undefined,
  type: GraphQLOutputType,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): unknown {
  if (value === null || value === undefined) return null;
  const nullable = getNullableType(type);
  if (isListType(nullable)) return Array.isArray(value) ? value.map((item) => project(item, selectionSet, nullable.ofType, fragments, variables)) : null;
  if (!isObjectType(nullable) || !selectionSet || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (!included(selection, variables)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        if (selection.name.value === '__typename') {
          out[key] = nullable.name;
          continue;
        }
        const field = nullable.getFields()[selection.name.value];
        if (!field) continue;
        out[key] = project(source[selection.name.value], selection.selectionSet, field.type, fragments, variables);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (!selection.typeCondition || selection.typeCondition.name.value === nullable.name) visit(selection.selectionSet);
      } else {
        const fragment = fragments[selection.name.value];
        if (fragment && fragment.typeCondition.name.value === nullable.name) visit(fragment.selectionSet);
      }
    }
  };
  visit(selectionSet);
  return out;
}
