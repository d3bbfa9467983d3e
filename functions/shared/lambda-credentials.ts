/**
 * What the Lambda bundles get in place of `@aws-sdk/credential-provider-node`, the SDK's default credential
 * chain (infra/constructs/bundling.ts aliases that package to this file). In Lambda the role's credentials
 * are always in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), which is the
 * chain's first link; its other links (SSO, ini files, credential_process, web identity, container and
 * instance metadata, with the STS/SSO clients they bring) never run there and were a quarter of a bundle.
 * Unbundled (the local stack, tests) the SDK keeps its own chain; the local clients pass credentials anyway.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** The SDK calls it with the client's config (it reads only the logger) for a provider of the credentials. */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);
