/**
 * A static check that every AWS call in a Lambda's deployed code is covered by its definition's grants
 * (contract/functions.ts). The local runtime checks DynamoDB, KMS, SQS sends and the signed publish as
 * they happen; calls that only run in a deployed stage (the MAL client secret, the SQS handler's
 * visibility change) never reach it, so this reads the code instead: each function's entry is bundled as
 * CDK bundles it, and in the project's own files that end up in the bundle, every AWS SDK v3 command
 * constructed (`new XxxCommand(`) and every SigV4 signer is mapped to the IAM actions it needs.
 * Anything from the SDK it cannot map fails the check, so a new kind of call cannot pass unseen.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';
import { grantedActions, type FunctionDefinition } from '#contract/functions';
import { LAMBDA_BUNDLING } from '../../infra/constructs/bundling';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** IAM actions of each SDK v3 command, by package and command class (the service authorisation reference). */
export const SDK_COMMAND_ACTIONS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  '@aws-sdk/lib-dynamodb': {
    GetCommand: ['dynamodb:GetItem'],
    PutCommand: ['dynamodb:PutItem'],
    UpdateCommand: ['dynamodb:UpdateItem'],
    DeleteCommand: ['dynamodb:DeleteItem'],
    QueryCommand: ['dynamodb:Query'],
    ScanCommand: ['dynamodb:Scan'],
    BatchGetCommand: ['dynamodb:BatchGetItem'],
    BatchWriteCommand: ['dynamodb:BatchWriteItem'],
    // Transactions have no action of their own: each item is authorised as its own operation, and a
    // transaction may carry any of them.
    TransactGetCommand: ['dynamodb:GetItem'],
    TransactWriteCommand: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
  },
  '@aws-sdk/client-dynamodb': {
    GetItemCommand: ['dynamodb:GetItem'],
    PutItemCommand: ['dynamodb:PutItem'],
    UpdateItemCommand: ['dynamodb:UpdateItem'],
    DeleteItemCommand: ['dynamodb:DeleteItem'],
    QueryCommand: ['dynamodb:Query'],
    ScanCommand: ['dynamodb:Scan'],
    BatchGetItemCommand: ['dynamodb:BatchGetItem'],
    BatchWriteItemCommand: ['dynamodb:BatchWriteItem'],
    TransactGetItemsCommand: ['dynamodb:GetItem'],
    TransactWriteItemsCommand: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
  },
  '@aws-sdk/client-kms': {
    GenerateDataKeyCommand: ['kms:GenerateDataKey'],
    DecryptCommand: ['kms:Decrypt'],
    EncryptCommand: ['kms:Encrypt'],
  },
  '@aws-sdk/client-sqs': {
    SendMessageCommand: ['sqs:SendMessage'],
    SendMessageBatchCommand: ['sqs:SendMessage'],
    ChangeMessageVisibilityCommand: ['sqs:ChangeMessageVisibility'],
    ChangeMessageVisibilityBatchCommand: ['sqs:ChangeMessageVisibility'],
    ReceiveMessageCommand: ['sqs:ReceiveMessage'],
    DeleteMessageCommand: ['sqs:DeleteMessage'],
    DeleteMessageBatchCommand: ['sqs:DeleteMessage'],
    GetQueueUrlCommand: ['sqs:GetQueueUrl'],
    GetQueueAttributesCommand: ['sqs:GetQueueAttributes'],
  },
  '@aws-sdk/client-secrets-manager': {
    GetSecretValueCommand: ['secretsmanager:GetSecretValue'],
    DescribeSecretCommand: ['secretsmanager:DescribeSecret'],
  },
};

/** The module and export of a SigV4 signer, and the IAM action of the requests it signs, by signing service. */
export const SIGNER = { module: '@smithy/signature-v4', name: 'SignatureV4' } as const;
export const SIGNED_SERVICE_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  appsync: ['appsync:GraphQL'],
};

/**
 * SDK exports that make no AWS call themselves: clients (their `send` takes a command, found on its own),
 * error classes, a command's input and output types, and the environment credential provider.
 */
function isNonCallExport(name: string): boolean {
  return /(Client|Exception|CommandInput|CommandOutput)$/.test(name) || name === 'fromEnv';
}

/** One AWS call site in the project's code. */
export interface SdkCall {
  /** Repository-relative path. */
  file: string;
  line: number;
  module: string;
  /** The command class, or `SignatureV4(<service>)`. */
  command: string;
  /** The IAM actions it needs; empty when unknown. */
  actions: readonly string[];
}

/** Something the check cannot vouch for: an unmapped call, an SDK use it cannot read, or an ungranted action. */
export interface SdkCallProblem {
  functionId: string;
  file: string;
  line: number;
  module: string;
  command: string;
  /** Ungranted actions (for 'ungranted'). */
  missing: string[];
  kind: 'unmapped' | 'unreadable' | 'ungranted';
  message: string;
}

export interface FunctionSdkCalls {
  functionId: string;
  /** The project files (functions/, contract/) with code in the bundle. */
  files: string[];
  calls: SdkCall[];
  /** SDK uses the check cannot read (namespace imports, re-exports, dynamic imports, unknown exports). */
  unreadable: { file: string; line: number; module: string; what: string }[];
}

const isAwsModule = (specifier: string) => specifier.startsWith('@aws-sdk/') || specifier === SIGNER.module;
const isProjectFile = (path: string) => /^(functions|contract)\//.test(path);

/**
 * The code of each project file (functions/, contract/) in `definition`'s bundle, built with CDK's
 * bundling options, nothing written. Not minified, so that the bundle keeps esbuild's `// <file>`
 * markers: tree-shaking is the same, and minifying only removes more, so what is kept here is a superset
 * of what is deployed.
 */
export async function bundledProjectCode(definition: FunctionDefinition, repoRoot = REPO_ROOT): Promise<Map<string, string>> {
  const result = await build({
    entryPoints: [resolve(repoRoot, definition.entry)],
    outfile: 'index.mjs',
    write: false,
    metafile: true,
    bundle: true,
    format: LAMBDA_BUNDLING.format,
    platform: LAMBDA_BUNDLING.platform,
    target: LAMBDA_BUNDLING.target,
    minify: false,
    mainFields: LAMBDA_BUNDLING.mainFields,
    alias: LAMBDA_BUNDLING.alias,
    external: LAMBDA_BUNDLING.externalModules,
    // The aliases' paths are relative to the repository root, as in CDK's bundling.
    absWorkingDir: repoRoot,
    logLevel: 'silent',
  });
  const inputs = new Set(Object.keys(result.metafile.inputs));
  const live = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) if (input.bytesInOutput > 0 && isProjectFile(path)) live.add(path);
  }
  // A module's statements may come in several sections (hoisted imports): each begins at its marker.
  const code = new Map<string, string>();
  let current: string | undefined;
  for (const line of result.outputFiles[0].text.split('\n')) {
    const marker = /^\s*\/\/ (\S+)$/.exec(line)?.[1];
    if (marker && inputs.has(marker)) {
      current = isProjectFile(marker) ? marker : undefined;
      continue;
    }
    if (current) code.set(current, `${code.get(current) ?? ''}${line}\n`);
  }
  for (const file of live) if (!code.has(file)) throw new Error(`${definition.id}: ${file} has code in the bundle but no section marker was found`);
  return code;
}

/** The AWS calls in one source file, and the SDK uses it cannot read. */
export function sdkCallsInSource(file: string, text: string): { calls: SdkCall[]; unreadable: FunctionSdkCalls['unreadable'] } {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const calls: SdkCall[] = [];
  const unreadable: FunctionSdkCalls['unreadable'] = [];
  /** Local name → the SDK module and export it is bound to (value imports only). */
  const imported = new Map<string, { module: string; name: string }>();

  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier) && isAwsModule(statement.moduleSpecifier.text)) {
      const module = statement.moduleSpecifier.text;
      const clause = statement.importClause;
      if (!clause || clause.isTypeOnly) continue;
      if (clause.name) unreadable.push({ file, line: lineOf(statement), module, what: `default import ${clause.name.text}` });
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) {
        unreadable.push({ file, line: lineOf(statement), module, what: `namespace import * as ${bindings.name.text} (import the names used)` });
      } else if (bindings) {
        for (const element of bindings.elements) {
          if (element.isTypeOnly) continue;
          const name = (element.propertyName ?? element.name).text;
          imported.set(element.name.text, { module, name });
          const known = module === SIGNER.module ? name === SIGNER.name : Boolean(SDK_COMMAND_ACTIONS[module]?.[name]) || /Command$/.test(name);
          if (!known && !isNonCallExport(name)) {
            unreadable.push({ file, line: lineOf(element), module, what: `${name}, an export the check does not know (not a command, client or error class)` });
          }
        }
      }
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier) && isAwsModule(statement.moduleSpecifier.text)) {
      if (!statement.isTypeOnly) {
        unreadable.push({ file, line: lineOf(statement), module: statement.moduleSpecifier.text, what: 're-export (import the SDK where it is used)' });
      }
    }
  }

  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
      const binding = imported.get(node.expression.text);
      if (binding && binding.module === SIGNER.module && binding.name === SIGNER.name) {
        const service = signingService(node);
        calls.push({
          file,
          line: lineOf(node),
          module: binding.module,
          command: `${SIGNER.name}(${service ?? '?'})`,
          actions: (service && SIGNED_SERVICE_ACTIONS[service]) || [],
        });
      } else if (binding && /Command$/.test(binding.name)) {
        calls.push({ file, line: lineOf(node), module: binding.module, command: binding.name, actions: SDK_COMMAND_ACTIONS[binding.module]?.[binding.name] ?? [] });
      }
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [specifier] = node.arguments;
      if (!specifier || !ts.isStringLiteralLike(specifier) || isAwsModule(specifier.text)) {
        unreadable.push({ file, line: lineOf(node), module: specifier && ts.isStringLiteralLike(specifier) ? specifier.text : '?', what: 'dynamic import' });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { calls, unreadable };
}

/** The literal `service` of `new SignatureV4({ service: '…', … })`, if it is one. */
function signingService(node: ts.NewExpression): string | undefined {
  let options = node.arguments?.[0];
  while (options && (ts.isAsExpression(options) || ts.isSatisfiesExpression(options) || ts.isParenthesizedExpression(options))) options = options.expression;
  if (!options || !ts.isObjectLiteralExpression(options)) return undefined;
  for (const property of options.properties) {
    if (ts.isPropertyAssignment(property) && ts.isIdentifier(property.name) && property.name.text === 'service' && ts.isStringLiteralLike(property.initializer)) {
      return property.initializer.text;
    }
  }
  return undefined;
}

/** `new <name>(` in bundled code, the name as esbuild may have suffixed it (`GetCommand2`) or qualified it. */
const BUNDLED_NEW = /\bnew\s+(?:[\w$]+\.)?([A-Za-z_$][\w$]*?Command|SignatureV4)\d*\s*\(/g;

/**
 * The calls of one project file that its bundled code still makes: a call whose construction esbuild
 * left out (an unused export) is not deployed. The other way round, every command the bundled code
 * constructs must be one the source scan attributed to an SDK import, or it is reported.
 */
export function callsInBundledFile(file: string, sourceText: string, bundledCode: string): { calls: SdkCall[]; unreadable: FunctionSdkCalls['unreadable'] } {
  const constructed = new Set([...bundledCode.matchAll(BUNDLED_NEW)].map((m) => m[1]));
  const found = sdkCallsInSource(file, sourceText);
  const className = (call: SdkCall) => (call.module === SIGNER.module ? SIGNER.name : call.command);
  const calls = found.calls.filter((call) => constructed.has(className(call)));
  const unreadable = [...found.unreadable];
  const attributed = new Set(found.calls.map(className));
  for (const name of constructed) {
    if (!attributed.has(name)) unreadable.push({ file, line: 0, module: '?', what: `new ${name}(…) in the bundle, not found as an SDK import in the source` });
  }
  return { calls, unreadable };
}

/** The AWS calls in the code `definition` deploys. */
export async function sdkCallsOfFunction(definition: FunctionDefinition, repoRoot = REPO_ROOT): Promise<FunctionSdkCalls> {
  const code = await bundledProjectCode(definition, repoRoot);
  const calls: SdkCall[] = [];
  const unreadable: FunctionSdkCalls['unreadable'] = [];
  for (const [file, bundled] of code) {
    const found = callsInBundledFile(file, readFileSync(resolve(repoRoot, file), 'utf8'), bundled);
    calls.push(...found.calls);
    unreadable.push(...found.unreadable);
  }
  return { functionId: definition.id, files: [...code.keys()].sort(), calls, unreadable };
}

/** What in `found` the definition's grants do not cover, or the check cannot vouch for. */
export function ungrantedSdkCalls(definition: FunctionDefinition, found: FunctionSdkCalls): SdkCallProblem[] {
  const granted = new Set(grantedActions(definition).flatMap((g) => g.actions));
  const problems: SdkCallProblem[] = [];
  for (const u of found.unreadable) {
    problems.push({
      functionId: definition.id,
      file: u.file,
      line: u.line,
      module: u.module,
      command: u.what,
      missing: [],
      kind: 'unreadable',
      message: `${definition.id}: ${u.file}:${u.line} uses ${u.module}: ${u.what}; the grant check cannot tell which AWS calls that makes`,
    });
  }
  for (const call of found.calls) {
    const where = `${definition.id}: ${call.file}:${call.line} ${call.command} (${call.module})`;
    if (call.actions.length === 0) {
      problems.push({
        ...call,
        functionId: definition.id,
        missing: [],
        kind: 'unmapped',
        message: `${where} is not in test/support/sdk-calls.ts's map: add the IAM actions it needs (and the grant in contract/functions.ts)`,
      });
      continue;
    }
    const missing = call.actions.filter((a) => !granted.has(a));
    if (missing.length > 0) {
      problems.push({
        ...call,
        functionId: definition.id,
        missing,
        kind: 'ungranted',
        message: `${where} needs ${missing.join(', ')}, which contract/functions.ts does not grant to ${definition.id}`,
      });
    }
  }
  return problems;
}
