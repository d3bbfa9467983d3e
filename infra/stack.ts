/**
 * The deployed system, one stack per stage, derived from the single sources of truth:
 *   contract/tables.ts       → DynamoDB tables
 *   contract/functions.ts    → Lambda functions (grants, env, KMS/secret/queue access from their flags)
 *   contract/datasources.ts  → AppSync data sources
 *   dist/resolvers/manifest.json + bundles (npm run build) → resolvers and pipeline functions
 *   schema.graphql        → the API's schema
 * Nothing here names an individual resolver, table or function except where the architecture gives
 * one a role (the authorizer, the sync worker): adding an entry to a source above is all it takes.
 *
 * The stack is a few section constructs (infra/constructs/): data (tables, key, secret, queues),
 * functions with their grants, the API from the manifest, the WAF, monitoring, and the optional fixed
 * egress address. Sections leave CloudFormation logical IDs as they were (allocateLogicalId below).
 */
import { join, resolve } from 'node:path';
import { App, CfnElement, CfnOutput, RemovalPolicy, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import type * as appsync from 'aws-cdk-lib/aws-appsync';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { FUNCTIONS, type FunctionDefinition, type FunctionId } from '#contract/functions';
import { PROJECT, type TableId } from '#contract/tables';
import { FixedEgress } from './constructs/egress';
import { Section } from './constructs/section';
import { DataStores, SYNC_MAX_RECEIVE_COUNT } from './constructs/data';
import { Functions, SYNC_WORKER_MAX_CONCURRENCY } from './constructs/functions';
import { APPSYNC_CODE_MAX_CHARS, GraphQLApiSection, readResolverManifest, rootFields } from './constructs/api';
import { ApiFirewall, WAF_RATE_LIMIT } from './constructs/waf';
import { Monitoring } from './constructs/monitoring';

export { WAF_RATE_LIMIT, SYNC_MAX_RECEIVE_COUNT, SYNC_WORKER_MAX_CONCURRENCY, APPSYNC_CODE_MAX_CHARS, readResolverManifest, rootFields };
import type { ResolverManifest } from '#contract/manifest';

export const REPO_ROOT = resolve(import.meta.dirname, '..');
export const DEFAULT_RESOLVER_DIR = join(REPO_ROOT, 'dist', 'resolvers');


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

    // --- AppSync API from the schema and the resolver manifest (infra/constructs/api.ts) ---------
    const graphql = new GraphQLApiSection(this, 'GraphQL', {
      stage,
      name,
      repoRoot: REPO_ROOT,
      resolverDir: props.resolverDir ?? DEFAULT_RESOLVER_DIR,
      partialResolvers: props.partialResolvers,
      definitions,
      functions: this.functions,
      tables: this.tables,
      grantTargets,
      disableIntrospection: config.disableIntrospection,
      logRetention: config.logRetention,
      removalPolicy: dataRemoval,
    });
    this.api = graphql.api;
    const api = this.api;

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
