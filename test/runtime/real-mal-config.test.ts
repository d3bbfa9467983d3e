/** When `npm start` uses real MAL instead of the sandbox: a client id and a redirect URI, with or without a secret. */
import { describe, expect, it } from 'vitest';
import { realMalConfigured } from '../../local/stack';

describe('realMalConfigured', () => {
  it('needs a client id and a redirect URI; the secret is optional (MAL apps of type other have none)', () => {
    expect(realMalConfigured({ MAL_CLIENT_ID: 'id', REDIRECT_URI: 'https://x.example/cb' })).toBe(true);
    expect(realMalConfigured({ MAL_CLIENT_ID: 'id', MAL_CLIENT_SECRET: 's', REDIRECT_URI: 'https://x.example/cb' })).toBe(true);
    expect(realMalConfigured({ MAL_CLIENT_ID: 'id' })).toBe(false);
    expect(realMalConfigured({ REDIRECT_URI: 'https://x.example/cb', MAL_CLIENT_SECRET: 's' })).toBe(false);
    expect(realMalConfigured({})).toBe(false);
  });
});
