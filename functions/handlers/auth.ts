/**
 * AuthFunction: the sign-in fields. The event is the resolver's payload; it carries the session token for
 * refresh/sign-out and the client's login secret, so it is never logged.
 */
import { apiHandler } from '../shared/handler';
import { ValidationError } from '../shared/errors';
import { checkSession, completeLogin, refreshSession, signOut, startLogin } from '../auth/login';

export type AuthEvent =
  | { field: 'startLogin'; redirectUri: string; loginSecretHash: string }
  | { field: 'completeLogin'; code: string; state: string; loginSecret: string }
  | { field: 'refreshSession'; userId: string; sessionToken: string }
  | { field: 'signOut'; userId: string; sessionToken: string }
  | { field: 'checkSession'; userId: string; sessionToken: string };

export const handler = apiHandler('auth', async (event: AuthEvent) => {
  switch (event.field) {
    case 'startLogin':
      return startLogin(event.redirectUri, event.loginSecretHash);
    case 'completeLogin':
      return completeLogin(event.code, event.state, event.loginSecret);
    case 'refreshSession':
      return refreshSession(event.sessionToken, event.userId);
    case 'signOut':
      return signOut(event.sessionToken, event.userId);
    case 'checkSession':
      return checkSession(event.sessionToken, event.userId);
    default:
      throw new ValidationError('unknown auth operation');
  }
});
