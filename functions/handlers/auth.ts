/**
 * AuthFunction: the sign-in fields. The event is the resolver's payload; it carries the session token for
 * refresh/sign-out and the client's login secret, so it is never logged.
 */
import type { MutationCompleteLoginArgs, MutationStartLoginArgs } from '../../generated/graphql';
import type { SessionTokenArgs } from '#contract/lambda-events';
import { fieldHandler, signedIn } from '../shared/handler';
import { checkSession, completeLogin, refreshSession, signOut, startLogin } from '../auth/login';

export interface AuthArgs {
  startLogin: MutationStartLoginArgs;
  completeLogin: MutationCompleteLoginArgs;
  refreshSession: SessionTokenArgs;
  signOut: SessionTokenArgs;
  checkSession: SessionTokenArgs;
}

export const handler = fieldHandler<AuthArgs>('auth', {
  startLogin: async (_userId, args) => startLogin(args.redirectUri, args.loginSecretHash),
  completeLogin: async (_userId, args) => completeLogin(args.code, args.state, args.loginSecret),
  refreshSession: async (userId, args) => refreshSession(args.sessionToken, signedIn(userId)),
  signOut: async (userId, args) => signOut(args.sessionToken, signedIn(userId)),
  checkSession: async (userId, args) => checkSession(args.sessionToken, signedIn(userId)),
});
