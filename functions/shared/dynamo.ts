/**
 * Module-level DynamoDB clients (reused across Lambda invocations). `DYNAMODB_ENDPOINT` points them at
 * DynamoDB Local; in AWS it is unset and the SDK uses the regional endpoint and the role's credentials.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

let client: DynamoDBClient | undefined;
let documentClient: DynamoDBDocumentClient | undefined;

export function dynamoClientConfig() {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  return endpoint
    ? { endpoint, region: process.env.AWS_REGION ?? 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
    : {};
}

export function dynamo(): DynamoDBClient {
  client ??= new DynamoDBClient(dynamoClientConfig());
  return client;
}

export function documents(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(dynamo(), { marshallOptions: { removeUndefinedValues: true } });
  return documentClient;
}
