/** The sandbox's OAuth 2 endpoints: `/v1/oauth2/authorize` (consent) and `/v1/oauth2/token`. */
import type { ServerResponse } from 'node:http';
import { HttpProblem, escapeHtml, readBody, redirect, randomToken, safeEqual, sendHtml } from './http';
import { issueTokens, tokenIsLive, type Context, type SandboxState } from './state';

const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** The league/oauth2-server messages MAL's token endpoint answers with. */
const OAUTH_MESSAGES = {
  invalid_request:
    'The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.',
  invalid_grant:
    'The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
  invalid_client: 'Client authentication failed',
  unsupported_grant_type: 'The authorization grant type is not supported by the authorization server.',
} as const;

function oauthError(error: keyof typeof OAUTH_MESSAGES, hint?: string): HttpProblem {
  const status = error === 'invalid_client' ? 401 : 400;
  return new HttpProblem(status, { error, message: OAUTH_MESSAGES[error], ...(hint ? { hint } : {}) });
}

/**
 * A refresh token MAL refuses (unknown, revoked, expired, another client's) is not `invalid_grant`: MAL
 * answers `invalid_request` with this message, as public MAL clients record it.
 */
function invalidRefreshToken(hint: string): HttpProblem {
  return new HttpProblem(400, { error: 'invalid_request', message: 'The refresh token is invalid.', hint });
}

/** Client authentication: web apps send their secret; apps without one (type "other") send the id alone. */
function clientAuthenticated(state: SandboxState, clientId: string, clientSecret: string | null): boolean {
  if (clientId !== state.clientId) return false;
  if (state.appType === 'other') return !clientSecret;
  return Boolean(clientSecret) && safeEqual(clientSecret!, state.clientSecret);
}

function isLoopbackRedirect(uri: string): boolean {
  try {
    const url = new URL(uri);
    return (url.protocol === 'http:' || url.protocol === 'https:') && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  state: string | null;
  codeChallenge: string;
}

/** Validates the authorize query; problems are answered with a page, never redirected to an unchecked URI. */
function parseAuthorize(state: SandboxState, params: URLSearchParams): AuthorizeRequest {
  const page = (message: string) => new HttpProblem(400, { error: 'invalid_request', message });
  if (params.get('response_type') !== 'code') throw page('response_type must be "code"');
  const requestedClientId = params.get('client_id');
  if (!requestedClientId || requestedClientId !== state.clientId) throw page('unknown client_id');
  const { redirectUris } = state.options;
  let redirectUri = params.get('redirect_uri');
  if (!redirectUri) {
    if (redirectUris?.length === 1) redirectUri = redirectUris[0];
    else throw page('redirect_uri is required');
  }
  const registered = redirectUris ? redirectUris.includes(redirectUri) : isLoopbackRedirect(redirectUri);
  if (!registered) throw page('redirect_uri does not match a registered redirect URI');
  const method = params.get('code_challenge_method') ?? 'plain';
  if (method !== 'plain') throw page('code_challenge_method must be "plain" (the only method MAL supports)');
  const codeChallenge = params.get('code_challenge');
  if (!codeChallenge || !PKCE_VERIFIER.test(codeChallenge)) {
    throw page('code_challenge is required: 43 to 128 characters of [A-Za-z0-9-._~]');
  }
  return { clientId: requestedClientId, redirectUri, state: params.get('state'), codeChallenge };
}

function approve(state: SandboxState, authorize: AuthorizeRequest, userName: string): string {
  const user = state.lists.getOrCreateUser(userName);
  const code = randomToken(32);
  state.codes.set(code, {
    clientId: authorize.clientId,
    redirectUri: authorize.redirectUri,
    codeChallenge: authorize.codeChallenge,
    userName: user.name,
    expiresAtMs: Date.now() + state.codeLifetime * 1000,
    used: false,
    grantId: randomToken(9),
  });
  const target = new URL(authorize.redirectUri);
  target.searchParams.set('code', code);
  if (authorize.state !== null) target.searchParams.set('state', authorize.state);
  return target.toString();
}

function consentPage(authorize: AuthorizeRequest, action: string, error?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MAL sandbox — authorize</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto}label,input,button{display:block;margin:.5rem 0}</style></head>
<body><h1>MyAnimeList sandbox</h1>
<p>An application (client <code>${escapeHtml(authorize.clientId)}</code>) asks to access your anime list.</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">
<label for="user_name">MAL user name</label>
<input id="user_name" name="user_name" required pattern="[A-Za-z0-9_\\-]{2,16}" autocomplete="username">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form></body></html>`;
}

/** MAL's rule for user names (2–16 characters of letters, digits, `_` and `-`). */
function validUserName(name: string | null): name is string {
  return typeof name === 'string' && /^[A-Za-z0-9_-]{2,16}$/.test(name);
}

export async function handleAuthorize(state: SandboxState, ctx: Context, response: ServerResponse): Promise<void> {
  const authorize = parseAuthorize(state, ctx.url.searchParams);
  const action = `${ctx.url.pathname}${ctx.url.search}`;
  if (ctx.request.method === 'GET') {
    const scriptedUser = ctx.url.searchParams.get('sandbox_user');
    if (scriptedUser !== null) {
      if (!validUserName(scriptedUser)) {
        throw new HttpProblem(400, { error: 'invalid_request', message: 'invalid sandbox_user: MAL user names are 2–16 letters, digits, _ or -' });
      }
      ctx.log.userName = scriptedUser;
      redirect(response, approve(state, authorize, scriptedUser));
      return;
    }
    sendHtml(response, 200, consentPage(authorize, action));
    return;
  }
  if (ctx.request.method !== 'POST') throw new HttpProblem(405, { error: 'method_not_allowed', message: '' });
  const form = new URLSearchParams(await readBody(ctx.request));
  if (form.get('decision') === 'deny') {
    const target = new URL(authorize.redirectUri);
    target.searchParams.set('error', 'access_denied');
    if (authorize.state !== null) target.searchParams.set('state', authorize.state);
    redirect(response, target.toString());
    return;
  }
  const userName = form.get('user_name');
  if (!validUserName(userName)) {
    sendHtml(response, 400, consentPage(authorize, action, 'User names are 2–16 letters, digits, _ or -.'));
    return;
  }
  ctx.log.userName = userName;
  redirect(response, approve(state, authorize, userName));
}

export async function handleToken(state: SandboxState, ctx: Context): Promise<Record<string, unknown>> {
  if (ctx.request.method !== 'POST') throw new HttpProblem(405, { error: 'method_not_allowed', message: '' });
  const contentType = ctx.request.headers['content-type'] ?? '';
  const body = await readBody(ctx.request);
  if (!contentType.startsWith('application/x-www-form-urlencoded')) {
    throw oauthError('invalid_request', 'The token endpoint takes application/x-www-form-urlencoded');
  }
  const form = new URLSearchParams(body);
  let formClientId = form.get('client_id');
  let formClientSecret = form.get('client_secret');
  const basic = /^Basic\s+(\S+)$/i.exec(ctx.request.headers.authorization ?? '');
  if (basic) {
    const [id, secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
    formClientId ??= id;
    formClientSecret ??= secret;
  }
  ctx.log.clientId = formClientId ?? undefined;
  if (!formClientId || !clientAuthenticated(state, formClientId, formClientSecret)) throw oauthError('invalid_client');
  const grantType = form.get('grant_type');
  if (grantType === 'authorization_code') {
    const code = form.get('code');
    if (!code) throw oauthError('invalid_request', 'Check the `code` parameter');
    const record = state.codes.get(code);
    if (!record || record.clientId !== formClientId) throw oauthError('invalid_grant', 'Cannot decrypt the authorization code');
    if (record.used) {
      // A replayed code means it leaked: revoke what it produced (RFC 6749 §4.1.2).
      for (const token of state.tokens.values()) if (token.grantId === record.grantId) token.revoked = true;
      throw oauthError('invalid_grant', 'Authorization code has been revoked');
    }
    record.used = true;
    if (Date.now() > record.expiresAtMs) throw oauthError('invalid_grant', 'Authorization code has expired');
    const redirectUri = form.get('redirect_uri');
    if (redirectUri !== null && redirectUri !== record.redirectUri) throw oauthError('invalid_grant', 'Invalid redirect URI');
    const verifier = form.get('code_verifier');
    if (!verifier) throw oauthError('invalid_request', 'Check the `code_verifier` parameter');
    if (!PKCE_VERIFIER.test(verifier) || !safeEqual(verifier, record.codeChallenge)) {
      throw oauthError('invalid_grant', 'Failed to verify `code_verifier`.');
    }
    ctx.log.userName = record.userName;
    return issueTokens(state, record.userName, formClientId, record.grantId);
  }
  if (grantType === 'refresh_token') {
    const refreshToken = form.get('refresh_token');
    if (!refreshToken) throw oauthError('invalid_request', 'Check the `refresh_token` parameter');
    const record = state.tokens.get(refreshToken);
    if (!record || record.kind !== 'refresh') throw invalidRefreshToken('Cannot decrypt the refresh token');
    if (record.clientId !== formClientId) throw invalidRefreshToken('Token is not linked to client');
    if (record.revoked) throw invalidRefreshToken('Token has been revoked');
    if (!tokenIsLive(state, record)) throw invalidRefreshToken('Token has expired');
    record.revoked = true; // rotation: a refresh token is good for one refresh
    ctx.log.userName = record.userName;
    return issueTokens(state, record.userName, formClientId, record.grantId);
  }
  throw oauthError('unsupported_grant_type', 'Check the `grant_type` parameter');
}
