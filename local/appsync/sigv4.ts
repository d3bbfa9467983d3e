/**
 * SigV4 verification for IAM callers, over HTTP and on the real-time endpoint. AppSync's clients sign the connection (a POST of `{}`
 * to `<graphql endpoint>/connect`) and each `start` (a POST of the `data` string to the GraphQL
 * endpoint) with whatever headers they choose to sign (Amplify signs accept, content-encoding and
 * content-type too), so the check rebuilds the canonical request from the headers named in
 * `SignedHeaders` rather than from a fixed set.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IamCredentials } from '../../functions/shared/iam-signer';

const AUTH_PATTERN = /^AWS4-HMAC-SHA256\s+Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 5 * 60_000;

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

function encodePath(pathname: string): string {
  return pathname
    .split('/')
    .map((segment) => encodeURIComponent(decodeURIComponent(segment)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

/** `headers` keyed in lower case. True when the signature is the one `credentials` would make for this request. */
export function verifySigV4(
  headers: Record<string, string>,
  url: string,
  body: string,
  iam: { region: string; credentials: IamCredentials },
  now = Date.now(),
): boolean {
  const match = AUTH_PATTERN.exec(headers['authorization'] ?? '');
  if (!match) return false;
  const [, accessKeyId, day, region, service, signedHeaderList, signature] = match;
  if (accessKeyId !== iam.credentials.accessKeyId || region !== iam.region || service !== 'appsync') return false;
  const amzDate = headers['x-amz-date'];
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(day!)) return false;
  const signedAt = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  if (Number.isNaN(signedAt) || Math.abs(now - signedAt) > MAX_SKEW_MS) return false;
  if (iam.credentials.sessionToken && headers['x-amz-security-token'] !== iam.credentials.sessionToken) return false;

  const names = signedHeaderList!.split(';');
  if (!names.includes('host')) return false;
  const canonicalHeaders = names.map((name) => `${name}:${(headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const target = new URL(url);
  const canonicalRequest = ['POST', encodePath(target.pathname), '', canonicalHeaders, signedHeaderList, sha256(body)].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${iam.credentials.secretAccessKey}`, day!), region!), service!), 'aws4_request');
  const expected = Buffer.from(hmac(key, stringToSign).toString('hex'));
  const given = Buffer.from(signature!);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
