/** Signs a MAL sandbox user in through the public GraphQL API (startLogin → consent → completeLogin). */
import { expect } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { gql } from './stack';

export const START_LOGIN = `mutation($r: AWSURL!) { startLogin(redirectUri: $r) { authorizeUrl state expiresAt } }`;
export const COMPLETE_LOGIN = `mutation($c: String!, $s: String!) { completeLogin(code: $c, state: $s) { sessionToken expiresAt viewer { userId malUserName malUserId } } }`;

export async function startLogin(stack: LocalStack) {
  const result = await gql(stack, START_LOGIN, { r: stack.redirectUris.at(-1) });
  expect(result.errors).toBeUndefined();
  return result.data!.startLogin as { authorizeUrl: string; state: string };
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
  const result = await gql(stack, COMPLETE_LOGIN, { c: code, s: state });
  expect(result.errors).toBeUndefined();
  const session = result.data!.completeLogin as { sessionToken: string; viewer: { userId: string; malUserName: string; malUserId: number } };
  return { ...session, headers: { authorization: session.sessionToken } };
}
