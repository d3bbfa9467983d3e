/**
 * `npm start -- --https`: the same API, console and real-time endpoint over TLS on a self-signed
 * certificate that is generated once (pure JS) and reused, verified here against that certificate.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { localCertificate } from '../../local/realtime/https';
import { useTestStack } from '../support/stack';
import { RealtimeClient, apiKeyHeader } from './support';

const stack = useTestStack({ temporaryHttps: true, console: false });

function post(url: string, body: string, headers: Record<string, string>, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, ca, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.end(body);
  });
}

describe('local HTTPS and WSS', () => {
  it('serves GraphQL over https:// and the real-time protocol over wss:// on a certificate for 127.0.0.1 and localhost', async () => {
    expect(stack.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.realtimeUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/graphql\/realtime$/);
    const ca = readFileSync(stack.tls!.certPath, 'utf8');
    const cert = new X509Certificate(ca);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.fingerprint256).toBe(stack.tls!.fingerprint);

    const response = await post(stack.graphqlUrl, JSON.stringify({ query: '{ __typename }' }), { 'x-api-key': stack.apiKey }, ca);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ data: { __typename: 'Query' } });

    const client = await RealtimeClient.connect(stack.realtimeUrl, apiKeyHeader(stack.graphqlUrl, stack.apiKey), 'subprotocol', { ca });
    try {
      expect(await client.init()).toEqual({ type: 'connection_ack', payload: { connectionTimeoutMs: 300000 } });
    } finally {
      await client.close();
    }
  });

  it('refuses clients that do not trust the certificate, and keeps the certificate across restarts', async () => {
    await expect(post(stack.graphqlUrl, '{}', {}, '')).rejects.toThrow(/self-signed|certificate/i);
    const again = await localCertificate(dirname(stack.tls!.certPath));
    expect(again.fingerprint).toBe(stack.tls!.fingerprint);
  });
});
