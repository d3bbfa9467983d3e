/**
 * Runs built APPSYNC_JS bundles the way AppSync does: unit resolvers (request → data source → response)
 * and pipeline resolvers (before → functions → after) with a shared stash, `util.error` stopping the
 * resolver, `util.appendError` collecting, `runtime.earlyReturn` skipping.
 *
 * Each bundle is compiled once into its own `node:vm` context. APPSYNC_JS handlers are synchronous, so
 * the per-call state (errors, subscription filters) is swapped in around each handler call.
 */
import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkedCommonJs, ResolverTransformError } from './resolver-load-cache';
import { createResolverGlobals, type AppSyncAuthTypeName, type ResolverState } from './util';
import { createDynamoDBModule } from './dynamodb-module';
import { EarlyReturnSignal, UtilErrorSignal, type AppSyncGraphQLError } from './signals';
import type { ResolverManifest, ResolverManifestEntry } from '#contract/manifest';

/** What a data source does with a request object; `error` becomes `ctx.error`. */
export type DataSourceInvoker = (
  dataSource: string,
  request: unknown,
  ctx: AppSyncContext,
) => Promise<{ result?: unknown; error?: { message: string; type: string } }>;

export interface AppSyncIdentity {
  [key: string]: unknown;
}

export interface AppSyncContext {
  arguments: Record<string, unknown>;
  args: Record<string, unknown>;
  identity: AppSyncIdentity | null;
  source: unknown;
  stash: Record<string, unknown>;
  result?: unknown;
  error?: { message: string; type: string };
  prev: { result?: unknown };
  request: { headers: Record<string, string>; domainName: string | null };
  info: {
    fieldName: string;
    parentTypeName: string;
    variables: Record<string, unknown>;
    selectionSetList: string[];
    selectionSetGraphQL: string;
  };
  env: Record<string, string>;
}

export interface ResolverOutcome {
  /** The field's value (undefined when the resolver stopped with util.error). */
  data: unknown;
  /** util.error (at most one, stops the resolver) and util.appendError entries. */
  errors: AppSyncGraphQLError[];
  /** Set by a subscription resolver: extensions.setSubscriptionFilter. */
  subscriptionFilter?: unknown;
  subscriptionInvalidationFilter?: unknown;
  subscriptionInvalidations: unknown[];
}

type Handler = (ctx: AppSyncContext) => unknown;

interface LoadedCode {
  file: string;
  request?: Handler;
  response?: Handler;
  bind(state: ResolverState): void;
}

export class ResolverLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ResolverLoadError';
  }
}

const LOAD_TIMEOUT_MS = 30_000;

/** Compiles one ESM bundle into a vm context whose `@aws-appsync/utils*` imports are our runtime. */
export function loadResolverCode(file: string, code: string): LoadedCode {
  // Checked (APPSYNC_JS rules) and made CommonJS once per bundle content; a start with unchanged bundles reuses that.
  let cjs: string;
  try {
    cjs = checkedCommonJs(file, code);
  } catch (error) {
    if (error instanceof ResolverTransformError) throw new ResolverLoadError(error.message, { cause: error.cause });
    throw error;
  }
  let current: ResolverState = newState();
  // The globals delegate to whichever call is running, so one compiled context serves every call.
  const globals = createResolverGlobals(
    new Proxy({} as ResolverState, {
      get: (_, key) => current[key as keyof ResolverState],
      set: (_, key, value) => {
        (current as unknown as Record<PropertyKey, unknown>)[key] = value;
        return true;
      },
    }),
  );
  const dynamodb = createDynamoDBModule(globals.util);
  const modules: Record<string, unknown> = {
    '@aws-appsync/utils': { ...globals, util: globals.util, runtime: globals.runtime, extensions: globals.extensions },
    '@aws-appsync/utils/dynamodb': dynamodb,
  };
  const module = { exports: {} as Record<string, unknown> };
  const context = vm.createContext({
    JSON: globals.JSON,
    module,
    exports: module.exports,
    console: {
      log: (...args: unknown[]) => console.log(`[resolver ${file}]`, ...args),
      error: (...args: unknown[]) => console.error(`[resolver ${file}]`, ...args),
    },
    require: (name: string) => {
      if (name in modules) return modules[name];
      throw new ResolverLoadError(`${file} imports ${name}, which APPSYNC_JS does not provide`);
    },
  });
  try {
    // A guard against a bundle whose top level never ends. It is wall-clock time: on a loaded machine a
    // descheduled start took over 1 s for a bundle that defines a few functions, so the bound is generous.
    new vm.Script(cjs, { filename: file }).runInContext(context, { timeout: LOAD_TIMEOUT_MS });
  } catch (error) {
    throw new ResolverLoadError(`${file} failed to load: ${(error as Error).message}`, { cause: error });
  }
  const exported = module.exports;
  return {
    file,
    request: typeof exported.request === 'function' ? (exported.request as Handler) : undefined,
    response: typeof exported.response === 'function' ? (exported.response as Handler) : undefined,
    bind(state) {
      current = state;
    },
  };
}

function newState(meta?: ResolveMeta, ctx?: AppSyncContext): ResolverState {
  return {
    errors: [],
    subscriptionInvalidations: [],
    apiCacheEvictions: [],
    authType: meta?.authType,
    info: ctx ? { fieldName: ctx.info.fieldName, parentTypeName: ctx.info.parentTypeName } : undefined,
  };
}

/** What the executor knows about the call beyond the context. */
export interface ResolveMeta {
  authType?: AppSyncAuthTypeName;
}

type Step =
  | { kind: 'value'; value: unknown }
  | { kind: 'early'; value: unknown; skipToEnd: boolean }
  | { kind: 'error'; error: AppSyncGraphQLError };

function runHandler(code: LoadedCode, which: 'request' | 'response', ctx: AppSyncContext, state: ResolverState): Step {
  const handler = code[which];
  // AppSync passes the request object through / returns ctx.result when a handler is absent.
  if (!handler) return { kind: 'value', value: which === 'request' ? {} : ctx.result };
  code.bind(state);
  try {
    return { kind: 'value', value: handler(ctx) };
  } catch (error) {
    if (error instanceof UtilErrorSignal) return { kind: 'error', error: error.toGraphQLError() };
    if (error instanceof EarlyReturnSignal) return { kind: 'early', value: error.value, skipToEnd: error.returnOptions?.skipTo === 'END' };
    // A runtime fault in resolver code: AppSync reports it as a code error without internals.
    return {
      kind: 'error',
      error: { message: `Runtime error in ${which} handler: ${(error as Error)?.message ?? String(error)}`, errorType: 'Code' },
    };
  }
}

/** A resolver set loaded from a build's manifest. */
export class ResolverSet {
  private readonly resolvers = new Map<string, { entry: ResolverManifestEntry; code: LoadedCode }>();
  private readonly functions = new Map<string, { dataSource: string; code: LoadedCode }>();

  constructor(
    manifest: ResolverManifest,
    bundleDir: string,
    private readonly invoke: DataSourceInvoker,
  ) {
    for (const fn of manifest.functions) {
      const file = join(bundleDir, fn.code);
      this.functions.set(fn.name, { dataSource: fn.dataSource, code: loadResolverCode(fn.code, readFileSync(file, 'utf8')) });
    }
    for (const entry of manifest.resolvers) {
      const file = join(bundleDir, entry.code);
      this.resolvers.set(`${entry.typeName}.${entry.fieldName}`, { entry, code: loadResolverCode(entry.code, readFileSync(file, 'utf8')) });
    }
  }

  static fromBuild(bundleDir: string, invoke: DataSourceInvoker): ResolverSet {
    const manifest = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8')) as ResolverManifest;
    return new ResolverSet(manifest, bundleDir, invoke);
  }

  has(typeName: string, fieldName: string): boolean {
    return this.resolvers.has(`${typeName}.${fieldName}`);
  }

  fields(): string[] {
    return [...this.resolvers.keys()];
  }

  async resolve(typeName: string, fieldName: string, ctx: AppSyncContext, meta?: ResolveMeta): Promise<ResolverOutcome> {
    const found = this.resolvers.get(`${typeName}.${fieldName}`);
    if (!found) throw new ResolverLoadError(`no resolver for ${typeName}.${fieldName}`);
    const state = newState(meta, ctx);
    const outcome = (data: unknown, error?: AppSyncGraphQLError): ResolverOutcome => ({
      data: error ? undefined : data,
      errors: error ? [...state.errors, error] : state.errors,
      subscriptionFilter: state.subscriptionFilter,
      subscriptionInvalidationFilter: state.subscriptionInvalidationFilter,
      subscriptionInvalidations: state.subscriptionInvalidations,
    });

    const { entry, code } = found;
    const before = runHandler(code, 'request', ctx, state);
    if (before.kind === 'error') return outcome(undefined, before.error);
    if (before.kind === 'early') return outcome(before.value);

    if (entry.kind === 'unit') {
      const step = await this.callDataSource(entry.dataSource!, before.value, ctx);
      Object.assign(ctx, step);
      const after = runHandler(code, 'response', ctx, state);
      if (after.kind === 'error') return outcome(undefined, after.error);
      return outcome(after.value);
    }

    // Pipeline: the before handler's return value becomes ctx.prev.result for the first function.
    ctx.prev = { result: before.value };
    for (const name of entry.functions ?? []) {
      const fn = this.functions.get(name)!;
      delete ctx.result;
      delete ctx.error;
      const request = runHandler(fn.code, 'request', ctx, state);
      if (request.kind === 'error') return outcome(undefined, request.error);
      if (request.kind === 'early') {
        ctx.prev = { result: request.value };
        // skipTo END jumps to the pipeline's after handler; the default moves on to the next function.
        if (request.skipToEnd) break;
        continue;
      }
      Object.assign(ctx, await this.callDataSource(fn.dataSource, request.value, ctx));
      const response = runHandler(fn.code, 'response', ctx, state);
      if (response.kind === 'error') return outcome(undefined, response.error);
      ctx.prev = { result: response.value };
    }
    delete ctx.error;
    ctx.result = ctx.prev.result;
    const after = runHandler(code, 'response', ctx, state);
    if (after.kind === 'error') return outcome(undefined, after.error);
    return outcome(after.value);
  }

  private async callDataSource(dataSource: string, request: unknown, ctx: AppSyncContext) {
    const { result, error } = await this.invoke(dataSource, request, ctx);
    return error ? { result: null, error } : { result, error: undefined };
  }
}

export { UtilErrorSignal, EarlyReturnSignal };
