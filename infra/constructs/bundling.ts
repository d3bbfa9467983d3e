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
 * - The SDK's default credential chain (@aws-sdk/credential-provider-node, which every client imports
 *   whatever credentials it is given) is aliased to functions/shared/lambda-credentials.ts, the
 *   environment provider alone: in Lambda the role's credentials are always in the environment, and the
 *   chain's other links and the STS/SSO clients they bring were about a quarter of each bundle.
 */
export const LAMBDA_NODE_TARGET = 'node22';

export const LAMBDA_ESM_BANNER =
  "import { createRequire as __animelogCreateRequire } from 'node:module';const require = __animelogCreateRequire(import.meta.url);";

/** Package → replacement, the replacement relative to the repository root (esbuild resolves it from its working directory). */
export const LAMBDA_ALIASES: Record<string, string> = {
  '@aws-sdk/credential-provider-node': './functions/shared/lambda-credentials.ts',
};

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
  alias: LAMBDA_ALIASES,
};

/** The aliases as NodejsFunction's esbuildArgs (`--alias:package=path`, run in the repository root). */
export const LAMBDA_ESBUILD_ARGS = { '--alias': Object.entries(LAMBDA_ALIASES).map(([from, to]) => `${from}=${to}`) };
