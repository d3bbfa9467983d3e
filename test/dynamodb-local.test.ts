import { describe, expect, it, onTestFinished } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { dynamodbEndpoint, uniquePrefix } from './support/dynamo';
import { DynamoDBJsonClient } from '../local/appsync/dynamodb-json-client';
import { createTables } from '../local/tables';
import { TABLES } from '#contract/tables';
import { expectLoopbackOnly } from './support/listening';
import { testTempDir } from './support/temp';

const ROOT = resolve(import.meta.dirname, '..');

async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

describe('DynamoDB Local', () => {
  it('answers the AWS SDK on the shared endpoint', async () => {
    const client = new DynamoDBClient({
      endpoint: dynamodbEndpoint(),
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const out = await client.send(new ListTablesCommand({}));
    expect(Array.isArray(out.TableNames)).toBe(true);
  });

  it('gets the tables created, and created again without error when they exist (a kept --data-dir)', async () => {
    const client = new DynamoDBJsonClient(dynamodbEndpoint());
    onTestFinished(() => client.destroy());
    const stage = uniquePrefix('tables');
    const names = await createTables(client, stage);
    expect(names).toHaveLength(TABLES.length);
    expect(await createTables(client, stage)).toEqual(names);
    const described = await client.call<{ Table: { TableStatus: string } }>('DescribeTable', { TableName: names[0] });
    expect(described.Table.TableStatus).toBe('ACTIVE');
  });

  // Its own command line has no host option: local/dynamodb-local-loopback.ts sets one.
  it.runIf(process.platform === 'linux')('listens on 127.0.0.1 only', () => {
    expectLoopbackOnly(Number(new URL(dynamodbEndpoint()).port));
  });

  it('stops when the process that started it is killed', async () => {
    // A process that starts DynamoDB Local and is then killed with SIGKILL: it cannot stop the JVM itself.
    const script = join(testTempDir('ddb-parent-'), 'parent.mts');
    writeFileSync(
      script,
      `import { startDynamoDBLocal } from ${JSON.stringify(resolve(ROOT, 'local/dynamodb-local.ts'))};\n` +
        `const local = await startDynamoDBLocal();\nconsole.log('ENDPOINT ' + local.endpoint);\nsetInterval(() => {}, 1000);\n`,
    );
    const parent = spawn(resolve(ROOT, 'node_modules/.bin/node'), ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    onTestFinished(() => {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    });
    const endpoint = await new Promise<string>((ok, fail) => {
      let output = '';
      parent.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const found = /ENDPOINT (\S+)/.exec(output);
        if (found) ok(found[1]!);
      });
      parent.once('exit', (code) => fail(new Error(`the parent exited with ${code}: ${output}`)));
    });
    expect(await answers(endpoint)).toBe(true);

    parent.kill('SIGKILL');
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await answers(endpoint))) await new Promise((r) => setTimeout(r, 100));
    expect(await answers(endpoint)).toBe(false);
  }, 40_000);
});
