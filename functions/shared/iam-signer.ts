/**
 * SigV4 signing of GraphQL requests for IAM-authorised callers (the sync worker publishing progress).
 * In AWS the credentials are the Lambda role's; locally they are the local stack's internal pair, and the
 * local runtime verifies the signature with the same code.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';

export interface IamCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function appsyncSigner(region: string, credentials: IamCredentials): SignatureV4 {
  return new SignatureV4({ service: 'appsync', region, credentials, sha256: Hash.bind(null, 'sha256') });
}

/** Signs a POST of `body` to `url`; returns the headers to send. */
export async function signGraphQLRequest(
  url: string,
  body: string,
  region: string,
  credentials: IamCredentials,
  signingDate?: Date,
): Promise<Record<string, string>> {
  const target = new URL(url);
  const request = new HttpRequest({
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname,
    port: target.port ? Number(target.port) : undefined,
    path: target.pathname,
    headers: { 'content-type': 'application/json', host: target.host },
    body,
  });
  const signed = await appsyncSigner(region, credentials).sign(request, { signingDate });
  return signed.headers as Record<string, string>;
}
