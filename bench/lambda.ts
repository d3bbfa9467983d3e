/**
 * Lambda bundle benchmark: bundles every function in contract/functions.ts exactly as CDK deploys it
 * (infra/constructs/bundling.ts: esbuild, ESM, node22, minified, AWS SDK v3 bundled) and reports
 *   bytes   the minified bundle's size (targets: ≤ 1 MB)
 *   initMs  cold init: wall time to import the bundle in a fresh `node` process, median of --runs (≤ 150 ms)
 *   cpuMs   the CPU time (user + system) of that import, median: robust when the machine is busy, where
 *           wall time is inflated by waiting for a core (the load average is shown on stderr)
 * Also shows (stderr) the size with the AWS SDK left external, the alternative that was not chosen.
 *
 *   npm run bench:lambda [-- --runs 7]
 *
 * The last stdout line is one JSON object {"<function>": {"bytes", "initMs", "cpuMs"}, …}. Exit code 1
 * when a function misses a target; the init target is judged on wall time, or on CPU time when the
 * machine was oversubscribed at the start (load average above the core count), where wall time
 * measures the queue for a core rather than the bundle.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir, availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { LAMBDA_BUNDLING } from '../infra/constructs/bundling';
import { FUNCTIONS } from '#contract/functions';

const MAX_BYTES = 1024 * 1024;
const MAX_INIT_MS = 150;

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Math.max(1, Number(args.runs) || 7);
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
    alias: LAMBDA_BUNDLING.alias,
    // The aliases' paths are relative to the repository root, as in CDK's bundling.
    absWorkingDir: repoRoot,
    external,
    logLevel: 'silent',
  });
  return statSync(outfile).size;
}

/** Module load time measured inside a fresh node process (process start-up itself excluded). */
function initOnce(file: string): { wallMs: number; cpuMs: number } {
  const script =
    `const c = process.cpuUsage(); const t = performance.now(); const m = await import(${JSON.stringify(pathToFileURL(file).href)}); ` +
    'const w = performance.now() - t; const u = process.cpuUsage(c); ' +
    // The deployed handler setting is index.handler: a bundle without that export would not run.
    "if (typeof m.handler !== 'function') { console.error('no exported handler function'); process.exit(2); } " +
    'process.stdout.write(JSON.stringify({ wallMs: w, cpuMs: (u.user + u.system) / 1000 }));';
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    // The Lambda environment's shape, without credentials: init must not need AWS.
    env: { PATH: process.env.PATH, STAGE: 'bench', AWS_REGION: 'us-east-1', NODE_ENV: 'production' },
    timeout: 30_000,
  });
  if (child.status !== 0) throw new Error(`importing ${file} failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as { wallMs: number; cpuMs: number };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results: Record<string, { bytes: number; initMs: number; cpuMs: number }> = {};
const round = (x: number) => Math.round(x * 10) / 10;
const busy = loadavg()[0] > availableParallelism();
console.error(`load average ${loadavg()[0].toFixed(2)} on ${availableParallelism()} cores (wall times inflate when it exceeds the cores)`);
let missed = false;
try {
  for (const fn of FUNCTIONS) {
    const entry = resolve(repoRoot, fn.entry);
    const outfile = join(work, fn.id, 'index.mjs');
    const bytes = await bundle(entry, outfile, LAMBDA_BUNDLING.externalModules);
    const sdkExternal = await bundle(entry, join(work, `${fn.id}-sdk-external`, 'index.mjs'), ['@aws-sdk/*', '@smithy/*']);
    const samples = Array.from({ length: runs }, () => initOnce(outfile));
    const init = round(median(samples.map((x) => x.wallMs)));
    const cpu = round(median(samples.map((x) => x.cpuMs)));
    results[fn.id] = { bytes, initMs: init, cpuMs: cpu };
    const over = bytes > MAX_BYTES || (busy ? cpu : init) > MAX_INIT_MS;
    missed ||= over;
    console.log(
      `${fn.id.padEnd(14)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB  init ${init.toFixed(1).padStart(6)} ms (cpu ${cpu.toFixed(1)} ms; median of ${runs})` +
        `${over ? '  OVER TARGET' : ''}`,
    );
    console.error(`${''.padEnd(14)} (with the AWS SDK external: ${(sdkExternal / 1024).toFixed(1)} KiB)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify(results));
if (missed) process.exitCode = 1;
