/**
 * The MAL client of this Lambda container (module-level: one rate limiter per container, shared by all
 * its work; in AWS the limiter's bucket lives in the rate-limits table, so concurrent Lambdas share it).
 * Credentials: in AWS from Secrets Manager (MAL_SECRET_ARN → {clientId, clientSecret, redirectUri});
 * locally from MAL_CLIENT_ID / MAL_CLIENT_SECRET / MAL_REDIRECT_URIS, set by the local stack.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MalClient, structuredLogger } from '../mal/client';
import { malClientConfigFromEnv } from '../mal/config';
import { dynamoClientConfig } from './dynamo';
import { ConfigurationError, ENV, env, environment, onEnvironmentReset, provideEnv, tableName } from './config';

let client: Promise<MalClient> | undefined;
const forgetClient = () => {
  client = undefined;
};

interface MalSecret {
  clientId: string;
  clientSecret?: string;
  redirectUri?: string;
}

async function loadSecretIntoEnv(): Promise<void> {
  const arn = env(ENV.MAL_SECRET_ARN);
  if (!arn || env(ENV.MAL_CLIENT_ID)) return;
  const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
  let secret: MalSecret;
  try {
    secret = JSON.parse(out.SecretString ?? '') as MalSecret;
  } catch (error) {
    throw new ConfigurationError(`the MAL client secret ${arn} is not JSON {clientId, clientSecret, redirectUri}`);
  }
  if (!secret.clientId) throw new ConfigurationError(`the MAL client secret ${arn} has no clientId`);
  provideEnv(ENV.MAL_CLIENT_ID, secret.clientId);
  if (secret.clientSecret) provideEnv(ENV.MAL_CLIENT_SECRET, secret.clientSecret);
  if (secret.redirectUri && !env(ENV.MAL_REDIRECT_URIS)) provideEnv(ENV.MAL_REDIRECT_URIS, secret.redirectUri);
}

export function malClient(): Promise<MalClient> {
  // The local stack restarted in one process with another MAL endpoint (tests) makes the next call build a
  // new client. Registered on use: a side effect at load would keep this module, and the MAL client, in
  // every bundle that imports it without calling it.
  onEnvironmentReset(forgetClient);
  client ??= (async () => {
    await loadSecretIntoEnv();
    // Share the request budget across containers in AWS (and across processes locally when configured).
    if (!env(ENV.MAL_RATE_LIMIT_TABLE) && env(ENV.MAL_SHARED_RATE_LIMIT) === 'true') provideEnv(ENV.MAL_RATE_LIMIT_TABLE, tableName('rate-limits'));
    // Retries and refreshes are logged as one-line JSON (method, path, status; never a token).
    return new MalClient(malClientConfigFromEnv({ env: environment(), dynamoDb: dynamoClientConfig(), logger: structuredLogger }));
  })();
  client.catch(() => {
    client = undefined;
  });
  return client;
}

/** Redirect URIs registered with the MAL client: the only ones sign-in accepts. */
export function allowedRedirectUris(): string[] {
  return (env(ENV.MAL_REDIRECT_URIS) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
