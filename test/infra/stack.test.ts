/**
 * The synthesised dev stack, property by property: what is security-relevant, and that everything is
 * derived from the sources of truth (TABLES, FUNCTIONS, DATA_SOURCES, the resolver manifest, the schema).
 * Needs `npm run build` first (dist/resolvers).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Validations } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_LIMITS } from '#contract/api-limits';
import { DATA_SOURCES } from '#contract/datasources';
import { FUNCTIONS } from '#contract/functions';
import { METRIC, METRICS_NAMESPACE, tableEnvName } from '#contract/metrics';
import {
  DEFAULT_RESOLVER_DIR,
  readResolverManifest,
  REPO_ROOT,
  SYNC_MAX_RECEIVE_COUNT,
  SYNC_WORKER_MAX_CONCURRENCY,
  WAF_RATE_LIMIT,
  type ResolverManifest,
} from '../../infra/stack';
import { TABLES, physicalTableName } from '#contract/tables';
import { asArray, logicalId, referencedIds, roleOfFunction, statementsByRole, synth, type Synthesised } from './support';

let s: Synthesised;
let manifest: ResolverManifest;

beforeAll(() => {
  manifest = readResolverManifest(DEFAULT_RESOLVER_DIR);
  s = synth({ stage: 'dev' });
}, 120_000);
afterAll(() => s?.cleanup());

const resources = (type: string) => Object.entries(s.json.Resources).filter(([, r]) => r.Type === type);
const fnLogicalId = (id: string) => logicalId(s.stack, s.stack.functions.get(id as never)!);

describe('DynamoDB tables', () => {
  it('creates exactly the tables of TABLES, named per stage', () => {
    const names = resources('AWS::DynamoDB::Table').map(([, r]) => r.Properties.TableName).sort();
    expect(names).toEqual(TABLES.map((t) => physicalTableName(t.id, 'dev')).sort());
  });

  for (const def of TABLES) {
    it(`${def.id}: on demand, PITR, SSE, keys, TTL and GSIs as defined`, () => {
      const [, table] = resources('AWS::DynamoDB::Table').find(([, r]) => r.Properties.TableName === physicalTableName(def.id, 'dev'))!;
      const p = table.Properties;
      expect(p.BillingMode).toBe('PAY_PER_REQUEST');
      expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(p.SSESpecification).toEqual({ SSEEnabled: true });
      expect(p.KeySchema).toEqual([
        { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
        ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' }] : []),
      ]);
      if (def.timeToLiveAttribute) expect(p.TimeToLiveSpecification).toEqual({ AttributeName: def.timeToLiveAttribute, Enabled: true });
      else expect(p.TimeToLiveSpecification).toBeUndefined();
      expect(asArray(p.GlobalSecondaryIndexes).map((g: any) => g.IndexName).sort()).toEqual(
        (def.globalSecondaryIndexes ?? []).map((g) => g.name).sort(),
      );
      // dev: deletable (prod is covered in prod.test.ts)
      expect(p.DeletionProtectionEnabled).toBe(false);
      expect(table.DeletionPolicy).toBe('Delete');
    });
  }
});

describe('Lambda functions', () => {
  it('creates one function per FUNCTIONS entry', () => {
    const names = resources('AWS::Lambda::Function').map(([, r]) => r.Properties.FunctionName).sort();
    expect(names).toEqual(FUNCTIONS.map((f) => `animelog-dev-${f.id}`).sort());
  });

  for (const def of FUNCTIONS) {
    it(`${def.id}: Node 22 on ARM64, traced, own log group with retention, env from its definition`, () => {
      const fn = s.json.Resources[fnLogicalId(def.id)];
      const p = fn.Properties;
      expect(p.Runtime).toBe('nodejs22.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.TracingConfig).toEqual({ Mode: 'Active' });
      expect(p.Handler).toBe('index.handler');
      expect(p.MemorySize).toBe(def.memoryMb);
      expect(p.Timeout).toBe(def.timeoutSeconds);
      const logGroup = s.json.Resources[p.LoggingConfig.LogGroup.Ref];
      expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup.Properties.LogGroupName).toBe(`/aws/lambda/animelog-dev-${def.id}`);
      expect(logGroup.Properties.RetentionInDays).toBe(14);

      const env = p.Environment.Variables as Record<string, unknown>;
      expect(env.STAGE).toBe('dev');
      const tableVars = Object.keys(env).filter((k) => k.startsWith('TABLE_')).sort();
      expect(tableVars).toEqual(Object.keys(def.tables).map(tableEnvName).sort());
      expect('TOKEN_KMS_KEY_ID' in env).toBe(Boolean(def.usesTokenKey));
      expect('MAL_SECRET_ARN' in env).toBe(Boolean(def.callsMal));
      expect('MAL_RATE_LIMIT_TABLE' in env).toBe(Boolean(def.callsMal && def.tables['rate-limits'] === 'write'));
      // The worker consumes the queue and shortens a busy message's visibility, so it knows the URL too.
      expect('SYNC_QUEUE_URL' in env).toBe(Boolean(def.sendsToSyncQueue) || def.id === 'sync-worker');
      expect('APPSYNC_GRAPHQL_URL' in env).toBe(Boolean(def.publishesSyncProgress));
    });
  }

  it('bundles each function locally with esbuild: one minified ESM file, AWS SDK inside, ≤ 1 MB', () => {
    for (const def of FUNCTIONS) {
      const fn = s.json.Resources[fnLogicalId(def.id)];
      const hash = /^([0-9a-f]{64})\.zip$/.exec(fn.Properties.Code.S3Key)?.[1];
      expect(hash, def.id).toBeDefined();
      const dir = join(s.outdir, `asset.${hash}`);
      expect(readdirSync(dir), def.id).toEqual(['index.mjs']);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.length).toBeLessThan(1024 * 1024);
      expect(code.startsWith("import { createRequire as __animelogCreateRequire } from 'node:module'")).toBe(true);
      // Nothing left to resolve at runtime except Node built-ins (the SDK is bundled).
      const imports = [...code.matchAll(/(?:^|[;}\s])import\s*(?:[\w{}\s,*$]+from\s*)?["']([^"']+)["']/g)].map((m) => m[1]);
      expect(imports.filter((m) => !m.startsWith('node:') && !/^[a-z_]+$/.test(m)), def.id).toEqual([]);
      // Minified: long lines (only template literals and legal comments keep newlines).
      expect(code.length / code.split('\n').length, def.id).toBeGreaterThan(1000);
    }
  });
});

describe('IAM', () => {
  it('has no statement allowing * (or service:*) actions on * resources', () => {
    for (const [role, statements] of statementsByRole(s.json)) {
      for (const st of statements) {
        if (st.Effect !== 'Allow') continue;
        const wildAction = asArray(st.Action).some((a) => a === '*' || a.endsWith(':*'));
        const wildResource = asArray(st.Resource).some((r) => r === '*');
        expect(wildAction && wildResource, `${role}: ${JSON.stringify(st)}`).toBe(false);
      }
    }
  });

  it('attaches no managed policies (own, scoped log permissions instead of AWSLambdaBasicExecutionRole)', () => {
    for (const [id, role] of resources('AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
  });

  for (const def of TABLES.filter((t) => t.sensitive)) {
    it(`the sensitive table ${def.id} is reachable only by the functions that list it`, () => {
      const tableId = logicalId(s.stack, s.stack.tables.get(def.id)!);
      const roles = [...statementsByRole(s.json)].filter(([, sts]) => sts.some((st) => referencedIds(st.Resource).has(tableId))).map(([r]) => r);
      const functionByRole = new Map([...roleOfFunction(s.json)].map(([fn, role]) => [role, fn]));
      // Every role that can touch it belongs to a Lambda function (no AppSync data source role)…
      for (const role of roles) expect(functionByRole.has(role), `role ${role} is not a function's role`).toBe(true);
      // …and those functions are exactly the ones that list it.
      const allowed = roles.map((r) => functionByRole.get(r)).sort();
      const listing = FUNCTIONS.filter((f) => f.tables[def.id]).map((f) => fnLogicalId(f.id)).sort();
      expect(allowed).toEqual(listing);
      // Read-only where the definition says read.
      for (const f of FUNCTIONS.filter((f) => f.tables[def.id] === 'read')) {
        const role = roleOfFunction(s.json).get(fnLogicalId(f.id))!;
        const actions = statementsByRole(s.json).get(role)!.filter((st) => referencedIds(st.Resource).has(tableId)).flatMap((st) => asArray(st.Action));
        expect(actions.filter((a) => /Put|Update|Delete|Write/.test(a)), f.id).toEqual([]);
      }
    });
  }

  it('grants the token key (GenerateDataKey/Decrypt only) to exactly the usesTokenKey functions', () => {
    const keyId = logicalId(s.stack, s.stack.tokenKey);
    const holders: string[] = [];
    for (const [role, sts] of statementsByRole(s.json)) {
      const onKey = sts.filter((st) => referencedIds(st.Resource).has(keyId));
      if (!onKey.length) continue;
      holders.push(role);
      expect(onKey.flatMap((st) => asArray(st.Action)).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    }
    const roles = roleOfFunction(s.json);
    expect(holders.sort()).toEqual(FUNCTIONS.filter((f) => f.usesTokenKey).map((f) => roles.get(fnLogicalId(f.id))).sort());
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('MAL tokens') });
  });

  it('lets exactly the callsMal functions read the MAL client secret', () => {
    const secretId = logicalId(s.stack, s.stack.malSecret);
    const holders = [...statementsByRole(s.json)].filter(([, sts]) => sts.some((st) => referencedIds(st.Resource).has(secretId))).map(([r]) => r);
    const roles = roleOfFunction(s.json);
    expect(holders.sort()).toEqual(FUNCTIONS.filter((f) => f.callsMal).map((f) => roles.get(fnLogicalId(f.id))).sort());
    s.template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'animelog/dev/mal-client' });
  });
});

describe('SQS', () => {
  it('sync queue: SSE, TLS only, dead-letter queue after maxReceiveCount', () => {
    const queueId = logicalId(s.stack, s.stack.syncQueue);
    const dlqId = logicalId(s.stack, s.stack.syncDeadLetterQueue);
    const queue = s.json.Resources[queueId].Properties;
    expect(queue.QueueName).toBe('animelog-dev-sync');
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: SYNC_MAX_RECEIVE_COUNT });
    expect(s.json.Resources[dlqId].Properties.SqsManagedSseEnabled).toBe(true);
    for (const id of [queueId, dlqId]) {
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('wires the sync worker to the queue only when FUNCTIONS has one', () => {
    const mappings = resources('AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBe(FUNCTIONS.some((f) => f.id === 'sync-worker') ? 1 : 0);
  });
});

describe('AppSync', () => {
  it('auth: Lambda authorizer by default, IAM and API key as additional modes; X-Ray; ERROR logs without verbose content', () => {
    const [[, api]] = resources('AWS::AppSync::GraphQLApi');
    const p = api.Properties;
    expect(p.Name).toBe('animelog-dev-api');
    expect(p.AuthenticationType).toBe('AWS_LAMBDA');
    expect(p.LambdaAuthorizerConfig.AuthorizerUri).toEqual({ 'Fn::GetAtt': [fnLogicalId('authorizer'), 'Arn'] });
    expect(asArray(p.AdditionalAuthenticationProviders).map((a: any) => a.AuthenticationType).sort()).toEqual(['API_KEY', 'AWS_IAM']);
    expect(p.XrayEnabled).toBe(true);
    expect(p.LogConfig).toMatchObject({ FieldLogLevel: 'ERROR', ExcludeVerboseContent: true });
    expect(p.LogConfig.CloudWatchLogsRoleArn).toBeDefined();
    s.template.resourceCountIs('AWS::AppSync::ApiKey', 1);
    // The authorizer may be invoked by this API only.
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'appsync.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [fnLogicalId('authorizer'), 'Arn'] },
      SourceArn: Match.anyValue(),
    });
  });

  it('sets the per-request cost limits the local runtime enforces (query depth, resolver count)', () => {
    s.template.hasResourceProperties('AWS::AppSync::GraphQLApi', {
      QueryDepthLimit: API_LIMITS.queryDepthLimit,
      ResolverCountLimit: API_LIMITS.resolverCountLimit,
    });
  });

  it('deploys schema.graphql as is', () => {
    s.template.hasResourceProperties('AWS::AppSync::GraphQLSchema', { Definition: readFileSync(join(REPO_ROOT, 'schema.graphql'), 'utf8') });
  });

  it('has one data source per DATA_SOURCES entry whose target exists', () => {
    const names = resources('AWS::AppSync::DataSource').map(([, r]) => r.Properties.Name).sort();
    const expected = DATA_SOURCES.filter((d) => d.kind !== 'lambda' || FUNCTIONS.some((f) => f.id === d.function)).map((d) => d.name).sort();
    expect(names).toEqual(expected);
  });

  it('has exactly one resolver per manifest entry, with the local bundle as its code', () => {
    const resolvers = resources('AWS::AppSync::Resolver').map(([, r]) => r.Properties);
    expect(resolvers.map((r) => `${r.TypeName}.${r.FieldName}`).sort()).toEqual(manifest.resolvers.map((r) => `${r.typeName}.${r.fieldName}`).sort());
    expect(manifest.resolvers.length).toBeGreaterThan(0);
    for (const entry of manifest.resolvers) {
      const r = resolvers.find((x) => x.TypeName === entry.typeName && x.FieldName === entry.fieldName)!;
      expect(r.Code, `${entry.typeName}.${entry.fieldName}`).toBe(readFileSync(join(DEFAULT_RESOLVER_DIR, entry.code), 'utf8'));
      expect(r.Runtime).toEqual({ Name: 'APPSYNC_JS', RuntimeVersion: '1.0.0' });
      if (entry.kind === 'unit') {
        expect(r.Kind ?? 'UNIT').toBe('UNIT');
      } else {
        expect(r.Kind).toBe('PIPELINE');
        expect(r.PipelineConfig.Functions).toHaveLength(entry.functions!.length);
      }
    }
  });

  it('unit resolvers name the data source of their manifest entry', () => {
    const dsByLogicalId = new Map(resources('AWS::AppSync::DataSource').map(([id, r]) => [id, r.Properties.Name as string]));
    for (const [, r] of resources('AWS::AppSync::Resolver') as [string, { Properties: any; DependsOn?: string[] }][]) {
      const entry = manifest.resolvers.find((e) => e.typeName === r.Properties.TypeName && e.fieldName === r.Properties.FieldName)!;
      if (entry.kind !== 'unit') continue;
      const ref = r.Properties.DataSourceName;
      const name = typeof ref === 'string' ? ref : dsByLogicalId.get(ref['Fn::GetAtt'][0]);
      expect(name, `${entry.typeName}.${entry.fieldName}`).toBe(entry.dataSource);
      // And it is created after its data source (and the schema).
      const dsId = [...dsByLogicalId].find(([, n]) => n === name)![0];
      expect(r.DependsOn).toContain(dsId);
    }
  });

  it('has one AppSync function per pipeline function, with its bundle as code', () => {
    const fns = resources('AWS::AppSync::FunctionConfiguration').map(([, r]) => r.Properties);
    expect(fns.length).toBe(manifest.functions.length);
    for (const f of manifest.functions) {
      const found = fns.find((x) => x.Name === f.name.replace(/[^_0-9A-Za-z]/g, '_'))!;
      expect(found.Code).toBe(readFileSync(join(DEFAULT_RESOLVER_DIR, f.code), 'utf8'));
      expect(found.Runtime).toEqual({ Name: 'APPSYNC_JS', RuntimeVersion: '1.0.0' });
    }
  });
});

describe('WAF', () => {
  it('a regional web ACL with a per-IP rate-based rule, associated with the API', () => {
    const [[aclId, acl]] = resources('AWS::WAFv2::WebACL');
    expect(acl.Properties.Scope).toBe('REGIONAL');
    const rate = acl.Properties.Rules.find((r: any) => r.Statement.RateBasedStatement);
    expect(rate.Action).toEqual({ Block: {} });
    expect(rate.Statement.RateBasedStatement).toEqual({
      AggregateKeyType: 'IP',
      Limit: WAF_RATE_LIMIT.requestsPerWindow,
      EvaluationWindowSec: WAF_RATE_LIMIT.windowSeconds,
    });
    const apiId = logicalId(s.stack, s.stack.api);
    s.template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { 'Fn::GetAtt': [apiId, 'Arn'] },
      WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] },
    });
  });
});

describe('monitoring', () => {
  const alarms = () => resources('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);

  it('alarms on errors and throttles of every function', () => {
    for (const def of FUNCTIONS) {
      for (const metric of ['Errors', 'Throttles']) {
        const found = alarms().filter(
          (a) => a.Namespace === 'AWS/Lambda' && a.MetricName === metric && JSON.stringify(a.Dimensions).includes(fnLogicalId(def.id)),
        );
        expect(found, `${def.id} ${metric}`).toHaveLength(1);
      }
    }
  });

  it('alarms on DLQ depth, AppSync 5xx and the custom sync / token-refresh metrics; all notify the topic', () => {
    const dlqId = logicalId(s.stack, s.stack.syncDeadLetterQueue);
    expect(
      alarms().some(
        (a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && JSON.stringify(a.Dimensions).includes(dlqId) && a.Threshold === 1,
      ),
    ).toBe(true);
    expect(alarms().some((a) => a.Namespace === 'AWS/AppSync' && a.MetricName === '5XXError')).toBe(true);
    for (const name of [METRIC.SyncJobFailed, METRIC.MalTokenRefreshFailed]) {
      expect(
        alarms().some((a) => a.Namespace === METRICS_NAMESPACE && a.MetricName === name && JSON.stringify(a.Dimensions).includes('"dev"')),
        name,
      ).toBe(true);
    }
    const topicId = logicalId(s.stack, s.stack.alarmTopic);
    for (const a of alarms()) expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
    s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('reports no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(s.stack);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
    // And nothing else was reported as an error during synthesis.
    expect(Annotations.fromStack(s.stack).findError('*', Match.anyValue())).toEqual([]);
  });

  it('every acknowledgement carries a specific reason', () => {
    const acknowledged: { path: string; id: string; reason: string }[] = [];
    for (const c of s.stack.node.findAll()) {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) acknowledged.push({ path: c.node.path, id, reason });
      }
    }
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const a of acknowledged) {
      expect(a.id).toMatch(/^(Annotation::)?AwsSolutions-/);
      expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(40);
    }
    // Wildcard findings are acknowledged one by one, never the rule as a whole.
    expect(acknowledged.filter((a) => /AwsSolutions-IAM5$/.test(a.id))).toEqual([]);
  });
});

describe('sync worker and progress publishing', () => {
  const worker = FUNCTIONS.find((f) => f.id === 'sync-worker');

  it.runIf(worker)('the sync worker consumes the sync queue (batch item failures, bounded concurrency)', () => {
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnLogicalId('sync-worker') },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(s.stack, s.stack.syncQueue), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: SYNC_WORKER_MAX_CONCURRENCY },
    });
    const queue = s.json.Resources[logicalId(s.stack, s.stack.syncQueue)].Properties;
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(Math.min(43_200, 6 * worker!.timeoutSeconds));
  });

  it('only publishesSyncProgress functions may call the API with IAM, and only Mutation.publishSyncProgress', () => {
    const roles = roleOfFunction(s.json);
    const publishers = FUNCTIONS.filter((f) => f.publishesSyncProgress).map((f) => roles.get(fnLogicalId(f.id)));
    const holders: string[] = [];
    for (const [role, sts] of statementsByRole(s.json)) {
      const gql = sts.filter((st) => asArray(st.Action).some((a) => a.startsWith('appsync:')));
      if (!gql.length) continue;
      holders.push(role);
      for (const st of gql) {
        expect(asArray(st.Action)).toEqual(['appsync:GraphQL']);
        expect(JSON.stringify(st.Resource)).toMatch(/\/types\/Mutation\/fields\/publishSyncProgress"/);
      }
    }
    expect(holders.sort()).toEqual(publishers.sort());
  });

  it('senders of the sync queue are exactly the sendsToSyncQueue functions', () => {
    const queueId = logicalId(s.stack, s.stack.syncQueue);
    const roles = roleOfFunction(s.json);
    const senders = [...statementsByRole(s.json)]
      .filter(([, sts]) => sts.some((st) => asArray(st.Action).includes('sqs:SendMessage') && referencedIds(st.Resource).has(queueId)))
      .map(([r]) => r);
    expect(senders.sort()).toEqual(FUNCTIONS.filter((f) => f.sendsToSyncQueue).map((f) => roles.get(fnLogicalId(f.id))).sort());
  });
});
