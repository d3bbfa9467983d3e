/** Signs a MAL sandbox user in through the public GraphQL API (startLogin → consent → completeLogin). */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { gql } from './stack';

export const START_LOGIN = `mutation($r: AWSURL!, $h: String!) { startLogin(redirectUri: $r, loginSecretHash: $h) { authorizeUrl state expiresAt } }`;
export const COMPLETE_LOGIN = `mutation($c: String!, $s: String!, $k: String!) { completeLogin(code: $c, state: $s, loginSecret: $k) { sessionToken expiresAt viewer { userId malUserName malUserId } } }`;

/** The client-held secret of one sign-in and the hash that goes with startLogin. */
export function loginSecret() {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: createHash('sha256').update(secret).digest('base64url') };
}

export async function startLogin(stack: LocalStack) {
  const { secret, hash } = loginSecret();
  const result = await gql(stack, START_LOGIN, { r: stack.redirectUris.at(-1), h: hash });
  expect(result.errors).toBeUndefined();
  return { ...(result.data!.startLogin as { authorizeUrl: string; state: string }), secret };
}

/** Follows MAL's authorize URL as the sandbox's scripted user; returns the redirect's code and state. */
export async function approveAs(authorizeUrl: string, malUser: string) {
  const url = new URL(authorizeUrl);
  url.searchParams.set('sandbox_user', malUser);
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location')!);
  return { code: location.searchParams.get('code')!, state: location.searchParams.get('state')! };
}

export async function signIn(stack: LocalStack, malUser: string) {
  const login = await startLogin(stack);
  const { code, state } = await approveAs(login.authorizeUrl, malUser);
  expect(state).toBe(login.state);
  const result = await gql(stack, COMPLETE_LOGIN, { c: code, s: state, k: login.secret });
  expect(result.errors).toBeUndefined();
  const session = result.data!.completeLogin as { sessionToken: string; viewer: { userId: string; malUserName: string; malUserId: number } };
  return { ...session, headers: { authorization: session.sessionToken } };
}
