/**
 * How every Lambda is bundled: one definition used by the NodejsFunction constructs (infra/stack.ts)
 * and by bench/lambda.ts, so the benchmark measures exactly what is deployed.
 *
 * - ESM: lets handlers use top-level await for init-time work (secret, key), and the repo is ESM.
 *   The banner gives bundled CommonJS dependencies (parts of AWS SDK v3) a working `require` for Node
 *   built-ins; without it esbuild's ESM output throws "Dynamic require of … is not supported".
 * - The AWS SDK v3 is bundled, not taken from the runtime: the runtime's SDK version changes under us
 *   and differs from what tests ran against; bundling pins it. Minified + tree-shaken (ESM entry
 *   points via mainFields) it stays well under the size and init targets (see bench/lambda.ts).
 * - No source maps: they double the bundle and slow the cold start; errors are logged by name/message.
 */
export const LAMBDA_NODE_TARGET = 'node22';

export const LAMBDA_ESM_BANNER =
  "import { createRequire as __animelogCreateRequire } from 'node:module';const require = __animelogCreateRequire(import.meta.url);";

export const LAMBDA_BUNDLING = {
  format: 'esm' as const,
  target: LAMBDA_NODE_TARGET,
  platform: 'node' as const,
  minify: true,
  sourcemap: false,
  /** Prefer the ESM builds of dependencies (smaller after tree-shaking). */
  mainFields: ['module', 'main'],
  /** Nothing external: the AWS SDK v3 is bundled (see above). */
  externalModules: [] as string[],
  banner: LAMBDA_ESM_BANNER,
};
