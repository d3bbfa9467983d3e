/**
 * The whole local stack on one machine: DynamoDB Local (or a given endpoint) with the tables of
 * contract/tables.ts, the real resolver bundles behind AppSync's GraphQL API on http://127.0.0.1:PORT/graphql,
 * the Lambda handlers in-process, and the MAL sandbox unless real MAL credentials are configured.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, startDynamoDBLocal, type DynamoDBLocalHandle } from './dynamodb-local';
import { createTables } from './tables';
import { ResolverSet } from './appsync/executor';
import { GraphQLApi } from './appsync/graphql-api';
import { createDataSourceInvoker, loadHandler, type LambdaHandler } from './appsync/datasources';
import { DynamoDBJsonClient } from './appsync/dynamodb-json-client';
import { LocalHttpServer } from './http-server';
import type { LambdaAuthorizerEvent, LambdaAuthorizerResult } from './appsync/auth';
import type { IamCredentials } from '../functions/shared/iam-signer';
import type { LambdaFunctionId } from '#contract/datasources';
import { AUTHORIZER_CACHE_SECONDS, FUNCTIONS, type FunctionDefinition, type FunctionId } from '#contract/functions';
import { REQUESTS_PER_MINUTE } from '#contract/user-limits';
import { cachedAuthorizer, type AuthorizerCache } from './authorizer-cache';
import { registerLocalSyncQueue, type SyncMessage, type SyncWorkerHandler } from '../functions/shared/sync-queue-port';
import { LocalSyncQueue } from './sync-queue';
import { authorizeAccess, registerAccessChecker } from '../functions/shared/aws-access';
import { asFunction, createGrantChecker } from './grants';
import { startMalSandbox, type MalSandbox, type MalSandboxOptions } from './mal-sandbox';
import { resetEnvironment } from '../functions/shared/config';
// Real-time, console page and HTTPS (local/realtime, local/console).
import { RealtimeServer, REALTIME_PATH } from './realtime/server';
import { listenHttps, localCertificate } from './realtime/https';
import { mountConsole, mountSignInCallback } from './console/serve';

export const ROOT = resolve(import.meta.dirname, '..');

/** SQS's stand-in, with SendMessage checked against the sending function's grants as SQS would. */
class GrantCheckedSyncQueue extends LocalSyncQueue {
  override send(message: SyncMessage, options?: { delayMs?: number }): void {
    authorizeAccess('sqs:SendMessage', { kind: 'sync-queue' });
    super.send(message, options);
  }
}

export interface LocalStackOptions {
  /** HTTP port (default 4000; 0 picks a free one). */
  port?: number;
  /** Table-name stage (default "local"); tests use a unique one to share a DynamoDB Local. */
  stage?: string;
  /** Use this DynamoDB endpoint instead of starting DynamoDB Local. */
  dynamodbEndpoint?: string;
  /**
   * Settles when that endpoint answers (npm start's own DynamoDB Local, still starting): awaited only
   * where the tables are created, just before the stack listens, so everything else starts meanwhile.
   */
  dynamodbReady?: Promise<unknown>;
  /** Keep DynamoDB Local's data in this folder (default: in memory). */
  dataDir?: string;
  /** The local API key (default: a random one). */
  apiKey?: string;
  /** Built resolver bundles (default dist/resolvers). */
  bundleDir?: string;
  /** Extra environment for the in-process functions. */
  env?: Record<string, string>;
  /** Options of the MAL sandbox; `false` uses real MAL (needs MAL_CLIENT_ID, MAL_CLIENT_SECRET, REDIRECT_URI). */
  malSandbox?: MalSandboxOptions | false;
  /** Serve HTTPS/WSS on a self-signed certificate kept in `dir` (default ~/.animelog/local-https). */
  https?: boolean | { dir?: string };
  /** Interval of the real-time endpoint's `ka` messages (default 60 s). */
  keepAliveMs?: number;
  /** Serve the console page at GET / (default true; bundles it on first start if dist/console is empty). */
  console?: boolean;
  /**
   * The function definitions whose grants the functions run under (default FUNCTIONS of
   * contract/functions.ts; tests pass a variant to see a missing grant refused).
   */
  functions?: readonly FunctionDefinition[];
  /**
   * Seconds the authorizer's answer for a token is reused (AppSync's resultsCacheTtl; default as
   * deployed, AUTHORIZER_CACHE_SECONDS; 0 turns the cache off).
   */
  authorizerCacheTtlSeconds?: number;
}

export interface LocalStack {
  url: string;
  graphqlUrl: string;
  realtimeUrl: string;
  apiKey: string;
  /** Credentials the local runtime accepts for IAM (SigV4) callers such as the sync worker. */
  iam: { region: string; credentials: IamCredentials; accountId: string };
  dynamodbEndpoint: string;
  stage: string;
  api: GraphQLApi;
  http: LocalHttpServer;
  /** The MAL sandbox, when the stack runs one. */
  malSandbox?: MalSandbox;
  /** Redirect URIs sign-in accepts. */
  redirectUris: string[];
  /** The real-time (WebSocket) endpoint's server. */
  realtime: RealtimeServer;
  /** Set when serving HTTPS: the certificate to trust (docs/local-https.md). */
  tls?: { certPath: string; fingerprint: string };
  /** The authorizer's answer cache (tests clear it to stand for its TTL passing). */
  authorizerCache: Pick<AuthorizerCache, 'clear' | 'size'>;
  stop(): Promise<void>;
}

/** Real MAL when a client id and redirect URI are configured (MAL's "other" apps have no secret); the sandbox otherwise. */
export function realMalConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.MAL_CLIENT_ID && env.REDIRECT_URI);
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const stage = options.stage ?? 'local';
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error('[stack] stop:', (e as Error).message));
  };
  try {
    // The endpoint is known at once (its port chosen first); DynamoDB Local answers later, awaited at the tables.
    let dynamodbEndpoint = options.dynamodbEndpoint;
    let dynamodbReady = options.dynamodbReady ?? Promise.resolve();
    if (!dynamodbEndpoint) {
      const port = await freePort();
      const own: Promise<DynamoDBLocalHandle> = startDynamoDBLocal({ port, dataDir: options.dataDir });
      cleanups.push(() => own.then((ddb) => ddb.stop(), () => {}));
      dynamodbEndpoint = `http://127.0.0.1:${port}`;
      dynamodbReady = own;
    }
    dynamodbReady.catch(() => {}); // reported where it is awaited

    const iam = {
      region: 'us-east-1',
      accountId: '000000000000',
      credentials: { accessKeyId: 'LOCALINTERNAL', secretAccessKey: randomBytes(24).toString('base64url') },
    };
    // The in-process functions read their configuration from the environment, as in Lambda.
    Object.assign(process.env, {
      STAGE: stage,
      DYNAMODB_ENDPOINT: dynamodbEndpoint,
      AWS_REGION: iam.region,
      ...options.env,
    });

    // MAL: the sandbox unless real credentials are configured (then MAL_* stay as the user set them).
    let malSandbox: MalSandbox | undefined;
    const useSandbox = options.malSandbox !== false && !realMalConfigured();
    if (useSandbox) {
      malSandbox = await startMalSandbox({ ...(options.malSandbox || {}) });
      cleanups.push(() => malSandbox!.close());
      Object.assign(process.env, {
        MAL_CLIENT_ID: malSandbox.clientId,
        MAL_CLIENT_SECRET: malSandbox.clientSecret,
        MAL_AUTH_BASE_URL: malSandbox.authBaseUrl,
        MAL_API_BASE_URL: malSandbox.apiBaseUrl,
      });
    }
    resetEnvironment();

    // IAM as the deployed stack has it: each function's AWS calls are checked against its grants.
    const unregisterGrants = registerAccessChecker(
      createGrantChecker({ definitions: options.functions ?? FUNCTIONS, stage, region: iam.region, accountId: iam.accountId }),
    );
    cleanups.push(async () => unregisterGrants());

    // The functions' modules (the AWS SDK clients among them) load when first invoked, or a second after
    // the stack listens, whichever comes first: the first answers need none of them.
    const handlerLoads: (() => Promise<LambdaHandler>)[] = [];
    const deferredHandler = (id: FunctionId): LambdaHandler => {
      let loaded: Promise<LambdaHandler> | undefined;
      const load = () => (loaded ??= loadHandler(ROOT, id));
      handlerLoads.push(load);
      return (event) => load().then((handler) => handler(event));
    };
    const lambdas: Partial<Record<LambdaFunctionId, LambdaHandler>> = {};
    for (const fn of FUNCTIONS) {
      if (fn.id === 'authorizer' || fn.id === 'sync-worker') continue;
      lambdas[fn.id as LambdaFunctionId] = deferredHandler(fn.id);
    }
    const authorizer = cachedAuthorizer(
      asFunction('authorizer', deferredHandler('authorizer') as (e: LambdaAuthorizerEvent) => Promise<LambdaAuthorizerResult>),
      { resultsCacheTtlSeconds: options.authorizerCacheTtlSeconds ?? AUTHORIZER_CACHE_SECONDS },
    );

    const bundleDir = options.bundleDir ?? join(ROOT, 'dist', 'resolvers');
    // The resolvers' data sources reach the tables as AppSync does, with no SDK in between (its per-call cost dominated).
    const dataSourceClient = new DynamoDBJsonClient(dynamodbEndpoint, { region: iam.region });
    cleanups.push(async () => dataSourceClient.destroy());
    const resolvers = ResolverSet.fromBuild(bundleDir, createDataSourceInvoker({ dynamodb: dataSourceClient, stage, lambdas }));
    const apiKey = options.apiKey ?? `da2-${randomBytes(13).toString('hex')}`;
    let endpoint = '';
    const auth = { defaultMode: 'AWS_LAMBDA' as const, apiKeys: [apiKey], lambdaAuthorizer: authorizer, iam };
    const api = new GraphQLApi({
      schemaSdl: readFileSync(join(ROOT, 'schema.graphql'), 'utf8'),
      preludeSdl: readFileSync(join(ROOT, 'local', 'appsync', 'prelude.graphql'), 'utf8'),
      resolvers,
      auth,
      endpointUrl: () => endpoint,
      // AppSync environment variables (ctx.env): the stage, and the request limit when overridden.
      env: {
        STAGE: stage,
        ...(process.env[REQUESTS_PER_MINUTE.envName] ? { [REQUESTS_PER_MINUTE.envName]: process.env[REQUESTS_PER_MINUTE.envName]! } : {}),
      },
    });
    const http = new LocalHttpServer(api);
    // Real-time, the console page and HTTPS all share the one HTTP front.
    const realtime = new RealtimeServer({ api, auth, resolvers, graphqlUrl: () => endpoint, keepAliveMs: options.keepAliveMs });
    realtime.attach(http);
    if (options.console !== false) await mountConsole(http, { apiKey, graphqlPath: '/graphql', realtimePath: REALTIME_PATH });

    // The last step before listening: the tables need DynamoDB to answer, which may still be starting.
    await dynamodbReady;
    await createTables(dataSourceClient, stage);

    let port: number;
    let tls: LocalStack['tls'];
    if (options.https) {
      const certificate = await localCertificate(typeof options.https === 'object' ? options.https.dir : undefined);
      const secure = await listenHttps(http, certificate, options.port ?? 4000);
      cleanups.push(() => secure.close());
      port = secure.port;
      tls = { certPath: certificate.certPath, fingerprint: certificate.fingerprint };
    } else {
      port = await http.listen(options.port ?? 4000);
      cleanups.push(() => http.close());
    }
    // Registered after the listeners so it runs first: open WebSockets would hold the server's close.
    cleanups.push(() => realtime.close());
    const url = `${options.https ? 'https' : 'http'}://127.0.0.1:${port}`;
    endpoint = `${url}/graphql`;
    // Sign-in accepts the configured redirect URI(s), and locally also the stack's own callback page.
    const redirectUris = [...(process.env.REDIRECT_URI ?? '').split(','), `${url}/auth/callback`].map((s) => s.trim()).filter(Boolean);
    process.env.MAL_REDIRECT_URIS = redirectUris.join(',');
    mountSignInCallback(http, { apiKey, graphqlPath: '/graphql' });

    // The sync worker runs in-process behind a local queue (SQS's stand-in) and
    // publishes progress through this API with the stack's internal IAM pair. Stopped first on stop().
    Object.assign(process.env, {
      APPSYNC_GRAPHQL_URL: endpoint,
      SYNC_PROGRESS_ACCESS_KEY_ID: iam.credentials.accessKeyId,
      SYNC_PROGRESS_SECRET_ACCESS_KEY: iam.credentials.secretAccessKey,
    });
    // Over --https the worker's publish must trust the self-signed certificate, as any client must.
    if (tls) process.env.SYNC_PROGRESS_CA_FILE = tls.certPath;
    else delete process.env.SYNC_PROGRESS_CA_FILE;
    const syncQueue = new GrantCheckedSyncQueue(asFunction('sync-worker', deferredHandler('sync-worker') as SyncWorkerHandler));
    const unregisterSyncQueue = registerLocalSyncQueue(syncQueue);
    cleanups.push(async () => {
      unregisterSyncQueue();
      await syncQueue.stop();
    });
    // Loaded during the start they would delay the first answer; a failure is reported here and by its invocations.
    const prefetch = setTimeout(() => {
      for (const load of handlerLoads) load().catch((error) => console.error(`[stack] a function did not load: ${(error as Error).message}`));
    }, 1000).unref();
    cleanups.push(async () => clearTimeout(prefetch));

    return {
      url,
      graphqlUrl: endpoint,
      realtimeUrl: `${options.https ? 'wss' : 'ws'}://127.0.0.1:${port}${REALTIME_PATH}`,
      apiKey,
      iam,
      dynamodbEndpoint,
      stage,
      api,
      http,
      malSandbox,
      redirectUris,
      realtime,
      tls,
      authorizerCache: authorizer,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
