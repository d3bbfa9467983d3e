/** Session storage keys shared by the console page and the sign-in callback page. */
export const CONSOLE_STORAGE = { pendingLogin: 'animelog.pendingLogin', sessionToken: 'animelog.sessionToken' } as const;
