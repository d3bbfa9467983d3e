/**
 * The stack under other inputs: the prod stage (retention, deletion protection, introspection) and the
 * clear failures when a source of truth points at something that does not exist (yet). Lambda bundling
 * is skipped here (`aws:cdk:bundling-stacks: []`): stack.test.ts covers it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, type FunctionDefinition } from '#contract/functions';
import { testTempDir } from '../support/temp';
import { APPSYNC_CODE_MAX_CHARS, DEFAULT_RESOLVER_DIR, REPO_ROOT, createApp, parseStage, readResolverManifest, rootFields } from '../../infra/stack';
import { TABLES } from '#contract/tables';
import { logicalId, synth, type Synthesised } from './support';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const authorizer = FUNCTIONS.find((f) => f.id === 'authorizer')!;

describe('prod stage', () => {
  let s: Synthesised;
  beforeAll(() => {
    s = synth({ stage: 'prod', context: NO_BUNDLING });
  }, 120_000);
  afterAll(() => s?.cleanup());

  it('keeps data: tables retained and deletion-protected, token key and secret retained', () => {
    const tables = Object.values(s.json.Resources).filter((r) => r.Type === 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(TABLES.length);
    for (const t of tables) {
      expect(t.Properties.TableName).toMatch(/^animelog-prod-/);
      expect(t.DeletionPolicy).toBe('Retain');
      expect(t.UpdateReplacePolicy).toBe('Retain');
      expect(t.Properties.DeletionProtectionEnabled).toBe(true);
      expect(t.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
    expect(s.json.Resources[logicalId(s.stack, s.stack.tokenKey)].DeletionPolicy).toBe('Retain');
    expect(s.json.Resources[logicalId(s.stack, s.stack.malSecret)].DeletionPolicy).toBe('Retain');
    expect(s.json.Resources[logicalId(s.stack, s.stack.malSecret)].Properties.Name).toBe('animelog/prod/mal-client');
  });

  it('keeps logs 90 days and disables introspection', () => {
    for (const r of Object.values(s.json.Resources).filter((r) => r.Type === 'AWS::Logs::LogGroup')) {
      expect(r.Properties.RetentionInDays).toBe(90);
    }
    s.template.hasResourceProperties('AWS::AppSync::GraphQLApi', { Name: 'animelog-prod-api', IntrospectionConfig: 'DISABLED' });
  });
});

describe('stage names', () => {
  it('accepts dev, staging and prod only', () => {
    expect(parseStage('staging')).toBe('staging');
    expect(() => parseStage('qa')).toThrow(/unknown stage "qa"/);
    // An outdir of the test's own: without one the CDK app makes a cdk.out* folder in /tmp and leaves it.
    expect(() => createApp({ stage: 'Prod', nag: false, context: NO_BUNDLING, outdir: testTempDir('animelog-cdk-') })).toThrow(/dev\|staging\|prod/);
  });
});

describe('clear failures', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'animelog-manifest-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const writeManifest = (name: string, manifest: unknown, bundles: Record<string, string>) => {
    const d = mkdtempSync(join(dir, `${name}-`));
    writeFileSync(join(d, 'manifest.json'), JSON.stringify(manifest));
    for (const [file, code] of Object.entries(bundles)) writeFileSync(join(d, file), code);
    return d;
  };
  const CODE = 'export function request(ctx) { return {}; }\nexport function response(ctx) { return ctx.result; }\n';
  const create = (functions: readonly FunctionDefinition[], resolverDir?: string) =>
    createApp({ stage: 'dev', nag: false, context: NO_BUNDLING, functions, resolverDir, outdir: mkdtempSync(join(dir, 'cdk-')) });

  it('a FUNCTIONS entry whose handler file does not exist yet', () => {
    const missing: FunctionDefinition = { ...authorizer, id: 'history', entry: 'functions/handlers/not-written-yet.ts' };
    expect(() => create([authorizer, missing])).toThrow(
      /function 'history' has entry 'functions\/handlers\/not-written-yet.ts', which does not exist yet/,
    );
  });

  it('a resolver whose Lambda data source has no function in FUNCTIONS', () => {
    const d = writeManifest('lambda', {
      resolvers: [{ typeName: 'Query', fieldName: 'malAnime', kind: 'unit', dataSource: 'MalFunction', code: 'a.js' }],
      functions: [],
    }, { 'a.js': CODE });
    expect(() => create([authorizer], d)).toThrow(/resolver Query.malAnime uses data source MalFunction, whose Lambda function 'mal' is not in contract\/functions.ts yet/);
  });

  it('a resolver for a field the schema does not have', () => {
    const d = writeManifest('field', {
      resolvers: [{ typeName: 'Query', fieldName: 'noSuchField', kind: 'unit', dataSource: 'None', code: 'a.js' }],
      functions: [],
    }, { 'a.js': CODE });
    expect(() => create([authorizer], d)).toThrow(/resolver Query.noSuchField: schema.graphql has no such field/);
  });

  it('a bundle over AppSync’s code size limit', () => {
    const d = writeManifest('big', {
      resolvers: [{ typeName: 'Query', fieldName: 'me', kind: 'unit', dataSource: 'None', code: 'a.js' }],
      functions: [],
    }, { 'a.js': `${CODE}// ${'x'.repeat(APPSYNC_CODE_MAX_CHARS)}\n` });
    expect(() => create([authorizer], d)).toThrow(/AppSync accepts at most 32768/);
  });

  it('a schema root field without a resolver', () => {
    // The real build with one root resolver left out of its manifest.
    const full = readResolverManifest(DEFAULT_RESOLVER_DIR);
    const bundles: Record<string, string> = {};
    const copy = (file: string) => (bundles[file.replace(/\//g, '__')] = readFileSync(join(DEFAULT_RESOLVER_DIR, file), 'utf8'));
    const flat = (file: string) => file.replace(/\//g, '__');
    for (const f of full.functions) copy(f.code);
    for (const r of full.resolvers) copy(r.code);
    const manifest = {
      functions: full.functions.map((f) => ({ ...f, code: flat(f.code) })),
      resolvers: full.resolvers.filter((r) => !(r.typeName === 'Query' && r.fieldName === 'settings')).map((r) => ({ ...r, code: flat(r.code) })),
    };
    const d = writeManifest('root', manifest, bundles);
    expect(() => create(FUNCTIONS, d)).toThrow(/root field\(s\) without a resolver: Query.settings\./);
    // The complete build passes the same check.
    expect(rootFields(readFileSync(join(REPO_ROOT, 'schema.graphql'), 'utf8')).filter((f) => !full.resolvers.some((r) => `${r.typeName}.${r.fieldName}` === f))).toEqual([]);
  });

  it('no authorizer in FUNCTIONS', () => {
    const d = writeManifest('empty', { resolvers: [], functions: [] }, {});
    expect(() => create([], d)).toThrow(/no 'authorizer' function/);
  });

  it('a pipeline resolver wires its functions in order, each with its own data source', () => {
    const d = writeManifest('pipeline', {
      resolvers: [{ typeName: 'Query', fieldName: 'me', kind: 'pipeline', functions: ['loadUser', 'shape'], code: 'p.js' }],
      functions: [
        { name: 'loadUser', dataSource: 'UsersTable', code: 'f1.js' },
        { name: 'shape', dataSource: 'None', code: 'f2.js' },
      ],
    }, { 'p.js': `${CODE}//p`, 'f1.js': `${CODE}//f1`, 'f2.js': `${CODE}//f2` });
    const s = synth({ stage: 'dev', context: NO_BUNDLING, functions: [authorizer], resolverDir: d, partialResolvers: true });
    try {
      const fns = Object.entries(s.json.Resources).filter(([, r]) => r.Type === 'AWS::AppSync::FunctionConfiguration');
      expect(fns.map(([, r]) => [r.Properties.Name, r.Properties.Code])).toEqual([
        ['loadUser', `${CODE}//f1`],
        ['shape', `${CODE}//f2`],
      ]);
      const [[, resolver]] = Object.entries(s.json.Resources).filter(([, r]) => r.Type === 'AWS::AppSync::Resolver');
      expect(resolver.Properties.Kind).toBe('PIPELINE');
      expect(resolver.Properties.Code).toBe(`${CODE}//p`);
      expect(resolver.Properties.PipelineConfig.Functions).toEqual(fns.map(([id]) => ({ 'Fn::GetAtt': [id, 'FunctionId'] })));
    } finally {
      s.cleanup();
    }
  });
});
