/**
 * The request-level half of AppSync authorisation: which mode a request uses and whether its credentials
 * hold (a failure is HTTP 401 for the whole request). Field-level checks against the schema's
 * `@aws_*` directives happen during execution (see graphql-server.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IamCredentials } from '../../functions/shared/iam-signer';
import { verifySigV4 } from './sigv4';

export type AuthMode = 'API_KEY' | 'AWS_LAMBDA' | 'AWS_IAM';

/** AppSync's Lambda authorizer contract. */
export interface LambdaAuthorizerEvent {
  authorizationToken: string;
  requestContext: {
    apiId: string;
    accountId: string;
    requestId: string;
    queryString: string;
    operationName?: string;
    variables: Record<string, unknown>;
  };
  requestHeaders: Record<string, string>;
}

export interface LambdaAuthorizerResult {
  isAuthorized: boolean;
  resolverContext?: Record<string, string>;
  deniedFields?: string[];
  ttlOverride?: number;
}

export interface AuthConfig {
  defaultMode: AuthMode;
  apiKeys: string[];
  lambdaAuthorizer?: (event: LambdaAuthorizerEvent) => Promise<LambdaAuthorizerResult>;
  iam?: { region: string; credentials: IamCredentials; accountId: string };
}

export interface AuthenticatedCaller {
  mode: AuthMode;
  /** `ctx.identity` as AppSync presents it for the mode. */
  identity: Record<string, unknown> | null;
  deniedFields: string[];
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface IncomingAuth {
  headers: Record<string, string>;
  url: string;
  body: string;
  query: string;
  operationName?: string;
  variables: Record<string, unknown>;
  requestId: string;
}

/** Returns the caller, or null when AppSync would answer 401. */
export async function authenticate(config: AuthConfig, request: IncomingAuth): Promise<AuthenticatedCaller | null> {
  const apiKey = request.headers['x-api-key'];
  const authorization = request.headers['authorization'];

  if (authorization?.startsWith('AWS4-HMAC-SHA256')) {
    // Whatever headers the client chose to sign (stock AWS clients sign more than host and content-type).
    if (!config.iam || !verifySigV4(request.headers, request.url, request.body, config.iam)) return null;
    return {
      mode: 'AWS_IAM',
      identity: {
        accountId: config.iam.accountId,
        userArn: `arn:aws:iam::${config.iam.accountId}:user/${config.iam.credentials.accessKeyId}`,
        username: config.iam.credentials.accessKeyId,
        sourceIp: ['127.0.0.1'],
        cognitoIdentityPoolId: null,
        cognitoIdentityId: null,
      },
      deniedFields: [],
    };
  }

  if (authorization && config.lambdaAuthorizer) {
    try {
      const result = await config.lambdaAuthorizer({
        authorizationToken: authorization,
        requestContext: {
          apiId: 'local',
          accountId: config.iam?.accountId ?? '000000000000',
          requestId: request.requestId,
          queryString: request.query,
          operationName: request.operationName,
          variables: request.variables,
        },
        requestHeaders: request.headers,
      });
      if (!result?.isAuthorized) return null;
      return { mode: 'AWS_LAMBDA', identity: { resolverContext: result.resolverContext ?? {} }, deniedFields: result.deniedFields ?? [] };
    } catch (error) {
      // An authorizer that fails denies, as in AppSync; the reason stays in the server log.
      console.error('[auth] Lambda authorizer failed:', (error as Error)?.name);
      return null;
    }
  }

  if (apiKey !== undefined) {
    return config.apiKeys.some((key) => sameSecret(key, apiKey)) ? { mode: 'API_KEY', identity: null, deniedFields: [] } : null;
  }
  return null;
}
