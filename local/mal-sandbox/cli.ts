/**
 * `npm run mal-sandbox -- --port 4100 [--catalog FILE] [--lists FILE] [--client-id ID] [--client-secret S]
 *  [--app-type web|other] [--token-lifetimes documented|observed] [--rate-limit N | --no-rate-limit]` — runs
 *  the MAL sandbox until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { startMalSandbox } from './index';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4100' },
    catalog: { type: 'string' },
    lists: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'app-type': { type: 'string', default: 'web' },
    'token-lifetimes': { type: 'string', default: 'documented' },
    'rate-limit': { type: 'string' },
    'no-rate-limit': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(
    'usage: mal-sandbox [--port N] [--catalog FILE.jsonl[.gz]] [--lists FILE.json] [--client-id ID] [--client-secret S]\n' +
      '                   [--app-type web|other] [--token-lifetimes documented|observed] [--rate-limit N | --no-rate-limit]',
  );
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a port number, got ${values.port}`);
  process.exit(2);
}
const rateLimit = values['rate-limit'] === undefined ? undefined : Number(values['rate-limit']);
if (rateLimit !== undefined && !(rateLimit > 0)) {
  console.error(`--rate-limit must be a positive number of requests per second, got ${values['rate-limit']}`);
  process.exit(2);
}

const appType = values['app-type'];
if (appType !== 'web' && appType !== 'other') {
  console.error(`--app-type is web (a client secret) or other (none), got ${appType}`);
  process.exit(2);
}
const tokenLifetimes = values['token-lifetimes'];
if (tokenLifetimes !== 'documented' && tokenLifetimes !== 'observed') {
  console.error(`--token-lifetimes is documented (expires_in 3600) or observed (31 days), got ${tokenLifetimes}`);
  process.exit(2);
}

const started = Date.now();
const sandbox = await startMalSandbox({
  port,
  catalog: values.catalog,
  listsFile: values.lists,
  clientId: values['client-id'],
  clientSecret: values['client-secret'],
  appType,
  tokenLifetimes,
  rateLimit: !values['no-rate-limit'],
  ...(rateLimit === undefined ? {} : { faults: { rateLimitPerSecond: rateLimit } }),
});
const faults = sandbox.getFaults();
console.log(`MAL sandbox listening on ${sandbox.url} (catalog: ${sandbox.catalogSource}, ${sandbox.catalog.size} entries, started in ${Date.now() - started} ms)`);
console.log(`  MAL_AUTH_BASE_URL=${sandbox.authBaseUrl}`);
console.log(`  MAL_API_BASE_URL=${sandbox.apiBaseUrl}`);
console.log(`  MAL_CLIENT_ID=${sandbox.clientId}`);
console.log(`  MAL_CLIENT_SECRET=${sandbox.clientSecret}${sandbox.appType === 'other' ? '  (app type "other": no secret)' : ''}`);
console.log(`  rate limit: ${faults.rateLimitPerSecond === null ? 'off' : `${faults.rateLimitPerSecond} requests/s per client`}`);
console.log(`  faults: POST ${sandbox.url}/__sandbox/faults  (JSON, e.g. {"failNextRequests":3})`);
console.log(`  authorize without a browser: add &sandbox_user=NAME to the authorize URL`);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the MAL sandbox`);
  await sandbox.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
