/**
 * The Lambda functions of contract/functions.ts: each with its own log group and its own role, whose
 * permissions are exactly grantedActions() of its definition (the list the local runtime enforces),
 * its environment from its definition's flags, and the sync worker on the sync queue.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { FunctionDefinition, FunctionId } from '#contract/functions';
import { FUNCTION_ENV, tableEnvName } from '#contract/metrics';
import { TABLES, type TableId } from '#contract/tables';
import { LAMBDA_BUNDLING, LAMBDA_ESBUILD_ARGS } from './bundling';
import type { DataStores } from './data';
import { FixedEgress } from './egress';
import { grantStatements, type GrantTargets } from './grants';
import { Section, acknowledge, arnToken, pascal } from './section';

/** How many sync-worker invocations may run at once (each works one job; MAL wants ~1 req/s per client). */
export const SYNC_WORKER_MAX_CONCURRENCY = 5;

export interface FunctionsProps {
  stage: string;
  name(suffix: string): string;
  repoRoot: string;
  definitions: readonly FunctionDefinition[];
  data: DataStores;
  egress?: FixedEgress;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
}

export class Functions extends Section {
  readonly functions = new Map<FunctionId, NodejsFunction>();
  /** Where the grants point (the API adds its own ARN for the publish grant). */
  readonly grantTargets: GrantTargets;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const REPO_ROOT = props.repoRoot;
    const hasIndexes = (tableId: TableId) => Boolean(TABLES.find((t) => t.id === tableId)?.globalSecondaryIndexes?.length);
      for (const def of props.definitions) {
        for (const tableId of Object.keys(def.tables)) {
          if (!props.data.tables.has(tableId as TableId)) throw new Error(`contract/functions.ts: function '${def.id}' lists unknown table '${tableId}'`);
        }
      }
          this.grantTargets = {
        tableArn: (id) => props.data.tables.get(id as TableId)!.tableArn,
        tokenKeyArn: props.data.tokenKey.keyArn,
        malSecretArn: props.data.malSecret.secretArn,
        syncQueueArn: props.data.syncQueue.queueArn,
      };
      for (const def of props.definitions) {
        const entry = resolve(REPO_ROOT, def.entry);
        if (!existsSync(entry)) {
          throw new Error(
            `contract/functions.ts: function '${def.id}' has entry '${def.entry}', which does not exist yet. ` +
              'Add the handler (or remove the entry) before synthesising.',
          );
        }
        const cid = pascal(def.id);
        const functionName = props.name(def.id);
        const logGroup = new logs.LogGroup(this, `${cid}Logs`, {
          logGroupName: `/aws/lambda/${functionName}`,
          retention: props.logRetention,
          removalPolicy: props.removalPolicy,
        });
        // Own role instead of AWSLambdaBasicExecutionRole: logging to this function's log group only.
        const role = new iam.Role(this, `${cid}Role`, {
          assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
          description: `AnimeLog ${props.stage} ${def.id} function`,
        });
        role.addToPolicy(
          new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
        );

        const environment: Record<string, string> = { [FUNCTION_ENV.STAGE]: props.stage };
        const fn = new NodejsFunction(this, cid, {
          functionName,
          description: def.purpose.slice(0, 256),
          entry,
          handler: 'handler',
          projectRoot: REPO_ROOT,
          depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
          runtime: lambda.Runtime.NODEJS_22_X,
          architecture: lambda.Architecture.ARM_64,
          memorySize: def.memoryMb,
          timeout: Duration.seconds(def.timeoutSeconds),
          tracing: lambda.Tracing.ACTIVE,
          logGroup,
          role,
          environment,
          // MAL blocks cloud address ranges: with fixedEgress, MAL calls leave from one allow-listable address.
          ...(props.egress && def.callsMal ? props.egress.functionPlacement() : {}),
          bundling: {
            format: OutputFormat.ESM,
            target: LAMBDA_BUNDLING.target,
            minify: LAMBDA_BUNDLING.minify,
            sourceMap: LAMBDA_BUNDLING.sourcemap,
            mainFields: LAMBDA_BUNDLING.mainFields,
            externalModules: LAMBDA_BUNDLING.externalModules,
            banner: LAMBDA_BUNDLING.banner,
            esbuildArgs: LAMBDA_ESBUILD_ARGS,
            // esbuild is in node_modules: bundle locally, never via Docker.
            forceDockerBundling: false,
            // Warnings and errors only: the per-bundle size lines are noise in synth and test output.
            logLevel: LogLevel.WARNING,
          },
        });

        // The role's permissions: exactly grantedActions(def), the list the local runtime enforces too.
        for (const statement of grantStatements(def, this.grantTargets)) role.addToPolicy(statement);
        for (const tableId of Object.keys(def.tables) as TableId[]) {
          const table = props.data.tables.get(tableId)!;
          fn.addEnvironment(tableEnvName(tableId), table.tableName);
          if (hasIndexes(tableId)) {
            acknowledge(
              role,
              `AwsSolutions-IAM5[Resource::${arnToken(table)}/index/*]`,
              `The ${def.id} function lists table ${tableId} in contract/functions.ts; the grant covers that table's GSIs (<table>/index/*), which belong to it.`,
            );
          }
        }
        if (def.usesTokenKey) {
          fn.addEnvironment(FUNCTION_ENV.TOKEN_KMS_KEY_ID, props.data.tokenKey.keyArn);
        }
        if (def.callsMal) {
          fn.addEnvironment(FUNCTION_ENV.MAL_SECRET_ARN, props.data.malSecret.secretArn);
          const limits = props.data.tables.get('rate-limits');
          if (limits && def.tables['rate-limits'] === 'write') fn.addEnvironment(FUNCTION_ENV.MAL_RATE_LIMIT_TABLE, limits.tableName);
        }
        if (def.sendsToSyncQueue) {
          fn.addEnvironment(FUNCTION_ENV.SYNC_QUEUE_URL, props.data.syncQueue.queueUrl);
        }
        acknowledge(
          fn,
          'AwsSolutions-L1',
          'Node.js 22 is pinned on purpose: the repository toolchain, tests and the local runtime run Node 22; the Lambda runtime moves together with them.',
        );
        const inVpc = Boolean(props.egress && def.callsMal);
        // Lambda adds the VPC permissions only to roles it creates; this role is our own.
        if (inVpc) role.addToPolicy(new iam.PolicyStatement({ actions: [...FixedEgress.NETWORK_INTERFACE_ACTIONS], resources: ['*'] }));
        acknowledge(
          role,
          'AwsSolutions-IAM5[Resource::*]',
          'X-Ray tracing (tracing: ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.' +
            (inVpc ? ' In the VPC (fixedEgress): the network-interface actions of AWSLambdaVPCAccessExecutionRole, which Lambda needs on * to attach the function.' : ''),
        );
        this.functions.set(def.id, fn);
      }

      const worker = this.functions.get('sync-worker');
      if (worker) {
        // The worker shortens a busy user's message's visibility (ChangeMessageVisibility, granted with consuming).
        worker.addEnvironment('SYNC_QUEUE_URL', props.data.syncQueue.queueUrl);
        worker.addEventSource(
          new SqsEventSource(props.data.syncQueue, {
            batchSize: 1,
            reportBatchItemFailures: true,
            maxConcurrency: SYNC_WORKER_MAX_CONCURRENCY,
          }),
        );
      }
  }
}
