/**
 * The resolver load cache behind a quick second start: a bundle's APPSYNC_JS check and CommonJS transform
 * are kept by content hash, so a process loading unchanged bundles imports neither eslint nor its parsers (esbuild is tsx's own), while
 * a rejected bundle is never cached and is rejected on every load.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadResolverCode, ResolverSet } from '../../local/appsync/executor';
import { RESOLVER_LOAD_CACHE_DIR } from '../../local/appsync/resolver-load-cache';
import { ensureBuilt } from '../../local/build-cache';

const ROOT = resolve(import.meta.dirname, '../..');
const entries = () => {
  try {
    return readdirSync(RESOLVER_LOAD_CACHE_DIR).filter((f) => f.endsWith('.cjs'));
  } catch {
    return [];
  }
};

describe('resolver load cache', () => {
  it('runs a cached bundle the same as a fresh one, and caches it once', () => {
    // Unique bytes, so the first load is a miss whatever earlier runs cached.
    const nonce = randomBytes(8).toString('hex');
    const code = `export function request(ctx) { return { payload: ctx.arguments.n * 2, nonce: '${nonce}' }; }\nexport function response(ctx) { return ctx.result; }\n`;
    const before = entries().length;
    const first = loadResolverCode('double.js', code);
    expect(entries().length).toBe(before + 1);
    const second = loadResolverCode('double.js', code);
    expect(entries().length).toBe(before + 1);
    const ctx = { arguments: { n: 21 } } as never;
    expect(second.request!(ctx)).toEqual(first.request!(ctx));
    expect(second.request!(ctx)).toEqual({ payload: 42, nonce });
  });

  it('rejects a bundle APPSYNC_JS would reject on every load, caching nothing', () => {
    const code = `export function request() { throw new Error('${randomBytes(8).toString('hex')}'); }\n`;
    const before = entries().length;
    // By name: the checker is loaded on demand through Node's require, a module instance of its own under vitest.
    for (let i = 0; i < 2; i++) expect(() => loadResolverCode('throws.js', code)).toThrow(expect.objectContaining({ name: 'AppSyncCodeRejectedError', message: expect.stringContaining('no-throw') }));
    expect(entries().length).toBe(before);
  });

  it('loads the built resolver set without importing eslint or its parsers once it was loaded before', () => {
    ensureBuilt({ root: ROOT });
    const script = `
      const { ResolverSet } = await import('./local/appsync/executor.ts');
      const set = ResolverSet.fromBuild('dist/resolvers', async () => ({ result: null }));
      const { createRequire } = await import('node:module');
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      const heavy = ['/node_modules/eslint/', '/node_modules/@aws-appsync/eslint-plugin/', '/node_modules/typescript/', '/node_modules/@typescript-eslint/'].filter((m) => loaded.some((k) => k.includes(m)));
      console.log(JSON.stringify({ settings: set.has('Query', 'settings'), heavy }));`;
    const run = () => {
      const child = spawnSync(resolve(ROOT, 'node_modules/.bin/node'), ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(child.status, child.stderr).toBe(0);
      return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { settings: boolean; heavy: string[] };
    };
    // This process loaded the set too (and filled the cache) the first time round if it was cold.
    ResolverSet.fromBuild(resolve(ROOT, 'dist/resolvers'), async () => ({ result: null }));
    expect(run()).toEqual({ settings: true, heavy: [] });
  }, 90_000);
});
