/**
 * CDK entry point (cdk.json: `npx tsx infra/app.ts`). The stage comes from `-c stage=dev|staging|prod`
 * (default dev); everything else is derived in infra/stack.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from './stack';

const { app } = createApp();
const assembly = app.synth();

downgradeManifestForOlderCli(assembly.directory);

/**
 * Compatibility with the installed CLI. The repo pins aws-cdk (CLI) 3.0.0, which reads cloud-assembly
 * schema 43, while aws-cdk-lib 2.276 writes schema 55 (it wants CLI ≥ its `minimumCliVersion`). The
 * stack template is the same in both; only the top-level manifest differs. When the CLI announces an
 * older schema (CDK_CLI_ASM_VERSION), rewrite manifest.json to it and drop artifact types it does not
 * know (the feature-flag report) so that `cdk synth` and `cdk ls` work. The asset manifest is left at
 * the library's version on purpose: an old CLI then refuses to *deploy* (fails safe) — deploy with an
 * up-to-date CLI (docs/deploy.md).
 */
function downgradeManifestForOlderCli(directory: string): void {
  const cliSchema = process.env.CDK_CLI_ASM_VERSION;
  if (!cliSchema) return;
  const path = join(directory, 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as {
    version: string;
    minimumCliVersion?: string;
    artifacts?: Record<string, { type: string }>;
  };
  const major = (v: string) => Number(v.split('.')[0]);
  if (major(cliSchema) >= major(manifest.version)) return;
  const knownToOldCli = new Set(['aws:cloudformation:stack', 'cdk:asset-manifest', 'cdk:tree', 'cdk:cloud-assembly']);
  const dropped = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => !knownToOldCli.has(a.type));
  for (const [id] of dropped) delete manifest.artifacts![id];
  process.stderr.write(
    `infra/app.ts: the CDK CLI (${process.env.CDK_CLI_VERSION ?? '?'}, schema ${cliSchema}) is older than aws-cdk-lib's cloud assembly ` +
      `(schema ${manifest.version}, needs CLI ${manifest.minimumCliVersion ?? 'newer'}); manifest.json rewritten for it` +
      `${dropped.length ? ` (dropped ${dropped.map(([id]) => id).join(', ')})` : ''}. Templates are unaffected; deploy with an up-to-date CLI.\n`,
  );
  manifest.version = cliSchema;
  delete manifest.minimumCliVersion;
  writeFileSync(path, JSON.stringify(manifest, null, 2));
}
