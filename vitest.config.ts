import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files in the order the two workers should take them: the slowest first, so that no long file
 * starts last and leaves one worker running alone at the end. The weights are a file's seconds (setup
 * included) in a full run on the loaded 2-core dev machine: only their order matters. Files not listed
 * follow in vitest's own order (its cache of the last local run, else the largest first); a fresh CI
 * checkout has no such cache, hence the list.
 */
const SECONDS: Record<string, number> = {
  'test/infra/synth.test.ts': 138,
  'test/infra/egress.test.ts': 32,
  'test/sync/fairness.test.ts': 31,
  'test/infra/lambda-credentials.test.ts': 31,
  'test/sync/crash.test.ts': 28,
  'test/mal/npm-start-catalog.test.ts': 27,
  'test/realtime/console.browser.test.ts': 25,
  'test/infra/grants.test.ts': 23,
  'test/realtime/load.test.ts': 21,
  'test/sync/match-cache.test.ts': 20,
  'test/runtime/npm-start.test.ts': 19,
  'test/infra/stack.test.ts': 18,
  'test/mal/fair-rate-limiter.test.ts': 11,
  'test/docs/api-examples.test.ts': 10,
  'test/abuse/mal-blocked.test.ts': 9,
  'test/sync/cold-start.test.ts': 9,
  'test/ops/restore-table.test.ts': 8,
  'test/history/intake-e2e.test.ts': 8,
  'test/sync/faults-and-validation.test.ts': 7,
  'test/docs/error-hygiene.test.ts': 6,
  'test/abuse/bad-input.test.ts': 6,
  'test/abuse/mal-anime-flood.test.ts': 6,
  'test/mal/client-throttle.test.ts': 5,
  'test/mal/sandbox.test.ts': 5,
  'test/mal/dynamo-rate-limiter.test.ts': 5,
  'test/abuse/session-cache.test.ts': 5,
  'test/infra/error-names.test.ts': 5,
  'test/auth/sign-in.test.ts': 4,
  'test/sync/rules.test.ts': 4,
};

class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const weight = (spec: TestSpecification) => SECONDS[relative(spec.project.config.root, spec.moduleId).split('\\').join('/')] ?? 0;
    // Stable: listed files by weight, then the rest as vitest ordered them.
    return ordered
      .map((spec, index) => ({ spec, index, weight: weight(spec) }))
      .sort((a, b) => b.weight - a.weight || a.index - b.index)
      .map(({ spec }) => spec);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/support/quiet-metrics.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration files start servers; keep parallelism modest.
    maxWorkers: 2,
    // Files of a worker share its module cache instead of a fresh worker and fresh imports each (measured:
    // 85 s → 58 s for the 24 sync/abuse/auth files). What a file changes it puts back: useTestStack
    // restores process.env, a stack's start resets the MAL client and its stop unregisters what it registered.
    isolate: false,
    // The slowest files first, so that both workers finish together.
    sequence: { sequencer: SlowestFirstSequencer },
    // A passing run prints no logs: the errors and retries that tests provoke on purpose show only when
    // a test fails. Powertools' logger goes through `console` in dev mode, so this covers it too.
    silent: 'passed-only',
    env: { POWERTOOLS_DEV: 'true' },
  },
});
