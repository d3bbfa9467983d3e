import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';

/** Endpoint of the run's shared DynamoDB Local (started in test/global-setup.ts). */
export function dynamodbEndpoint(): string {
  return inject('dynamodbEndpoint');
}

/** A table-name prefix unique to the calling test file, so files never see each other's data. */
export function uniquePrefix(label: string): string {
  return `t${randomBytes(3).toString('hex')}-${label}`;
}
