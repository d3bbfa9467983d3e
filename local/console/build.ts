/**
 * Bundles the console page (GraphiQL + React + Monaco and its workers) into dist/console with esbuild,
 * so the page needs nothing from the internet. `npm run build:console`, or on demand at stack start.
 */
import { build } from 'esbuild';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const CONSOLE_DIST = join(ROOT, 'dist', 'console');
const require = createRequire(join(ROOT, 'package.json'));

export class ConsoleBuildError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConsoleBuildError';
  }
}

const WORKERS = {
  'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
  'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
  'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
};

export async function buildConsole(target = CONSOLE_DIST): Promise<void> {
  // Built aside and moved into place, so a concurrent stack start (parallel test files) never serves a half-built folder.
  const outdir = `${target}.tmp-${randomBytes(4).toString('hex')}`;
  mkdirSync(outdir, { recursive: true });
  const common = {
    bundle: true,
    minify: true,
    sourcemap: false,
    target: 'es2022',
    logLevel: 'error' as const,
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.ttf': 'file' as const, '.woff': 'file' as const, '.woff2': 'file' as const, '.svg': 'dataurl' as const },
  };
  try {
    await build({
      ...common,
      entryPoints: { app: join(import.meta.dirname, 'app.ts') },
      outdir,
      format: 'esm',
      assetNames: '[name]-[hash]',
    });
    // Workers are classic scripts (IIFE) so any browser can start them with `new Worker(url)`.
    await build({
      ...common,
      entryPoints: Object.fromEntries(Object.entries(WORKERS).map(([name, spec]) => [name, require.resolve(spec)])),
      outdir,
      format: 'iife',
    });
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw new ConsoleBuildError('the console page did not build', { cause: error });
  }
  writeFileSync(join(outdir, 'BUILT'), new Date().toISOString());
  rmSync(target, { recursive: true, force: true });
  try {
    renameSync(outdir, target);
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    // Another build finished first: theirs is as good as ours.
    if (!consoleBuilt(target)) throw new ConsoleBuildError(`could not move the console build into ${target}`, { cause: error });
  }
}

export function consoleBuilt(outdir = CONSOLE_DIST): boolean {
  return existsSync(join(outdir, 'BUILT')) && existsSync(join(outdir, 'app.js'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  await buildConsole();
  console.log(`built the console page into ${CONSOLE_DIST} in ${Date.now() - started} ms`);
}
