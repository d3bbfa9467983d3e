/** Test helpers for the MAL sandbox: the OAuth dance over real HTTP. */
import { randomBytes } from 'node:crypto';
import type { MalSandbox } from '../../local/mal-sandbox';
import { createPkceVerifier, type MalClient, type MalTokenStore, type MalTokens } from '../../functions/mal';

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';

export function newVerifier(): string {
  return randomBytes(48).toString('base64url');
}

export function authorizeUrl(sandbox: MalSandbox, params: Record<string, string | undefined>): string {
  const url = new URL(`${sandbox.authBaseUrl}/authorize`);
  const defaults: Record<string, string> = {
    response_type: 'code',
    client_id: sandbox.clientId,
    redirect_uri: REDIRECT_URI,
    state: 'state-123',
    code_challenge_method: 'plain',
  };
  for (const [key, value] of Object.entries({ ...defaults, ...params })) {
    if (value !== undefined) url.searchParams.set(key, value);
  }
  return url.toString();
}

/** Authorize as `user` (sandbox_user shortcut) and return the code from the 302. */
export async function authorizeAs(sandbox: MalSandbox, user: string, verifier: string, state = 'state-123'): Promise<string> {
  const response = await fetch(authorizeUrl(sandbox, { code_challenge: verifier, sandbox_user: user, state }), { redirect: 'manual' });
  if (response.status !== 302) throw new Error(`authorize answered ${response.status}: ${await response.text()}`);
  const location = new URL(response.headers.get('location')!);
  if (location.searchParams.get('state') !== state) throw new Error('state not echoed');
  return location.searchParams.get('code')!;
}

export async function tokenRequest(sandbox: MalSandbox, form: Record<string, string>) {
  const response = await fetch(`${sandbox.authBaseUrl}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The whole code + PKCE flow; returns MAL's token response. */
export async function signIn(sandbox: MalSandbox, user: string) {
  const verifier = newVerifier();
  const code = await authorizeAs(sandbox, user, verifier);
  const { status, body } = await tokenRequest(sandbox, {
    grant_type: 'authorization_code',
    client_id: sandbox.clientId,
    client_secret: sandbox.clientSecret,
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
  });
  if (status !== 200) throw new Error(`token exchange answered ${status}: ${JSON.stringify(body)}`);
  return body as { token_type: string; expires_in: number; access_token: string; refresh_token: string };
}

/** An in-memory token store that records what it was handed. */
export class RecordingStore implements MalTokenStore {
  saved: MalTokens[] = [];
  constructor(public tokens: MalTokens) {}
  async load() {
    return this.tokens;
  }
  async save(tokens: MalTokens) {
    this.saved.push(tokens);
    this.tokens = tokens;
  }
}

/** Sign in through the client itself: authorize URL → sandbox_user approval → exchangeCode. */
export async function signInWithClient(client: MalClient, user: string): Promise<MalTokens> {
  const verifier = createPkceVerifier();
  const url = new URL(client.buildAuthorizeUrl({ redirectUri: REDIRECT_URI, state: 's1', codeVerifier: verifier }));
  url.searchParams.set('sandbox_user', user);
  const response = await fetch(url, { redirect: 'manual' });
  const code = new URL(response.headers.get('location')!).searchParams.get('code')!;
  return client.exchangeCode({ code, codeVerifier: verifier, redirectUri: REDIRECT_URI });
}
