/**
 * What loading a resolver bundle into node:vm costs before it runs: the APPSYNC_JS check (eslint with
 * @aws-appsync/eslint-plugin, whose import alone takes seconds) and the ESM → CommonJS transform
 * (esbuild). Both depend only on the bundle's bytes and on the checker, so their outcome is kept by content
 * hash in dist/.build-cache/resolver-load/: a start whose bundles did not change loads neither eslint nor
 * esbuild. A bundle the check rejects is never cached, so it is rejected again on every load.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as BundleCheck from './bundle-check';
import type * as Esbuild from 'esbuild';

const ROOT = join(import.meta.dirname, '..', '..');
export const RESOLVER_LOAD_CACHE_DIR = join(ROOT, 'dist', '.build-cache', 'resolver-load');
const TRANSFORM_OPTIONS = { format: 'cjs', loader: 'js', target: 'es2022', sourcemap: false } as const;

// Loaded only on a cache miss (synchronously: the resolver set is built synchronously).
const require = createRequire(import.meta.url);
let checker: typeof BundleCheck | undefined;
let esbuild: typeof Esbuild | undefined;

let identity: string | undefined;
/** Whatever decides the outcome besides the bundle: the check's rules, the transform, the dependencies' versions. */
function checkerIdentity(): string {
  if (identity === undefined) {
    const hash = createHash('sha256').update(JSON.stringify(TRANSFORM_OPTIONS));
    for (const file of ['local/appsync/bundle-check.ts', 'local/appsync/eslint-appsync-extra.mjs', 'local/appsync/resolver-load-cache.ts', 'package-lock.json']) {
      const path = join(ROOT, file);
      hash.update(file).update('\0').update(existsSync(path) ? readFileSync(path) : '').update('\0');
    }
    identity = hash.digest('hex');
  }
  return identity;
}

export class ResolverTransformError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ResolverTransformError';
  }
}

/**
 * The bundle as CommonJS for node:vm, after the APPSYNC_JS check (throws AppSyncCodeRejectedError when it
 * fails, ResolverTransformError when esbuild cannot parse it).
 */
export function checkedCommonJs(file: string, code: string): string {
  const key = createHash('sha256').update(checkerIdentity()).update('\0').update(code).digest('hex');
  const cached = join(RESOLVER_LOAD_CACHE_DIR, `${key}.cjs`);
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    // not checked yet
  }
  checker ??= require('./bundle-check.ts') as typeof BundleCheck;
  checker.checkAppSyncBundle(file, code);
  esbuild ??= require('esbuild') as typeof Esbuild;
  let cjs: string;
  try {
    cjs = esbuild.transformSync(code, TRANSFORM_OPTIONS).code;
  } catch (error) {
    throw new ResolverTransformError(`${file} is not valid JavaScript`, { cause: error });
  }
  // Written aside and renamed: parallel test files load the same bundles.
  const tmp = `${cached}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(RESOLVER_LOAD_CACHE_DIR, { recursive: true });
    writeFileSync(tmp, cjs);
    renameSync(tmp, cached);
  } catch {
    // A read-only tree only loses the cache.
    rmSync(tmp, { force: true });
  }
  return cjs;
}
