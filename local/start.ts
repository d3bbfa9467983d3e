/**
 * `npm start`: the whole local stack in the foreground. Prints the endpoints and the local API key;
 * Ctrl-C stops everything it started.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { startLocalStack as StartLocalStack } from './stack';
import { ensureBuilt } from './build-cache';
import { freePort, startDynamoDBLocal } from './dynamodb-local';

// ANIMELOG_START_TIMING=1 prints when each phase ended, in ms since this process began (bench/start.ts).
const timing = process.env.ANIMELOG_START_TIMING === '1';
const mark = (phase: string) => {
  if (timing) console.error(`[start] ${phase} at ${Math.round(performance.now())} ms`);
};
if (timing) console.error(`[start] process-began ${Math.round(performance.timeOrigin)}`);
mark('modules');

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    'dynamodb-endpoint': { type: 'string' },
    https: { type: 'boolean' },
    'tls-dir': { type: 'string' },
    'mal-catalog': { type: 'string' },
    help: { type: 'boolean' },
  },
});

if (values.help) {
  console.log(`npm start -- [--port N] [--data-dir DIR] [--dynamodb-endpoint URL] [--https [--tls-dir DIR]] [--mal-catalog FILE]
  --port N                 HTTP port (default $PORT or 4000)
  --data-dir DIR           keep DynamoDB Local's data in DIR (default: in memory)
  --dynamodb-endpoint URL  use this DynamoDB instead of starting DynamoDB Local
  --https                  serve https:// and wss:// on a self-signed certificate (docs/local-https.md)
  --tls-dir DIR            where the certificate is kept (default ~/.animelog/local-https)
  --mal-catalog FILE       the MAL sandbox's catalog (.jsonl or .jsonl.gz), e.g. ../shared/data/mal-catalog.jsonl.gz
                           for development (default: a 50-entry fixture, so most shows do not match)`);
  process.exit(0);
}

const port = Number(values.port ?? process.env.PORT ?? 4000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`npm start: the port must be a whole number from 0 to 65535, got ${JSON.stringify(values.port ?? process.env.PORT)}`);
  process.exit(2);
}

// The full catalog is development data, never shipped: it is only ever read from where the developer points.
const malCatalog = values['mal-catalog'] === undefined ? undefined : resolve(values['mal-catalog']);
if (malCatalog !== undefined && !existsSync(malCatalog)) {
  console.error(`npm start: --mal-catalog: no such file ${malCatalog}`);
  process.exit(2);
}

// DynamoDB Local (a JVM, the longest step) starts first, and answers while the build check runs and the
// stack's modules load; a failing build stops it again.
const dynamodbPort = values['dynamodb-endpoint'] ? undefined : await freePort();
const dynamodbLocal = dynamodbPort === undefined ? undefined : startDynamoDBLocal({ port: dynamodbPort, dataDir: values['data-dir'] });
dynamodbLocal?.then(
  () => mark('dynamodb-local'),
  () => {}, // reported where the stack awaits it
);
mark('dynamodb-spawned');

// Codegen and the bundles are rebuilt only when their inputs changed (content hash): a second start is quick.
try {
  ensureBuilt({ root: resolve(import.meta.dirname, '..'), log: (line) => console.log(line) });
} catch (error) {
  console.error(`npm start: ${(error as Error).message}`);
  await dynamodbLocal?.then((d) => d.stop()).catch(() => {});
  process.exit(1);
}
mark('build-check');

let stack: Awaited<ReturnType<typeof StartLocalStack>>;
let ownDynamoDB: Awaited<NonNullable<typeof dynamodbLocal>> | undefined;
try {
  const { startLocalStack } = await import('./stack');
  mark('stack-imported');
  stack = await startLocalStack({
    port,
    dataDir: values['data-dir'],
    // Awaited by the stack only where it creates the tables: the rest of it starts while the JVM does.
    dynamodbEndpoint: values['dynamodb-endpoint'] ?? `http://127.0.0.1:${dynamodbPort}`,
    dynamodbReady: dynamodbLocal,
    https: values.https ? { dir: values['tls-dir'] } : false,
    ...(malCatalog ? { malSandbox: { catalog: malCatalog } } : {}),
  });
  ownDynamoDB = await dynamodbLocal;
} catch (error) {
  await dynamodbLocal?.then((d) => d.stop()).catch(() => {});
  const e = error as NodeJS.ErrnoException;
  const reason = e.code === 'EADDRINUSE' ? `port ${port} is in use (choose another with --port or PORT)` : e.message;
  console.error(`npm start: the local stack did not start: ${reason}`);
  process.exit(1);
}

function malCatalogLine(sandbox: NonNullable<typeof stack.malSandbox>): string {
  const entries = `${sandbox.catalog.size.toLocaleString('en-US')} entries`;
  return malCatalog
    ? `MAL catalog: ${sandbox.catalogSource} (${entries})`
    : `MAL catalog: the test fixture (${entries}); for every show: --mal-catalog ../shared/data/mal-catalog.jsonl.gz`;
}

mark('stack-started');
if (timing) {
  // What a start with nothing changed must not load before it answers: the bundle check's linter and
  // parsers, the compiler, and the functions' modules with their AWS SDK clients (loaded after it, see
  // stack.ts; the stack creates its tables over its own DynamoDB client).
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  const heavy = [
    'eslint',
    '@aws-appsync/eslint-plugin',
    '@typescript-eslint',
    'typescript',
    '@graphql-codegen',
    '@aws-sdk/client-kms',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-sqs',
    '@aws-sdk/client-secrets-manager',
  ].filter((name) =>
    loaded.some((path) => path.includes(`/node_modules/${name}/`)),
  );
  console.error(`[start] heavy modules loaded: ${heavy.length > 0 ? heavy.join(', ') : 'none'}`);
}
console.log(`AnimeLog local stack
GraphQL:   ${stack.graphqlUrl}
Real-time: ${stack.realtimeUrl}
Console:   ${stack.url}/
DynamoDB:  ${stack.dynamodbEndpoint}
MAL:       ${stack.malSandbox ? `${stack.malSandbox.url} (sandbox; sign in as any MAL user name: 2–16 letters, digits, _ or -)\n${malCatalogLine(stack.malSandbox)}` : 'myanimelist.net (MAL_CLIENT_ID configured)'}
API key: ${stack.apiKey}${
  stack.tls ? `\nTLS:       self-signed certificate ${stack.tls.certPath}\n           SHA-256 ${stack.tls.fingerprint} (trust it: docs/local-https.md)` : ''
}
Ctrl-C stops it.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    stack
      .stop()
      .then(() => ownDynamoDB?.stop())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  });
}
