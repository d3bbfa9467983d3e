/**
 * Setup file: the functions write their CloudWatch EMF metric lines straight to stdout, as Lambda reads
 * them, which vitest does not capture per test, so every passing run printed them. Routed through
 * console.log they show only among a failing test's logs (`silent: 'passed-only'`). Spies on
 * process.stdout.write installed by a test wrap this one and still see every line first.
 */
const INSTALLED = Symbol.for('animelog.test.quietMetrics');
const state = globalThis as { [INSTALLED]?: true };

if (!state[INSTALLED]) {
  state[INSTALLED] = true;
  const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
  let routing = false;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (!routing && typeof chunk === 'string' && chunk.startsWith('{"_aws":')) {
      routing = true;
      try {
        console.log(chunk.trimEnd());
      } finally {
        routing = false;
      }
      return true;
    }
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
}
