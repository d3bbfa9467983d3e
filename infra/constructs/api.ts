/**
 * The AppSync API: schema.graphql, the Lambda authorizer (answers cached AUTHORIZER_CACHE_SECONDS) with
 * IAM and the public API key as extra modes, the cost limits, request logging, the data sources of
 * contract/datasources.ts and every resolver and pipeline function of the build's manifest — the very
 * bundles the local runtime executes. Synth fails on a resolver without a schema field and on a root
 * field without a resolver.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Expiration, type RemovalPolicy } from 'aws-cdk-lib';
import * as appsync from 'aws-cdk-lib/aws-appsync';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { parse, Kind } from 'graphql';
import { API_LIMITS } from '#contract/api-limits';
import { DATA_SOURCES } from '#contract/datasources';
import { FUNCTION_ENV } from '#contract/metrics';
import { AUTHORIZER_CACHE_SECONDS, type FunctionDefinition, type FunctionId } from '#contract/functions';
import type { ResolverManifest } from '#contract/manifest';
import { TABLES, type TableId } from '#contract/tables';
import { grantStatements, type GrantTargets } from './grants';
import { Section, acknowledge, arnToken, pascal } from './section';

/** AppSync's limit on a resolver's or function's code (API reference: Resolver.code, max 32768). */
export const APPSYNC_CODE_MAX_CHARS = 32_768;

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

export interface GraphQLApiProps {
  stage: string;
  name(suffix: string): string;
  repoRoot: string;
  /** Directory holding manifest.json and the resolver bundles. */
  resolverDir: string;
  partialResolvers?: boolean;
  definitions: readonly FunctionDefinition[];
  functions: ReadonlyMap<FunctionId, NodejsFunction>;
  tables: ReadonlyMap<TableId, dynamodb.Table>;
  grantTargets: GrantTargets;
  disableIntrospection: boolean;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
}

export class GraphQLApiSection extends Section {
  readonly api: appsync.GraphqlApi;

  constructor(scope: Construct, id: string, props: GraphQLApiProps) {
    super(scope, id);
    const hasIndexes = (tableId: TableId) => Boolean(TABLES.find((t) => t.id === tableId)?.globalSecondaryIndexes?.length);
      const authorizer = props.functions.get('authorizer');
      if (!authorizer) throw new Error("contract/functions.ts has no 'authorizer' function: the API's default auth mode needs it");
      const schemaPath = join(props.repoRoot, 'schema.graphql');
      const apiKeyExpiry = new Date();
      apiKeyExpiry.setUTCHours(0, 0, 0, 0);
      apiKeyExpiry.setUTCDate(apiKeyExpiry.getUTCDate() + 364);

      this.api = new appsync.GraphqlApi(this, 'Api', {
        name: props.name('api'),
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
                name: props.name('public'),
                description: 'Public key of the extension: only the fields the schema marks @aws_api_key (sign-in start).',
                // AppSync keys live at most 365 days; every deploy renews the expiry (rounded to the day
                // so that synths on one day agree).
                expires: Expiration.atDate(apiKeyExpiry),
              },
            },
          ],
        },
        xrayEnabled: true,
        introspectionConfig: props.disableIntrospection ? appsync.IntrospectionConfig.DISABLED : appsync.IntrospectionConfig.ENABLED,
        // Per-request cost limits; the local runtime enforces the same values.
        queryDepthLimit: API_LIMITS.queryDepthLimit,
        resolverCountLimit: API_LIMITS.resolverCountLimit,
      });
      const api = this.api;

      // Logging through the L1 property: the L2 `logConfig` adds a LogRetention custom-resource Lambda
      // (with a managed policy). Instead: our own log group with retention and a role scoped to it.
      const apiLogGroup = new logs.LogGroup(this, 'ApiLogs', {
        logGroupName: `/aws/appsync/apis/${api.apiId}`,
        retention: props.logRetention,
        removalPolicy: props.removalPolicy,
      });
      const apiLogsRole = new iam.Role(this, 'ApiLogsRole', {
        assumedBy: new iam.ServicePrincipal('appsync.amazonaws.com'),
        description: `AnimeLog ${props.stage} AppSync logging`,
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
          const table = props.tables.get(ds.table);
          if (!table) throw new Error(`contract/datasources.ts: data source ${ds.name} names unknown table '${ds.table}'`);
          // Tokens never leave the backend through the API (architecture): no resolver reads those tables.
          if (TABLES.find((t) => t.id === ds.table)?.sensitive) {
            throw new Error(`contract/datasources.ts: data source ${ds.name} exposes the sensitive table '${ds.table}' to resolvers`);
          }
          const source = api.addDynamoDbDataSource(ds.name, table, { name: ds.name });
          if (hasIndexes(ds.table)) {
            acknowledge(
              source,
              `AwsSolutions-IAM5[Resource::${arnToken(table)}/index/*]`,
              `AppSync data source for table ${ds.table}: resolvers Query its GSIs (<table>/index/*), which belong to the table.`,
            );
          }
          dataSources.set(ds.name, source);
        } else if (ds.kind === 'lambda') {
          const fn = props.functions.get(ds.function);
          // Declared ahead of its function (another engineer is building it): wired once it is in FUNCTIONS.
          if (!fn) missingFunction.set(ds.name, ds.function);
          else {
            const source = api.addLambdaDataSource(ds.name, fn, { name: ds.name });
            acknowledge(
              source,
              `AwsSolutions-IAM5[Resource::${arnToken(fn)}:*]`,
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
      const resolverDir = props.resolverDir;
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

      for (const def of props.definitions) {
        if (!def.publishesSyncProgress) continue;
        const fn = props.functions.get(def.id)!;
        for (const statement of grantStatements(def, { ...props.grantTargets, apiArn: api.arn }, ['api-field'])) fn.role!.addToPrincipalPolicy(statement);
        fn.addEnvironment(FUNCTION_ENV.APPSYNC_GRAPHQL_URL, api.graphqlUrl);
      }

      // No API cache (deliberate): nearly every field is per user behind the Lambda authorizer (a cache
      // keyed by identity would rarely hit, and mutations would need invalidation), the one shared read
      // (malAnime) is already cached by the application in DynamoDB, and a cache instance bills by the
      // hour whether used or not.
  }
}
