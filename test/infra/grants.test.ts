/**
 * The deployed roles and the local runtime's grant check come from one definition: for every function
 * and every action on every resource of the stack, the local checker allows it exactly when the
 * synthesized role policy does (logging to the function's own log group and X-Ray tracing aside,
 * common to all roles). Offline synth, Lambda bundling skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTHORIZER_CACHE_SECONDS,
  FUNCTIONS,
  MAL_SECRET_ACTIONS,
  SYNC_QUEUE_CONSUME_ACTIONS,
  SYNC_QUEUE_SEND_ACTIONS,
  TABLE_WRITE_ACTIONS,
  TOKEN_KEY_ACTIONS,
  type GrantResource,
} from '#contract/functions';
import { TABLES } from '#contract/tables';
import { createGrantChecker, runAsFunction } from '../../local/grants';
import { asArray, logicalId, roleOfFunction, statementsByRole, synth, type Synthesised } from './support';

let s: Synthesised;
beforeAll(() => {
  s = synth({ stage: 'dev', context: { 'aws:cdk:bundling-stacks': [] } });
}, 120_000);
afterAll(() => s?.cleanup());

const BASELINE = new Set(['logs:CreateLogStream|own-log-group', 'logs:PutLogEvents|own-log-group', 'xray:PutTraceSegments|*', 'xray:PutTelemetryRecords|*']);

/** `action|resource` for each allowed pair of a role, resources named as the grants name them. */
function allowedPairs(roleId: string, logGroupId: string): Set<string> {
  const names = new Map<string, string>();
  for (const t of TABLES) names.set(logicalId(s.stack, s.stack.tables.get(t.id)!), `table/${t.id}`);
  names.set(logicalId(s.stack, s.stack.tokenKey), 'token-key');
  names.set(logicalId(s.stack, s.stack.malSecret), 'mal-secret');
  names.set(logicalId(s.stack, s.stack.syncQueue), 'sync-queue');
  names.set(logicalId(s.stack, s.stack.api), 'api');
  names.set(logGroupId, 'own-log-group');
  const resourceName = (resource: unknown): string => {
    if (resource === '*') return '*';
    const text = JSON.stringify(resource);
    const ids = [...text.matchAll(/"(?:Ref|Fn::GetAtt)":\s*(?:"([^"]+)"|\["([^"]+)")/g)].map((m) => m[1] ?? m[2]).filter((id) => names.has(id));
    expect(ids.length, `resource ${text}`).toBe(1);
    const name = names.get(ids[0])!;
    if (name === 'api') return `api${/(\/types\/[^"]+)/.exec(text)?.[1] ?? '?'}`;
    return text.includes('/index/*') ? `${name}/index/*` : name;
  };
  const pairs = new Set<string>();
  for (const st of statementsByRole(s.json).get(roleId) ?? []) {
    expect(st.Effect).toBe('Allow');
    for (const action of asArray(st.Action)) for (const r of asArray(st.Resource)) pairs.add(`${action}|${resourceName(r)}`);
  }
  return pairs;
}

/** Every action the stack's grants can name, on every resource. */
const everyResource: { key: string; resource: GrantResource; actions: readonly string[] }[] = [
  ...TABLES.map((t) => ({ key: `table/${t.id}`, resource: { kind: 'table', table: t.id } as GrantResource, actions: TABLE_WRITE_ACTIONS })),
  { key: 'token-key', resource: { kind: 'token-key' }, actions: TOKEN_KEY_ACTIONS },
  { key: 'mal-secret', resource: { kind: 'mal-secret' }, actions: MAL_SECRET_ACTIONS },
  { key: 'sync-queue', resource: { kind: 'sync-queue' }, actions: [...new Set([...SYNC_QUEUE_SEND_ACTIONS, ...SYNC_QUEUE_CONSUME_ACTIONS])] },
  { key: 'api/types/Mutation/fields/publishSyncProgress', resource: { kind: 'api-field', typeName: 'Mutation', fieldName: 'publishSyncProgress' }, actions: ['appsync:GraphQL'] },
];

describe('function roles = local grant check', () => {
  const checker = createGrantChecker({ definitions: FUNCTIONS, stage: 'dev', region: 'us-east-1', accountId: '000000000000' });
  const locallyAllowed = (id: (typeof FUNCTIONS)[number]['id'], action: string, resource: GrantResource) =>
    runAsFunction(id, () => {
      try {
        checker.authorize(action, resource);
        return true;
      } catch (error) {
        expect((error as Error).name).toBe('AccessDeniedException');
        return false;
      }
    });

  for (const def of FUNCTIONS) {
    it(`${def.id}: every action on every resource is allowed locally exactly when its synthesized role allows it`, () => {
      const fnId = logicalId(s.stack, s.stack.functions.get(def.id)!);
      const fn = s.json.Resources[fnId];
      const roleId = roleOfFunction(s.json).get(fnId)!;
      const pairs = allowedPairs(roleId, fn.Properties.LoggingConfig.LogGroup.Ref);
      const deployed = new Set<string>();
      const local = new Set<string>();
      for (const { key, resource, actions } of everyResource) {
        for (const action of actions) {
          if (pairs.has(`${action}|${key}`)) deployed.add(`${action}|${key}`);
          if (locallyAllowed(def.id, action, resource)) local.add(`${action}|${key}`);
        }
      }
      expect([...local].sort()).toEqual([...deployed].sort());
      // The role allows nothing beyond these and the common baseline; a table with indexes has them too.
      for (const pair of pairs) {
        const [action, resource] = pair.split('|');
        if (BASELINE.has(pair)) continue;
        if (resource.endsWith('/index/*')) {
          const table = resource.slice('table/'.length, -'/index/*'.length);
          expect(TABLES.find((t) => t.id === table)?.globalSecondaryIndexes?.length, pair).toBeTruthy();
          expect(deployed.has(`${action}|table/${table}`), pair).toBe(true);
          continue;
        }
        expect(deployed.has(pair), `${def.id} role allows ${pair}, which its definition does not grant`).toBe(true);
      }
    });
  }

});

describe('session checks and the request counter in the template', () => {
  const resources = (type: string) => Object.entries(s.json.Resources).filter(([, r]) => r.Type === type);

  it('caches the Lambda authorizer answer for AUTHORIZER_CACHE_SECONDS (60 s)', () => {
    const [[, api]] = resources('AWS::AppSync::GraphQLApi');
    expect(api.Properties.AuthenticationType).toBe('AWS_LAMBDA');
    expect(api.Properties.LambdaAuthorizerConfig.AuthorizerResultTtlInSeconds).toBe(AUTHORIZER_CACHE_SECONDS);
    expect(AUTHORIZER_CACHE_SECONDS).toBe(60);
  });

  it('runs countRequest (on the rate-limits table) first in every root Query and Mutation resolver', () => {
    const functionIds = new Map(resources('AWS::AppSync::FunctionConfiguration').map(([id, r]) => [id, r.Properties]));
    const dataSources = new Map(resources('AWS::AppSync::DataSource').map(([id, r]) => [r.Properties.Name, { id, props: r.Properties }]));
    const counter = [...functionIds].find(([, p]) => p.Name === 'countRequest');
    expect(counter).toBeDefined();
    const dsName = JSON.stringify(counter![1].DataSourceName);
    expect(dsName === '"RateLimitsTable"' || dsName.includes(`"${dataSources.get('RateLimitsTable')!.id}"`), dsName).toBe(true);
    expect(dataSources.get('RateLimitsTable')!.props.DynamoDBConfig.TableName).toEqual({ Ref: logicalId(s.stack, s.stack.tables.get('rate-limits')!) });
    const roots = resources('AWS::AppSync::Resolver').filter(([, r]) => r.Properties.TypeName === 'Query' || r.Properties.TypeName === 'Mutation');
    expect(roots.length).toBeGreaterThan(10);
    for (const [id, r] of roots) {
      expect(r.Properties.Kind, id).toBe('PIPELINE');
      const first = JSON.stringify(r.Properties.PipelineConfig.Functions[0]);
      expect(first, `${r.Properties.TypeName}.${r.Properties.FieldName}`).toContain(`"${counter![0]}"`);
    }
  });
});
