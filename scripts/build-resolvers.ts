/**
 * The one resolver build: each resolver and pipeline function in resolvers/ becomes an ESM bundle in
 * dist/resolvers/ (esbuild, `@aws-appsync/utils*` external, as AWS documents), plus manifest.json that
 * says which type/field each serves and its data source. CDK deploys these bundles and the local
 * runtime executes them, so both worlds run the same code and the same wiring.
 *
 * Layout of resolvers/:
 *   Type.field.ts            a unit resolver; header tag `@dataSource Name`
 *   Type.field/index.ts      a pipeline resolver (before/after); header tag `@pipeline fnA, fnB`
 *   functions/name.ts        a pipeline function; header tag `@dataSource Name`
 *   lib/                     helpers bundled into whatever imports them
 *
 * Every root Query/Mutation unit resolver is deployed as a pipeline [countRequest, the resolver]: the
 * per-user request counter runs before each root field (its own bundle serving as the pipeline's
 * function), with lib/counted-pipeline.ts as the pipeline's before/after code.
 */
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkAppSyncBundle } from '../local/appsync/bundle-check';
import { findDataSource } from '#contract/datasources';
import type { FunctionManifestEntry, ResolverManifest, ResolverManifestEntry } from '#contract/manifest';

export type { ResolverManifest, ResolverManifestEntry, FunctionManifestEntry };

export class ResolverBuildError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ResolverBuildError';
  }
}

const FIELD_FILE = /^([A-Z][A-Za-z0-9]*)\.([A-Za-z_][A-Za-z0-9_]*)\.ts$/;
const FIELD_DIR = /^([A-Z][A-Za-z0-9]*)\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** The request counter and the root types whose fields it guards. */
export const REQUEST_COUNTER = 'countRequest';
const COUNTED_TYPES = new Set(['Query', 'Mutation']);
const COUNTED_PIPELINE_CODE = 'pipelines/counted.js';

function tag(source: string, name: string, file: string): string {
  const match = new RegExp(`@${name}\\s+([^\\n*]+)`).exec(source);
  if (!match) throw new ResolverBuildError(`${file} has no @${name} tag in its header comment`);
  return match[1].trim();
}

function requireDataSource(name: string, file: string): void {
  if (!findDataSource(name)) throw new ResolverBuildError(`${file} names data source ${name}, which contract/datasources.ts does not define`);
}

async function bundle(entry: string, outfile: string): Promise<void> {
  try {
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'esnext',
      sourcemap: 'inline',
      sourcesContent: false,
      minify: false,
      external: ['@aws-appsync/utils', '@aws-appsync/utils/*'],
      logLevel: 'silent',
    });
  } catch (error) {
    throw new ResolverBuildError(`esbuild failed for ${entry}: ${(error as Error).message}`, { cause: error });
  }
  checkAppSyncBundle(outfile, readFileSync(outfile, 'utf8'));
}

export async function buildResolvers(sourceDir: string, outDir: string): Promise<ResolverManifest> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'functions'), { recursive: true });
  const manifest: ResolverManifest = { resolvers: [], functions: [] };

  const functionsDir = join(sourceDir, 'functions');
  if (existsSync(functionsDir)) {
    for (const file of readdirSync(functionsDir).filter((f) => f.endsWith('.ts')).sort()) {
      const path = join(functionsDir, file);
      const name = file.replace(/\.ts$/, '');
      const dataSource = tag(readFileSync(path, 'utf8'), 'dataSource', path);
      requireDataSource(dataSource, path);
      const code = `functions/${name}.js`;
      await bundle(path, join(outDir, code));
      manifest.functions.push({ name, dataSource, code });
    }
  }

  for (const entry of readdirSync(sourceDir).sort()) {
    const path = join(sourceDir, entry);
    const fileMatch = FIELD_FILE.exec(entry);
    const dirMatch = FIELD_DIR.exec(entry);
    if (fileMatch && statSync(path).isFile()) {
      const dataSource = tag(readFileSync(path, 'utf8'), 'dataSource', path);
      requireDataSource(dataSource, path);
      const code = `${fileMatch[1]}.${fileMatch[2]}.js`;
      await bundle(path, join(outDir, code));
      if (COUNTED_TYPES.has(fileMatch[1]) && manifest.functions.some((f) => f.name === REQUEST_COUNTER)) {
        const name = `${fileMatch[1]}.${fileMatch[2]}`;
        if (!existsSync(join(outDir, COUNTED_PIPELINE_CODE))) await bundle(join(sourceDir, 'lib', 'counted-pipeline.ts'), join(outDir, COUNTED_PIPELINE_CODE));
        manifest.functions.push({ name, dataSource, code });
        manifest.resolvers.push({ typeName: fileMatch[1], fieldName: fileMatch[2], kind: 'pipeline', functions: [REQUEST_COUNTER, name], code: COUNTED_PIPELINE_CODE });
      } else {
        manifest.resolvers.push({ typeName: fileMatch[1], fieldName: fileMatch[2], kind: 'unit', dataSource, code });
      }
    } else if (dirMatch && statSync(path).isDirectory()) {
      const index = join(path, 'index.ts');
      const functions = tag(readFileSync(index, 'utf8'), 'pipeline', index)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const fn of functions) {
        if (!manifest.functions.some((f) => f.name === fn)) {
          throw new ResolverBuildError(`${index} names pipeline function ${fn}, but resolvers/functions/${fn}.ts does not exist`);
        }
      }
      const code = `${dirMatch[1]}.${dirMatch[2]}.js`;
      await bundle(index, join(outDir, code));
      manifest.resolvers.push({ typeName: dirMatch[1], fieldName: dirMatch[2], kind: 'pipeline', functions, code });
    }
  }
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}

export const RESOLVER_SOURCE_DIR = resolve(import.meta.dirname, '..', 'resolvers');
export const RESOLVER_OUT_DIR = resolve(import.meta.dirname, '..', 'dist', 'resolvers');

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const manifest = await buildResolvers(RESOLVER_SOURCE_DIR, RESOLVER_OUT_DIR);
  console.log(`built ${manifest.resolvers.length} resolvers and ${manifest.functions.length} pipeline functions into dist/resolvers`);
}
