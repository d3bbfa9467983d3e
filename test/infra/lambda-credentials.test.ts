/**
 * The Lambda bundles carry the environment credential provider instead of the SDK's default chain
 * (infra/constructs/bundling.ts aliases @aws-sdk/credential-provider-node), and still work: the bundled
 * authorizer, run as Lambda runs it (a fresh node process, the role's credentials in the environment),
 * signs its DynamoDB call with those credentials and answers from the item it reads. The DynamoDB it talks to
 * is a stand-in on 127.0.0.1 (AWS_ENDPOINT_URL_DYNAMODB); nothing reaches the network.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { LAMBDA_BUNDLING } from '../../infra/constructs/bundling';
import { FUNCTIONS } from '#contract/functions';
import { synth } from './support';

const ROOT = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'animelog-lambda-credentials-'));
/** Packages of the default chain and what only it uses (the STS/SSO clients, instance metadata). */
const CHAIN_PACKAGES = /node_modules\/@aws-sdk\/(credential-provider-(node|ini|sso|process|web-identity|http|login)|nested-clients|token-providers)\/|node_modules\/@smithy\/credential-provider-imds\//;
/** Strings only the chain's code holds: container, process, web-identity and SSO credential sources, STS. */
const CHAIN_MARKERS = ['AWS_CONTAINER_CREDENTIALS_FULL_URI', 'credential_process', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'sso_start_url', 'AssumeRoleWithWebIdentity'];

async function bundle(id: string, alias: Record<string, string> | undefined, entry?: string): Promise<{ file: string; code: string; metafile: Metafile }> {
  const fn = FUNCTIONS.find((f) => f.id === id);
  const file = join(work, `${id}-${alias ? 'trimmed' : 'full'}`, 'index.mjs');
  const result = await build({
    entryPoints: [resolve(ROOT, entry ?? fn!.entry)],
    outfile: file,
    bundle: true,
    format: LAMBDA_BUNDLING.format,
    platform: LAMBDA_BUNDLING.platform,
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    mainFields: LAMBDA_BUNDLING.mainFields,
    banner: { js: LAMBDA_BUNDLING.banner },
    ...(alias ? { alias } : {}),
    absWorkingDir: ROOT,
    metafile: true,
    logLevel: 'silent',
  });
  return { file, code: readFileSync(file, 'utf8'), metafile: result.metafile };
}

interface Captured {
  target: string;
  headers: IncomingHttpHeaders;
  body: string;
}
const requests: Captured[] = [];
let server: Server;
let endpoint = '';
const userId = 'user-from-bundle';

beforeAll(async () => {
  // DynamoDB's JSON protocol, enough for GetItem: every session asked for exists and is valid for an hour.
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ target: String(req.headers['x-amz-target']), headers: req.headers, body });
      if (req.headers['x-amz-target'] === 'AmazonSQS.SendMessage') {
        // SQS's JSON protocol; the client checks the body's MD5.
        const md5 = createHash('md5').update((JSON.parse(body) as { MessageBody: string }).MessageBody).digest('hex');
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ MessageId: 'm-1', MD5OfMessageBody: md5 }));
        return;
      }
      const key = (JSON.parse(body) as { Key: { tokenHash: { S: string } } }).Key.tokenHash.S;
      const expires = Math.floor(Date.now() / 1000) + 3600;
      const item = { tokenHash: { S: key }, userId: { S: userId }, createdAt: { S: new Date().toISOString() }, expiresAt: { S: new Date(expires * 1000).toISOString() }, expiresAtEpoch: { N: String(expires) } };
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ Item: item }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(work, { recursive: true, force: true });
});

/** Imports the bundle in a fresh node process and calls its handler once: the result, or the error's message. */
function invoke(file: string, event: unknown, env: Record<string, string>): Promise<{ result?: unknown; error?: string }> {
  const script =
    `const m = await import(${JSON.stringify(pathToFileURL(file).href)});` +
    `try { process.stdout.write(JSON.stringify({ result: await m.handler(${JSON.stringify(event)}) })); }` +
    `catch (e) { process.stdout.write(JSON.stringify({ error: String(e?.message ?? e) })); }`;
  return new Promise((resolveRun, reject) => {
    // Lambda's environment shape; HOME is empty, so no ~/.aws file could supply anything.
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', HOME: work, AWS_REGION: 'us-east-1', STAGE: 'bundle-test', AWS_ENDPOINT_URL_DYNAMODB: endpoint, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0 || !out) reject(new Error(`the bundle exited with ${code}: ${err}`));
      else resolveRun(JSON.parse(out) as { result?: unknown; error?: string });
    });
  });
}

describe('Lambda bundles without the default credential chain', () => {
  it('leaves the chain out of every function bundle (the same bundle without the alias has it)', async () => {
    const full = await bundle('authorizer', undefined);
    expect(Object.keys(full.metafile.inputs).some((p) => CHAIN_PACKAGES.test(p))).toBe(true);
    for (const marker of CHAIN_MARKERS) expect(full.code).toContain(marker);
    for (const fn of FUNCTIONS) {
      const trimmed = await bundle(fn.id, LAMBDA_BUNDLING.alias);
      expect(Object.keys(trimmed.metafile.inputs).filter((p) => CHAIN_PACKAGES.test(p)), fn.id).toEqual([]);
      for (const marker of CHAIN_MARKERS) expect(trimmed.code, fn.id).not.toContain(marker);
    }
  }, 120_000);

  it('leaves it out of what CDK deploys too (its esbuild CLI run with the same aliases), and that authorizer runs', async () => {
    const synthesised = synth();
    try {
      // Each function's code is the asset its S3 key names: <hash>.zip, staged as asset.<hash>/.
      const functions = Object.values(synthesised.json.Resources)
        .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Handler === 'index.handler')
        .map((r) => ({
          name: JSON.stringify(r.Properties?.FunctionName),
          bundle: join(synthesised.outdir, `asset.${String(r.Properties?.Code?.S3Key).replace(/\.zip$/, '')}`, 'index.mjs'),
        }));
      expect(functions).toHaveLength(FUNCTIONS.length);
      for (const fn of functions) {
        const code = readFileSync(fn.bundle, 'utf8');
        for (const marker of CHAIN_MARKERS) expect(code, fn.name).not.toContain(marker);
      }
      const authorizer = functions.find((fn) => fn.name.includes('-authorizer'));
      requests.length = 0;
      const token = `als_${'c'.repeat(43)}`;
      const run = await invoke(authorizer!.bundle, { authorizationToken: token }, { AWS_ACCESS_KEY_ID: 'ASIACDKASSET', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' });
      expect(run.result).toMatchObject({ isAuthorized: true, resolverContext: { userId } });
      expect(requests[0]!.headers.authorization).toContain('Credential=ASIACDKASSET/');
    } finally {
      synthesised.cleanup();
    }
  }, 180_000);

  it('runs the bundled authorizer on the credentials of the environment', async () => {
    const { file } = await bundle('authorizer', LAMBDA_BUNDLING.alias);
    const token = `als_${'k'.repeat(43)}`;
    requests.length = 0;
    const run = await invoke(file, { authorizationToken: token }, { AWS_ACCESS_KEY_ID: 'ASIAROLEFROMENV', AWS_SECRET_ACCESS_KEY: 'secret-from-env', AWS_SESSION_TOKEN: 'session-from-env' });
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ isAuthorized: true, resolverContext: { userId } });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.target).toBe('DynamoDB_20120810.GetItem');
    expect(JSON.parse(requests[0]!.body).Key.tokenHash.S).toBe(createHash('sha256').update(token).digest('hex'));
    // Signed (SigV4) with the role's credentials from the environment, session token included.
    expect(requests[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAROLEFROMENV\/\d{8}\/us-east-1\/dynamodb\/aws4_request/);
    expect(requests[0]!.headers['x-amz-security-token']).toBe('session-from-env');
  }, 60_000);

  it('sends to SQS from a bundle on the environment credentials', async () => {
    // The sync queue's sender as the history and sync-control bundles carry it: another client, another protocol.
    const entry = join(work, 'send-entry.ts');
    writeFileSync(entry, `import { sendSyncMessage } from ${JSON.stringify(resolve(ROOT, 'functions/shared/sync-queue.ts'))};\nexport const handler = (message: never) => sendSyncMessage(message, { delaySeconds: 5 });\n`);
    const { file, code } = await bundle('send', LAMBDA_BUNDLING.alias, entry);
    for (const marker of CHAIN_MARKERS) expect(code).not.toContain(marker);
    requests.length = 0;
    const message = { jobId: 'job-1', userId: 'u-1' };
    const run = await invoke(file, message, {
      AWS_ACCESS_KEY_ID: 'ASIASQSFROMENV',
      AWS_SECRET_ACCESS_KEY: 's',
      AWS_ENDPOINT_URL_SQS: endpoint,
      SYNC_QUEUE_URL: `${endpoint}/000000000000/animelog-bundle-test-sync`,
    });
    expect(run.error).toBeUndefined();
    expect(requests.map((r) => r.target)).toEqual(['AmazonSQS.SendMessage']);
    expect(JSON.parse(requests[0]!.body)).toMatchObject({ MessageBody: JSON.stringify(message), DelaySeconds: 5 });
    expect(requests[0]!.headers.authorization).toMatch(/Credential=ASIASQSFROMENV\/\d{8}\/us-east-1\/sqs\//);
  }, 60_000);

  it('fails plainly without credentials in the environment, asking nothing of the network', async () => {
    const { file } = await bundle('authorizer', LAMBDA_BUNDLING.alias);
    requests.length = 0;
    const run = await invoke(file, { authorizationToken: `als_${'n'.repeat(43)}` }, {});
    expect(run.error).toMatch(/environment variable credentials/);
    expect(requests).toHaveLength(0);
  }, 60_000);
});
