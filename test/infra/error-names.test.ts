/**
 * Error names survive the Lambda bundling (minified, class names mangled): every error class in
 * functions/ names itself with a string, so logs and the local data source's error types stay readable.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { LAMBDA_BUNDLING } from '../../infra/constructs/bundling';
import { testTempDir } from '../support/temp';

const ROOT = join(import.meta.dirname, '..', '..');

describe('error names in bundled functions', () => {
  it('keep their class names after minification', async () => {
    const dir = testTempDir('error-names-');
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `export * from ${JSON.stringify(join(ROOT, 'functions/mal/errors.ts'))};
       export * from ${JSON.stringify(join(ROOT, 'functions/shared/errors.ts'))};
       export { HistoryFormatError } from ${JSON.stringify(join(ROOT, 'functions/history/parse.ts'))};
       export { LostJobError, SyncStoreError } from ${JSON.stringify(join(ROOT, 'functions/sync/store.ts'))};`,
    );
    const outfile = join(dir, 'bundle.mjs');
    await build({ entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'node', target: LAMBDA_BUNDLING.target, minify: LAMBDA_BUNDLING.minify, banner: { js: LAMBDA_BUNDLING.banner }, logLevel: 'silent' });
    const m = await import(pathToFileURL(outfile).href);
    const details = { method: 'GET', path: '/v2/anime' };
    expect(new m.MalReloginRequiredError('x', details).name).toBe('MalReloginRequiredError');
    expect(new m.MalNotFoundError('x', details).name).toBe('MalNotFoundError');
    expect(new m.MalBlockedError('x', details, 'block-page').name).toBe('MalBlockedError');
    expect(new m.LostJobError('x').name).toBe('LostJobError');
    expect(new m.HistoryFormatError('$.data', 'a list').name).toBe('HistoryFormatError');
    expect(new m.ValidationError('x').name).toBe('ValidationError');
    const cause = new Error('root');
    expect(new m.SyncStoreError('x', { cause }).cause).toBe(cause);
  }, 60_000);
});
