/**
 * Starts the local stack for an integration test file on a free port, sharing the run's DynamoDB Local
 * under a table stage of its own, and speaks GraphQL to it over real HTTP.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack';
import { afterAll, beforeAll } from 'vitest';
import { dynamodbEndpoint } from './dynamo';
import { createSession } from '../../functions/auth/sessions';
import { documents } from '../../functions/shared/dynamo';
import { tableName } from '../../functions/shared/config';

/** The MAL client paced for the local sandbox: 50 requests/s instead of MAL's ~1/s. */
export const FAST_MAL_CLIENT = { MAL_RATE_LIMIT_PER_SECOND: '50', MAL_RATE_LIMIT_BURST: '50' } as const;

/**
 * MAL calls retried after 50 ms, doubling, instead of 1 s: for files whose sandbox fails calls on purpose
 * (with its rate limit off; against a throttling sandbox such quick retries would end in a 403 storm).
 */
export const QUICK_MAL_RETRIES = { MAL_RETRY_BASE_DELAY_MS: '50' } as const;

export async function startTestStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({
    port: 0,
    stage: `t${randomBytes(4).toString('hex')}`,
    dynamodbEndpoint: dynamodbEndpoint(),
    ...options,
  });
}

export interface TestStackOptions extends LocalStackOptions {
  /** Serve HTTPS/WSS with a certificate made in a temporary folder of the file's own, removed after the stop. */
  temporaryHttps?: boolean;
}

/**
 * The file's local stack, started before its tests and stopped after them (registers both hooks; called
 * inside a describe, for that block). The value stands for the running stack: reading it before
 * `beforeAll` has run is an error. After the stop, process.env is as it was before the start (the stack
 * writes its endpoints and `env` there for the in-process functions, which later files must not inherit).
 */
export function useTestStack(options: TestStackOptions | (() => TestStackOptions | Promise<TestStackOptions>) = {}): LocalStack {
  let running: LocalStack | undefined;
  let envBefore: NodeJS.ProcessEnv | undefined;
  let httpsDir: string | undefined;
  beforeAll(async () => {
    envBefore = { ...process.env };
    const { temporaryHttps, ...stackOptions } = typeof options === 'function' ? await options() : options;
    if (temporaryHttps) {
      httpsDir = mkdtempSync(join(tmpdir(), 'animelog-https-'));
      stackOptions.https = { dir: httpsDir };
    }
    running = await startTestStack(stackOptions);
  });
  afterAll(async () => {
    try {
      await running?.stop();
    } finally {
      running = undefined;
      if (httpsDir) rmSync(httpsDir, { recursive: true, force: true });
      if (envBefore) restoreEnv(envBefore);
    }
  });
  return new Proxy({} as LocalStack, {
    get(_target, property) {
      if (!running) throw new Error(`the test stack is not running (read of ${String(property)} outside the file's tests)`);
      return Reflect.get(running, property, running);
    },
  });
}

function restoreEnv(before: NodeJS.ProcessEnv): void {
  for (const name of Object.keys(process.env)) if (!(name in before)) delete process.env[name];
  Object.assign(process.env, before);
}

export interface GraphQLResult<T = Record<string, any>> {
  status: number;
  data: T | null;
  errors?: { message: string; errorType?: string; errorInfo?: any; data?: any; path?: (string | number)[] }[];
}

export async function gql<T = Record<string, any>>(
  stack: LocalStack,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = { 'x-api-key': stack.apiKey },
): Promise<GraphQLResult<T>> {
  const response = await fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T | null; errors?: GraphQLResult['errors'] };
  return { status: response.status, data: body.data ?? null, errors: body.errors };
}

/** A signed-in user without going through MAL: a profile item and a session token. */
export async function createTestUser(stack: LocalStack, name = `user${randomBytes(3).toString('hex')}`) {
  void stack;
  const userId = `u-${randomBytes(8).toString('hex')}`;
  await documents().send(
    new PutCommand({
      TableName: tableName('users'),
      Item: { userId, sk: 'PROFILE', malUserId: Math.floor(Math.random() * 1e9), malUserName: name, createdAt: new Date().toISOString() },
    }),
  );
  const session = await createSession(userId);
  return { userId, token: session.token, headers: { authorization: session.token } };
}
