/**
 * The MAL client's configuration from the environment: MAL's own pace and retry policy by default (what
 * the deployed functions run with), and the overrides the local stack and tests use.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, MalConfigError, TokenBucketRateLimiter, malClientConfigFromEnv } from '../../functions/mal';

describe('malClientConfigFromEnv', () => {
  it('defaults to MAL itself, 4 retries after 1 s doubling, 10 s per attempt', () => {
    const config = malClientConfigFromEnv({ env: { MAL_CLIENT_ID: 'id' } });
    expect(DEFAULT_RETRY).toMatchObject({ retries: 4, baseDelayMs: 1000 });
    expect(config).toMatchObject({
      clientId: 'id',
      clientSecret: undefined,
      authBaseUrl: 'https://myanimelist.net/v1/oauth2',
      apiBaseUrl: 'https://api.myanimelist.net/v2',
      retry: { retries: 4, baseDelayMs: 1000 },
      timeoutMs: 10_000,
    });
    expect(config.rateLimiter).toBeInstanceOf(TokenBucketRateLimiter);
  });

  it('takes the retry count and the first backoff from the environment', () => {
    const config = malClientConfigFromEnv({ env: { MAL_CLIENT_ID: 'id', MAL_MAX_RETRIES: '1', MAL_RETRY_BASE_DELAY_MS: '50' } });
    expect(config.retry).toEqual({ retries: 1, baseDelayMs: 50 });
  });

  it('refuses a value that is not a positive number', () => {
    expect(() => malClientConfigFromEnv({ env: { MAL_CLIENT_ID: 'id', MAL_RETRY_BASE_DELAY_MS: '0' } })).toThrow(MalConfigError);
    expect(() => malClientConfigFromEnv({ env: { MAL_CLIENT_ID: 'id', MAL_RETRY_BASE_DELAY_MS: 'soon' } })).toThrow(/MAL_RETRY_BASE_DELAY_MS must be a positive number/);
  });
});
