/**
 * Lambda bundle benchmark: bundles every function in infra/functions.ts exactly as CDK deploys it
 * (infra/constructs/bundling.ts: esbuild, ESM, node22, minified, AWS SDK v3 bundled) and reports
 *   bytes   the minified bundle's size (targets: ≤ 1 MB)
 *   initMs  cold init: time to import the bundle in a fresh `node` process, median of --runs (≤ 150 ms)
 * Also shows (stderr) the size with the AWS SDK left external, the alternative that was not chosen.
 *
 *   npm run bench:lambda [-- --runs 7]
 *
 * The last stdout line is one JSON object {"<function>": {"bytes", "initMs"}, …}. Exit code 1 when a
 * function misses a target.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { LAMBDA_BUNDLING } from '../infra/constructs/bundling';
import { FUNCTIONS } from '../infra/functions';

const MAX_BYTES = 1024 * 1024;
const MAX_INIT_MS = 150;

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Math.max(1, Number(args.runs) || 5);
const repoRoot = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'animelog-bench-lambda-'));

async function bundle(entry: string, outfile: string, external: string[]): Promise<number> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: LAMBDA_BUNDLING.format,
    platform: LAMBDA_BUNDLING.platform,
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourcemap,
    mainFields: LAMBDA_BUNDLING.mainFields,
    banner: { js: LAMBDA_BUNDLING.banner },
    external,
    logLevel: 'silent',
  });
  return statSync(outfile).size;
}

/** Module load time measured inside a fresh node process (process start-up itself excluded). */
function initMs(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    // The Lambda environment's shape, without credentials: init must not need AWS.
    env: { PATH: process.env.PATH, STAGE: 'bench', AWS_REGION: 'us-east-1', NODE_ENV: 'production' },
    timeout: 30_000,
  });
  if (child.status !== 0) throw new Error(`importing ${file} failed: ${child.stderr}`);
  return Number(child.stdout);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results: Record<string, { bytes: number; initMs: number }> = {};
let missed = false;
try {
  for (const fn of FUNCTIONS) {
    const entry = resolve(repoRoot, fn.entry);
    const outfile = join(work, fn.id, 'index.mjs');
    const bytes = await bundle(entry, outfile, LAMBDA_BUNDLING.externalModules);
    const sdkExternal = await bundle(entry, join(work, `${fn.id}-sdk-external`, 'index.mjs'), ['@aws-sdk/*', '@smithy/*']);
    const times = Array.from({ length: runs }, () => initMs(outfile));
    const init = Math.round(median(times) * 10) / 10;
    results[fn.id] = { bytes, initMs: init };
    const over = bytes > MAX_BYTES || init > MAX_INIT_MS;
    missed ||= over;
    console.log(
      `${fn.id.padEnd(14)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB  init ${init.toFixed(1).padStart(6)} ms (median of ${runs})` +
        `${over ? '  OVER TARGET' : ''}`,
    );
    console.error(`${''.padEnd(14)} (with the AWS SDK external: ${(sdkExternal / 1024).toFixed(1)} KiB)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify(results));
if (missed) process.exitCode = 1;
