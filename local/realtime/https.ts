/**
 * The local stack over TLS (`npm start -- --https`): the same routes and WebSocket upgrades as the plain
 * HTTP front, served on a self-signed certificate for 127.0.0.1 and localhost. The certificate is
 * generated in pure JS (the `selfsigned` package) and kept in a folder so that trusting it once lasts
 * (docs/local-https.md) until it expires.
 */
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { generate } from 'selfsigned';
import type { LocalHttpServer } from '../http-server';

export const DEFAULT_TLS_DIR = join(homedir(), '.animelog', 'local-https');
const HOSTS = ['localhost'];
const IPS = ['127.0.0.1', '::1'];

export interface LocalCertificate {
  key: string;
  cert: string;
  certPath: string;
  /** SHA-256 fingerprint, as browsers show it. */
  fingerprint: string;
}

export class LocalTlsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalTlsError';
  }
}

function usable(cert: string): boolean {
  try {
    const x509 = new X509Certificate(cert);
    // Renew a week before expiry so a running stack never crosses it.
    return Date.parse(x509.validTo) - Date.now() > 7 * 86_400_000 && x509.checkIP('127.0.0.1') !== undefined && x509.checkHost('localhost') !== undefined;
  } catch {
    return false;
  }
}

/** The certificate in `dir`, or a new one (written there) when there is none or it is about to expire. */
export async function localCertificate(dir = DEFAULT_TLS_DIR): Promise<LocalCertificate> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    if (usable(cert)) return { cert, key: readFileSync(keyPath, 'utf8'), certPath, fingerprint: new X509Certificate(cert).fingerprint256 };
  }
  let generated: Awaited<ReturnType<typeof generate>>;
  try {
    // Loaded only to make a certificate: its X.509 libraries cost every start a third of a second otherwise.
    const { generate } = await import('selfsigned');
    generated = await generate([{ name: 'commonName', value: 'AnimeLog local stack' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 397 * 86_400_000), // browsers refuse server certificates valid for longer
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [...HOSTS.map((value) => ({ type: 2 as const, value })), ...IPS.map((ip) => ({ type: 7 as const, ip }))] },
      ],
    });
  } catch (error) {
    throw new LocalTlsError('could not generate a self-signed certificate', { cause: error });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(certPath, generated.cert);
  writeFileSync(keyPath, generated.private, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  return { cert: generated.cert, key: generated.private, certPath, fingerprint: new X509Certificate(generated.cert).fingerprint256 };
}

/** Serves `http`'s routes and upgrades over TLS on 127.0.0.1:port; returns the bound port. */
export function listenHttps(http: LocalHttpServer, tls: { key: string; cert: string }, port: number, host = '127.0.0.1'): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer({ key: tls.key, cert: tls.cert });
  // The plain server's handlers do the work; TLS only wraps the sockets.
  server.on('request', (req, res) => http.server.emit('request', req, res));
  server.on('upgrade', (req, socket, head) => http.server.emit('upgrade', req, socket, head));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        server,
        port: typeof address === 'object' && address ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
