/**
 * Publishes a sync progress event through the API (`publishSyncProgress`, IAM only) so that AppSync
 * fans it out to the job owner's `onSyncProgress` subscribers. The same client serves the sync worker in
 * AWS (the Lambda role's credentials) and locally (the local stack's internal IAM pair).
 */
import type { SyncProgressEvent, SyncProgressInput } from '../../generated/graphql';
import { request as httpsRequest } from 'node:https';
import { signGraphQLRequest, type IamCredentials } from './iam-signer';
import { authorizeAccess } from './aws-access';

/** Every field of the event: subscribers can only receive the fields the publishing mutation selected. */
export const PUBLISH_SYNC_PROGRESS = /* GraphQL */ `
  mutation PublishSyncProgress($event: SyncProgressInput!) {
    publishSyncProgress(event: $event) {
      jobId userId seq status phase processed total currentSeries etaSeconds change error summary at
    }
  }
`;

/** The event to publish; the AWSJSON fields may be given as values (they are sent as JSON strings). */
export type ProgressEventInput = Omit<SyncProgressInput, 'change' | 'error' | 'summary'> & {
  change?: unknown;
  error?: unknown;
  summary?: unknown;
};

export class ProgressPublishError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly errors?: unknown[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProgressPublishError';
  }
}

function awsJson(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export async function publishSyncProgress(
  endpointUrl: string,
  region: string,
  credentials: IamCredentials,
  event: ProgressEventInput,
  options: { signal?: AbortSignal; ca?: string } = {},
): Promise<SyncProgressEvent> {
  // Locally the stack's one IAM pair signs for every function: the function's own grant is checked here.
  authorizeAccess('appsync:GraphQL', { kind: 'api-field', typeName: 'Mutation', fieldName: 'publishSyncProgress' });
  const variables = {
    event: { ...event, change: awsJson(event.change), error: awsJson(event.error), summary: awsJson(event.summary) },
  };
  const body = JSON.stringify({ query: PUBLISH_SYNC_PROGRESS, variables, operationName: 'PublishSyncProgress' });
  const headers = await signGraphQLRequest(endpointUrl, body, region, credentials);
  let response: { ok: boolean; status: number };
  let text: string;
  try {
    // `host` is a forbidden fetch header; fetch derives the same value from the URL.
    const { host: _host, ...sendable } = headers;
    if (options.ca && endpointUrl.startsWith('https:')) {
      // A private certificate (the local stack's --https): fetch cannot be told to trust one.
      ({ response, text } = await postTrusting(endpointUrl, sendable, body, options.ca, options.signal));
    } else {
      const fetched = await fetch(endpointUrl, { method: 'POST', headers: sendable, body, signal: options.signal });
      response = fetched;
      text = await fetched.text();
    }
  } catch (error) {
    throw new ProgressPublishError(`publishSyncProgress: request to ${endpointUrl} failed`, undefined, undefined, { cause: error });
  }
  let parsed: { data?: { publishSyncProgress?: SyncProgressEvent | null } | null; errors?: unknown[] };
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProgressPublishError(`publishSyncProgress: HTTP ${response.status} with a non-JSON body`, response.status, undefined, { cause: error });
  }
  const published = parsed.data?.publishSyncProgress;
  if (!response.ok || parsed.errors?.length || !published) {
    const first = parsed.errors?.[0] as { errorType?: string; message?: string } | undefined;
    throw new ProgressPublishError(
      `publishSyncProgress failed (HTTP ${response.status}): ${first ? `${first.errorType ?? 'Error'}: ${first.message ?? ''}` : 'no data'}`,
      response.status,
      parsed.errors,
    );
  }
  return published;
}

/** POST over https trusting the certificate(s) in `ca` (PEM) instead of the default roots. */
function postTrusting(url: string, headers: Record<string, string>, body: string, ca: string, signal?: AbortSignal): Promise<{ response: { ok: boolean; status: number }; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', headers, ca, signal, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve({ response: { ok: status >= 200 && status < 300, status }, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.end(body);
  });
}
