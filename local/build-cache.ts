/**
 * The build steps `npm start` (and `npm test`) need — codegen, the resolver bundles, the console page —
 * each run only when a content hash of its inputs differs from the one recorded after its last run, or
 * when an output is missing. `npm run build` still runs everything.
 *
 *   tsx local/build-cache.ts            run the steps whose inputs changed
 *   tsx local/build-cache.ts --force    run them all
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface BuildStep {
  name: string;
  /** The command, run in the root (normally an npm script, so the commands live in package.json once). */
  command: string[];
  /** Files and folders (recursively) whose content decides the output, relative to the root. */
  inputs: string[];
  /** What the step writes; a missing one forces the step. */
  outputs: string[];
}

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Inputs include package-lock.json: a dependency update (esbuild, codegen plugins, GraphiQL) rebuilds. */
export const BUILD_STEPS: BuildStep[] = [
  {
    name: 'codegen',
    command: [NPM, 'run', '--silent', 'codegen'],
    inputs: ['codegen.yml', 'schema.graphql', 'local/appsync/prelude.graphql', 'client/operations', 'package-lock.json'],
    outputs: ['generated/graphql.ts', 'client/generated/operations.ts'],
  },
  {
    name: 'resolvers',
    command: [NPM, 'run', '--silent', 'build:resolvers'],
    inputs: ['resolvers', 'contract', 'generated/graphql.ts', 'scripts/build-resolvers.ts', 'local/appsync/bundle-check.ts', 'tsconfig.json', 'package-lock.json'],
    outputs: ['dist/resolvers/manifest.json'],
  },
  {
    name: 'console',
    command: [NPM, 'run', '--silent', 'build:console'],
    inputs: ['local/console', 'package-lock.json'],
    outputs: ['dist/console/BUILT', 'dist/console/app.js'],
  },
];

const SKIPPED_DIRS = new Set(['node_modules', '.git']);

function filesUnder(root: string, input: string, into: string[]) {
  const path = join(root, input);
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) if (!SKIPPED_DIRS.has(entry)) filesUnder(root, join(input, entry), into);
  } else into.push(input);
}

/** SHA-256 over the step's command and every input file's path and content, in a fixed order. */
export function inputHash(root: string, step: BuildStep): string {
  const hash = createHash('sha256').update(JSON.stringify(step.command)).update('\0');
  const files: string[] = [];
  for (const input of step.inputs) filesUnder(root, input, files);
  for (const file of files) hash.update(file.split('\\').join('/')).update('\0').update(readFileSync(join(root, file))).update('\0');
  return hash.digest('hex');
}

const stampPath = (root: string, step: BuildStep) => join(root, 'dist', '.build-cache', `${step.name}.sha256`);

export interface StepOutcome {
  name: string;
  ran: boolean;
  reason: 'inputs changed' | 'output missing' | 'forced' | 'up to date';
  ms: number;
}

export interface EnsureBuiltOptions {
  root: string;
  steps?: BuildStep[];
  force?: boolean;
  log?: (line: string) => void;
}

/** Runs, in order, the steps whose inputs changed since their last successful run; throws when one fails. */
export function ensureBuilt(options: EnsureBuiltOptions): StepOutcome[] {
  const { root, steps = BUILD_STEPS, force = false, log = () => {} } = options;
  const outcomes: StepOutcome[] = [];
  for (const step of steps) {
    const started = performance.now();
    // Hashed when the step's turn comes: an earlier step's outputs may be this one's inputs.
    const before = inputHash(root, step);
    const stamp = stampPath(root, step);
    const recorded = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
    const missing = step.outputs.some((output) => !existsSync(join(root, output)));
    const reason: StepOutcome['reason'] = force ? 'forced' : missing ? 'output missing' : recorded !== before ? 'inputs changed' : 'up to date';
    if (reason === 'up to date') {
      outcomes.push({ name: step.name, ran: false, reason, ms: Math.round(performance.now() - started) });
      continue;
    }
    log(`build: ${step.name} (${reason})`);
    const [command, ...args] = step.command;
    const run = spawnSync(command!, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
    if (run.status !== 0) throw new Error(`build step ${step.name} failed (${run.error?.message ?? `exit ${run.status}`})`);
    mkdirSync(join(root, 'dist', '.build-cache'), { recursive: true });
    // The hash of the inputs as they were when the step started: an edit made meanwhile rebuilds next time.
    writeFileSync(stamp, `${before}\n`);
    outcomes.push({ name: step.name, ran: true, reason, ms: Math.round(performance.now() - started) });
  }
  const skipped = outcomes.filter((o) => !o.ran).map((o) => o.name);
  if (skipped.length > 0) log(`build: ${skipped.join(', ')} up to date (inputs unchanged)`);
  return outcomes;
}

if (resolve(process.argv[1] ?? '') === resolve(import.meta.filename)) {
  try {
    ensureBuilt({ root: resolve(import.meta.dirname, '..'), force: process.argv.includes('--force'), log: (line) => console.log(line) });
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
