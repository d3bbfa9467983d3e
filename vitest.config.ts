import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration files start servers; keep parallelism modest.
    maxWorkers: 2,
    // A passing run prints no logs: the errors and retries that tests provoke on purpose show only when
    // a test fails. Powertools' logger goes through `console` in dev mode, so this covers it too.
    silent: 'passed-only',
    env: { POWERTOOLS_DEV: 'true' },
  },
});
