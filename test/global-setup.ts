/**
 * One DynamoDB Local for the whole test run (it is a JVM: starting one per file would cost seconds and
 * memory each). Test files isolate themselves with their own table prefix (see test/support/dynamo.ts).
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDBLocal, type DynamoDBLocalHandle } from '../local/dynamodb-local';

let handle: DynamoDBLocalHandle | undefined;

export async function setup(project: TestProject) {
  handle = await startDynamoDBLocal();
  project.provide('dynamodbEndpoint', handle.endpoint);
}

export async function teardown() {
  await handle?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}
