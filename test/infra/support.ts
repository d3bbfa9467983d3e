/**
 * Helpers for the infra tests: synthesise the app into a temporary cloud assembly (never the shared
 * cdk.out) and navigate the template by the logical ids of the stack's constructs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createApp, type AnimeLogStack, type CreateAppOptions } from '../../infra/stack';

export interface Synthesised {
  stack: AnimeLogStack;
  template: Template;
  /** The cloud assembly directory (assets included). */
  outdir: string;
  json: { Resources: Record<string, { Type: string; Properties?: any; DeletionPolicy?: string; UpdateReplacePolicy?: string }> };
  cleanup: () => void;
}

/** Synthesises one stack (nag is run explicitly by the tests that want it, for a readable report). */
export function synth(options: Omit<CreateAppOptions, 'outdir'> = {}): Synthesised {
  const outdir = mkdtempSync(join(tmpdir(), 'animelog-cdk-'));
  const { stack, template } = withoutBundlingLines(() => {
    const { stack } = createApp({ nag: false, ...options, outdir });
    return { stack, template: Template.fromStack(stack) };
  });
  return {
    stack,
    template,
    outdir,
    json: template.toJSON() as Synthesised['json'],
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/**
 * Runs a synchronous synthesis without CDK's "Bundling asset …" lines (it writes one per Lambda to stderr,
 * unconditionally): a passing test run shows nothing it expected. Every other stderr write passes.
 */
function withoutBundlingLines<T>(work: () => T): T {
  const write = process.stderr.write;
  const filtered = (chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string' && /^Bundling asset \S+\.\.\.\n$/.test(chunk) ? true : (write as (...args: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  process.stderr.write = filtered as typeof process.stderr.write;
  try {
    return work();
  } finally {
    process.stderr.write = write;
  }
}

export function logicalId(stack: AnimeLogStack, construct: IConstruct): string {
  return stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnResource)) as string;
}

export function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Every logical id a CloudFormation value mentions (Ref / Fn::GetAtt), recursively. */
export function referencedIds(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) referencedIds(v, into);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string') into.add(v);
      else if (k === 'Fn::GetAtt' && Array.isArray(v)) into.add(String(v[0]));
      else referencedIds(v, into);
    }
  }
  return into;
}

export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** IAM statements per role logical id, from AWS::IAM::Policy resources and inline role policies. */
export function statementsByRole(json: Synthesised['json']): Map<string, PolicyStatement[]> {
  const byRole = new Map<string, PolicyStatement[]>();
  const add = (role: string, statements: PolicyStatement[]) => byRole.set(role, [...(byRole.get(role) ?? []), ...statements]);
  for (const [id, r] of Object.entries(json.Resources)) {
    if (r.Type === 'AWS::IAM::Policy') {
      for (const role of asArray(r.Properties.Roles)) add((role as { Ref: string }).Ref, r.Properties.PolicyDocument.Statement);
    }
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of asArray(r.Properties.Policies)) add(id, (p as any).PolicyDocument.Statement);
    }
  }
  return byRole;
}

/** The role logical id each Lambda function (by logical id) runs as. */
export function roleOfFunction(json: Synthesised['json']): Map<string, string> {
  const roles = new Map<string, string>();
  for (const [id, r] of Object.entries(json.Resources)) {
    if (r.Type === 'AWS::Lambda::Function') roles.set(id, r.Properties.Role['Fn::GetAtt'][0]);
  }
  return roles;
}
