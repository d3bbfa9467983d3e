/**
 * The deployed system, one stack per stage, derived from the single sources of truth:
 *   contract/tables.ts       → DynamoDB tables
 *   contract/functions.ts    → Lambda functions (grants, env, KMS/secret/queue access from their flags)
 *   contract/datasources.ts  → AppSync data sources
 *   dist/resolvers/manifest.json + bundles (npm run build) → resolvers and pipeline functions
 *   schema.graphql        → the API's schema
 * Nothing here names an individual resolver, table or function except where the architecture gives
 * one a role (the authorizer, the sync worker): adding an entry to a source above is all it takes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App, CfnElement, CfnOutput, CfnResource, Duration, Expiration, RemovalPolicy, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import * as appsync from 'aws-cdk-lib/aws-appsync';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct, IConstruct } from 'constructs';
import { parse, Kind } from 'graphql';
import { API_LIMITS } from '#contract/api-limits';
import { DATA_SOURCES } from '#contract/datasources';
import { AUTHORIZER_CACHE_SECONDS, FUNCTIONS, type FunctionDefinition, type FunctionId } from '#contract/functions';
import { FUNCTION_ENV, METRIC, METRICS_NAMESPACE, METRIC_DIMENSION_STAGE, tableEnvName } from '#contract/metrics';
import { PROJECT, TABLES, physicalTableName, type AttributeType, type TableId } from '#contract/tables';
import { LAMBDA_BUNDLING } from './constructs/bundling';
import { grantStatements, type GrantTargets } from './constructs/grants';
import { FixedEgress } from './constructs/egress';
import { Section, acknowledge, pascal } from './constructs/section';
import { DataStores, SYNC_MAX_RECEIVE_COUNT } from './constructs/data';
import { Functions, SYNC_WORKER_MAX_CONCURRENCY } from './constructs/functions';
import { ApiFirewall, WAF_RATE_LIMIT } from './constructs/waf';
import { Monitoring } from './constructs/monitoring';

export { WAF_RATE_LIMIT, SYNC_MAX_RECEIVE_COUNT, SYNC_WORKER_MAX_CONCURRENCY };
import type { ResolverManifest } from '#contract/manifest';

export const REPO_ROOT = resolve(import.meta.dirname, '..');
export const DEFAULT_RESOLVER_DIR = join(REPO_ROOT, 'dist', 'resolvers');

/** AppSync's limit on a resolver's or function's code (API reference: Resolver.code, max 32768). */
export const APPSYNC_CODE_MAX_CHARS = 32_768;

export type Stage = 'dev' | 'staging' | 'prod';

export interface StageConfig {
  /** Retain data (tables, keys, secret, logs) and protect tables from deletion. */
  retainData: boolean;
  logRetention: logs.RetentionDays;
  /** Disable GraphQL introspection (the extension does not need it; developers use dev/staging). */
  disableIntrospection: boolean;
}

export const STAGES: Record<Stage, StageConfig> = {
  dev: { retainData: false, logRetention: logs.RetentionDays.TWO_WEEKS, disableIntrospection: false },
  staging: { retainData: false, logRetention: logs.RetentionDays.ONE_MONTH, disableIntrospection: false },
  prod: { retainData: true, logRetention: logs.RetentionDays.THREE_MONTHS, disableIntrospection: true },
};



export function parseStage(value: unknown): Stage {
  if (value === 'dev' || value === 'staging' || value === 'prod') return value;
  throw new Error(`unknown stage ${JSON.stringify(value)}: use -c stage=dev|staging|prod`);
}

export function stackName(stage: Stage): string {
  return `${PROJECT}-${stage}`;
}

// ---------------------------------------------------------------------------------------------------
// The resolver build's manifest (scripts/build-resolvers.ts writes it; a type-only import, so infra does
// not load the build's esbuild).

export type { ResolverManifest };

export function readResolverManifest(dir: string): ResolverManifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw new Error(`${path} does not exist: run \`npm run build\` before synthesising`);
  return JSON.parse(readFileSync(path, 'utf8')) as ResolverManifest;
}

/** Object types and their fields in the schema (to fail at synth, not at deploy, on a stray resolver). */
function schemaFields(sdl: string): Map<string, Set<string>> {
  const fields = new Map<string, Set<string>>();
  for (const def of parse(sdl).definitions) {
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.OBJECT_TYPE_EXTENSION) {
      const set = fields.get(def.name.value) ?? new Set<string>();
      for (const f of def.fields ?? []) set.add(f.name.value);
      fields.set(def.name.value, set);
    }
  }
  return fields;
}

/** `Type.field` of every Query, Mutation and Subscription field (the schema's root types). */
export function rootFields(sdl: string): string[] {
  const document = parse(sdl);
  const roots = new Set(['Query', 'Mutation', 'Subscription']);
  for (const def of document.definitions) {
    if (def.kind === Kind.SCHEMA_DEFINITION) {
      roots.clear();
      for (const op of def.operationTypes) roots.add(op.type.name.value);
    }
  }
  const out: string[] = [];
  for (const [type, names] of schemaFields(sdl)) if (roots.has(type)) for (const f of names) out.push(`${type}.${f}`);
  return out.sort();
}



// ---------------------------------------------------------------------------------------------------

export interface AnimeLogStackProps extends StackProps {
  stage: Stage;
  /** Defaults to FUNCTIONS from contract/functions.ts (tests may pass a variant). */
  functions?: readonly FunctionDefinition[];
  /** Directory holding manifest.json and the resolver bundles; defaults to dist/resolvers. */
  resolverDir?: string;
  /** Optional e-mail address subscribed to the alarm topic. */
  alarmEmail?: string;
  /** Tests wiring a few resolvers only: skip the check that every root field has one. */
  partialResolvers?: boolean;
  /** Run the MAL-calling functions behind one NAT gateway with one Elastic IP (`-c fixedEgress=true`). */
  fixedEgress?: boolean;
}

export class AnimeLogStack extends Stack {
  readonly stage: Stage;
  readonly tables = new Map<TableId, dynamodb.Table>();
  readonly functions = new Map<FunctionId, NodejsFunction>();
  readonly api: appsync.GraphqlApi;
  readonly syncQueue: sqs.Queue;
  readonly syncDeadLetterQueue: sqs.Queue;
  readonly tokenKey: kms.Key;
  readonly malSecret: secretsmanager.Secret;
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly webAcl: wafv2.CfnWebACL;
  /** Set with the fixedEgress option. */
  readonly egress?: FixedEgress;

  constructor(scope: Construct, id: string, props: AnimeLogStackProps) {
    super(scope, id, props);
    this.stage = props.stage;
    const stage = props.stage;
    const config = STAGES[stage];
    const name = (suffix: string) => `${PROJECT}-${stage}-${suffix}`;
    const dataRemoval = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const definitions = props.functions ?? FUNCTIONS;
    const definitionOf = new Map(definitions.map((d) => [d.id, d]));
    const hasIndexes = (tableId: TableId) => Boolean(TABLES.find((t) => t.id === tableId)?.globalSecondaryIndexes?.length);

    Tags.of(this).add('project', PROJECT);
    Tags.of(this).add('stage', stage);

    // --- Data: tables, token key, MAL secret, queues (infra/constructs/data.ts) -------------------
    const data = new DataStores(this, 'Data', {
      stage,
      name,
      retainData: config.retainData,
      removalPolicy: dataRemoval,
      workerTimeoutSeconds: definitionOf.get('sync-worker')?.timeoutSeconds ?? 60,
    });
    for (const [tableId, table] of data.tables) this.tables.set(tableId, table);
    this.tokenKey = data.tokenKey;
    this.malSecret = data.malSecret;
    this.syncQueue = data.syncQueue;
    this.syncDeadLetterQueue = data.syncDeadLetterQueue;

    // --- Lambda functions with their grants (infra/constructs/functions.ts) ----------------------
    if (props.fixedEgress) this.egress = new FixedEgress(this, 'MalEgress', { namePrefix: `${PROJECT}-${stage}`, logRetention: config.logRetention });
    const lambdas = new Functions(this, 'Functions', {
      stage,
      name,
      repoRoot: REPO_ROOT,
      definitions,
      data,
      egress: this.egress,
      logRetention: config.logRetention,
      removalPolicy: dataRemoval,
    });
    for (const [fnId, fn] of lambdas.functions) this.functions.set(fnId, fn);
    const grantTargets = lambdas.grantTargets;

    // --- AppSync --------------------------------------------------------------------------------
    const authorizer = this.functions.get('authorizer');
    if (!authorizer) throw new Error("contract/functions.ts has no 'authorizer' function: the API's default auth mode needs it");
    const schemaPath = join(REPO_ROOT, 'schema.graphql');
    const apiKeyExpiry = new Date();
    apiKeyExpiry.setUTCHours(0, 0, 0, 0);
    apiKeyExpiry.setUTCDate(apiKeyExpiry.getUTCDate() + 364);

    this.api = new appsync.GraphqlApi(this, 'Api', {
      name: name('api'),
      definition: appsync.Definition.fromFile(schemaPath),
      authorizationConfig: {
        defaultAuthorization: {
          authorizationType: appsync.AuthorizationType.LAMBDA,
          // Session checks cached per token (the authorizer answers with a shorter ttlOverride only for a
          // session ending sooner); the per-minute request count runs before each root resolver instead.
          lambdaAuthorizerConfig: { handler: authorizer, resultsCacheTtl: Duration.seconds(AUTHORIZER_CACHE_SECONDS) },
        },
        additionalAuthorizationModes: [
          { authorizationType: appsync.AuthorizationType.IAM },
          {
            authorizationType: appsync.AuthorizationType.API_KEY,
            apiKeyConfig: {
              name: name('public'),
              description: 'Public key of the extension: only the fields the schema marks @aws_api_key (sign-in start).',
              // AppSync keys live at most 365 days; every deploy renews the expiry (rounded to the day
              // so that synths on one day agree).
              expires: Expiration.atDate(apiKeyExpiry),
            },
          },
        ],
      },
      xrayEnabled: true,
      introspectionConfig: config.disableIntrospection ? appsync.IntrospectionConfig.DISABLED : appsync.IntrospectionConfig.ENABLED,
      // Per-request cost limits; the local runtime enforces the same values.
      queryDepthLimit: API_LIMITS.queryDepthLimit,
      resolverCountLimit: API_LIMITS.resolverCountLimit,
    });
    const api = this.api;

    // Logging through the L1 property: the L2 `logConfig` adds a LogRetention custom-resource Lambda
    // (with a managed policy). Instead: our own log group with retention and a role scoped to it.
    const apiLogGroup = new logs.LogGroup(this, 'ApiLogs', {
      logGroupName: `/aws/appsync/apis/${api.apiId}`,
      retention: config.logRetention,
      removalPolicy: dataRemoval,
    });
    const apiLogsRole = new iam.Role(this, 'ApiLogsRole', {
      assumedBy: new iam.ServicePrincipal('appsync.amazonaws.com'),
      description: `AnimeLog ${stage} AppSync logging`,
    });
    apiLogsRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [apiLogGroup.logGroupArn],
      }),
    );
    (api.node.defaultChild as appsync.CfnGraphQLApi).logConfig = {
      cloudWatchLogsRoleArn: apiLogsRole.roleArn,
      // Errors only, without request/response bodies: variables carry MAL codes and history data.
      fieldLogLevel: appsync.FieldLogLevel.ERROR,
      excludeVerboseContent: true,
    };
    acknowledge(
      api,
      'AwsSolutions-ASC3',
      'Request-level logging is on (field log level ERROR, own role and log group). cdk-nag also demands verbose content, i.e. full requests, ' +
        'headers and variables in the logs: that would write session tokens, MAL authorization codes and users’ watch histories to CloudWatch. Excluded on purpose.',
    );

    const dataSources = new Map<string, appsync.BaseDataSource>();
    const missingFunction = new Map<string, string>();
    for (const ds of DATA_SOURCES) {
      if (ds.kind === 'dynamodb') {
        const table = this.tables.get(ds.table);
        if (!table) throw new Error(`contract/datasources.ts: data source ${ds.name} names unknown table '${ds.table}'`);
        // Tokens never leave the backend through the API (architecture): no resolver reads those tables.
        if (TABLES.find((t) => t.id === ds.table)?.sensitive) {
          throw new Error(`contract/datasources.ts: data source ${ds.name} exposes the sensitive table '${ds.table}' to resolvers`);
        }
        const source = api.addDynamoDbDataSource(ds.name, table, { name: ds.name });
        if (hasIndexes(ds.table)) {
          acknowledge(
            source,
            `AwsSolutions-IAM5[Resource::${this.arnToken(table)}/index/*]`,
            `AppSync data source for table ${ds.table}: resolvers Query its GSIs (<table>/index/*), which belong to the table.`,
          );
        }
        dataSources.set(ds.name, source);
      } else if (ds.kind === 'lambda') {
        const fn = this.functions.get(ds.function);
        // Declared ahead of its function (another engineer is building it): wired once it is in FUNCTIONS.
        if (!fn) missingFunction.set(ds.name, ds.function);
        else {
          const source = api.addLambdaDataSource(ds.name, fn, { name: ds.name });
          acknowledge(
            source,
            `AwsSolutions-IAM5[Resource::${this.arnToken(fn)}:*]`,
            'AppSync Lambda data source: CDK grants invoke on this one function and its qualified ARNs (<function>:*, versions and aliases).',
          );
          dataSources.set(ds.name, source);
        }
      } else {
        dataSources.set(ds.name, api.addNoneDataSource(ds.name, { name: ds.name }));
      }
    }
    const dataSource = (dsName: string, user: string): appsync.BaseDataSource => {
      const found = dataSources.get(dsName);
      if (found) return found;
      const fnId = missingFunction.get(dsName);
      throw new Error(
        fnId
          ? `${user} uses data source ${dsName}, whose Lambda function '${fnId}' is not in contract/functions.ts yet`
          : `${user} uses unknown data source ${dsName}`,
      );
    };

    // Resolvers and pipeline functions: one loop over the build manifest, the code being the very bundle
    // the local runtime executes (inline, so the template shows it and tests can compare it).
    const resolverDir = props.resolverDir ?? DEFAULT_RESOLVER_DIR;
    const manifest = readResolverManifest(resolverDir);
    const bundleCode = (file: string, user: string): appsync.Code => {
      const path = join(resolverDir, file);
      if (!existsSync(path)) throw new Error(`${user}: bundle ${path} is missing; run \`npm run build\``);
      const code = readFileSync(path, 'utf8');
      if (code.length > APPSYNC_CODE_MAX_CHARS) {
        throw new Error(`${user}: bundle ${file} is ${code.length} characters; AppSync accepts at most ${APPSYNC_CODE_MAX_CHARS}`);
      }
      return appsync.Code.fromInline(code);
    };
    const fields = schemaFields(readFileSync(schemaPath, 'utf8'));
    const pipelineFunctions = new Map<string, appsync.AppsyncFunction>();
    for (const f of manifest.functions) {
      const user = `pipeline function ${f.name}`;
      pipelineFunctions.set(
        f.name,
        new appsync.AppsyncFunction(this, `Function${pascal(f.name)}`, {
          api,
          name: f.name.replace(/[^_0-9A-Za-z]/g, '_'),
          dataSource: dataSource(f.dataSource, user),
          runtime: appsync.FunctionRuntime.JS_1_0_0,
          code: bundleCode(f.code, user),
        }),
      );
    }
    for (const r of manifest.resolvers) {
      const user = `resolver ${r.typeName}.${r.fieldName}`;
      if (!fields.get(r.typeName)?.has(r.fieldName)) throw new Error(`${user}: schema.graphql has no such field`);
      const common = {
        api,
        typeName: r.typeName,
        fieldName: r.fieldName,
        runtime: appsync.FunctionRuntime.JS_1_0_0,
        code: bundleCode(r.code, user),
      };
      const id = `Resolver${r.typeName}${r.fieldName.charAt(0).toUpperCase()}${r.fieldName.slice(1)}`;
      if (r.kind === 'pipeline') {
        const pipelineConfig = (r.functions ?? []).map((fnName) => {
          const fn = pipelineFunctions.get(fnName);
          if (!fn) throw new Error(`${user}: pipeline function ${fnName} is not in the manifest`);
          return fn;
        });
        new appsync.Resolver(this, id, { ...common, pipelineConfig });
      } else {
        if (!r.dataSource) throw new Error(`${user}: unit resolver without a data source in the manifest`);
        new appsync.Resolver(this, id, { ...common, dataSource: dataSource(r.dataSource, user) });
      }
    }

    // The other way round: a root field without a resolver would deploy and answer null for ever.
    if (!props.partialResolvers) {
      const resolved = new Set(manifest.resolvers.map((r) => `${r.typeName}.${r.fieldName}`));
      const missing = rootFields(readFileSync(schemaPath, 'utf8')).filter((f) => !resolved.has(f));
      if (missing.length > 0) {
        throw new Error(`schema.graphql root field(s) without a resolver: ${missing.join(', ')}. Add resolvers/<Type>.<field>.ts and run \`npm run build\`.`);
      }
    }

    for (const def of definitions) {
      if (!def.publishesSyncProgress) continue;
      const fn = this.functions.get(def.id)!;
      for (const statement of grantStatements(def, { ...grantTargets, apiArn: api.arn }, ['api-field'])) fn.role!.addToPrincipalPolicy(statement);
      fn.addEnvironment(FUNCTION_ENV.APPSYNC_GRAPHQL_URL, api.graphqlUrl);
    }

    // No API cache (deliberate): nearly every field is per user behind the Lambda authorizer (a cache
    // keyed by identity would rarely hit, and mutations would need invalidation), the one shared read
    // (malAnime) is already cached by the application in DynamoDB, and a cache instance bills by the
    // hour whether used or not.

    // --- WAF and monitoring (infra/constructs): sections that add no level to logical IDs ---------
    this.webAcl = new ApiFirewall(this, 'Firewall', { apiArn: api.arn, namePrefix: `${PROJECT}-${stage}`, name }).webAcl;
    const monitoring = new Monitoring(this, 'Monitoring', {
      stage,
      name,
      functions: this.functions,
      syncQueue: this.syncQueue,
      syncDeadLetterQueue: this.syncDeadLetterQueue,
      apiId: api.apiId,
      alarmEmail: props.alarmEmail,
    });
    this.alarmTopic = monitoring.alarmTopic;
    this.alarms = monitoring.alarms;

    // --- Outputs ------------------------------------------------------------------------------------
    new CfnOutput(this, 'GraphqlUrl', { value: api.graphqlUrl, description: 'AppSync GraphQL endpoint' });
    new CfnOutput(this, 'ApiId', { value: api.apiId });
    // The key is public by design (shipped in the extension; it opens sign-in only).
    new CfnOutput(this, 'ApiKey', { value: api.apiKey ?? '', description: 'API key for the sign-in start fields' });
    new CfnOutput(this, 'MalSecretArn', { value: this.malSecret.secretArn });
    new CfnOutput(this, 'SyncQueueUrl', { value: this.syncQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });

  }

  /** Sections (infra/constructs/section.ts) group code, not resources: logical IDs leave them out. */
  protected override allocateLogicalId(element: CfnElement): string {
    const scopes = element.node.scopes.filter((scope) => !Section.isSection(scope));
    return super.allocateLogicalId({ node: { scopes }, stack: this } as unknown as CfnElement);
  }

  /** `<LogicalId.Arn>`: how cdk-nag names a construct's ARN in a finding id. */
  private arnToken(construct: IConstruct): string {
    return `<${this.resolve(this.getLogicalId(construct.node.defaultChild as CfnResource)) as string}.Arn>`;
  }
}


/** The feature flags the stack relies on (kept here so tests and the CLI app agree). */
export const APP_CONTEXT: Record<string, unknown> = {
  // Lambda authorizer permission scoped to this API (sourceArn), not to any AppSync API.
  '@aws-cdk/aws-appsync:appSyncGraphQLAPIScopeLambdaPermission': true,
};

export interface CreateAppOptions {
  stage?: string;
  outdir?: string;
  functions?: readonly FunctionDefinition[];
  resolverDir?: string;
  /** See AnimeLogStackProps.partialResolvers. */
  partialResolvers?: boolean;
  /** See AnimeLogStackProps.fixedEgress (default: context `fixedEgress`). */
  fixedEgress?: boolean;
  /** Register cdk-nag's AwsSolutionsChecks as a synthesis validation (default true). */
  nag?: boolean;
  /** Extra context (tests: e.g. `aws:cdk:bundling-stacks: []` to skip Lambda bundling). */
  context?: Record<string, unknown>;
}

/** The CDK app: one stack for the stage, cdk-nag's AWS Solutions checks on everything. */
export function createApp(options: CreateAppOptions = {}): { app: App; stack: AnimeLogStack } {
  const app = new App({ outdir: options.outdir, context: { ...APP_CONTEXT, ...options.context }, analyticsReporting: false });
  const stage = parseStage(options.stage ?? app.node.tryGetContext('stage') ?? 'dev');
  const alarmEmail = app.node.tryGetContext('alarmEmail') as string | undefined;
  // Env-agnostic on purpose: synth never looks up an account or region (works offline).
  const stack = new AnimeLogStack(app, stackName(stage), {
    stage,
    functions: options.functions,
    resolverDir: options.resolverDir,
    partialResolvers: options.partialResolvers,
    fixedEgress: options.fixedEgress ?? ['true', true].includes(app.node.tryGetContext('fixedEgress')),
    alarmEmail,
    analyticsReporting: false,
    description: `AnimeLog backend (${stage}): AppSync API, DynamoDB, Lambda, SQS, KMS, WAF, alarms.`,
  });
  // cdk-nag v3 is a synthesis validation plugin: any unacknowledged finding fails `cdk synth`.
  if (options.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
