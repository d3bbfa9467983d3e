/**
 * Restores a DynamoDB table to a point in time into a NEW table and verifies item counts.
 *
 *   npx tsx scripts/restore-table.ts --table NAME --to NEW_NAME [--time ISO] [--endpoint URL]
 *                                    [--region REGION] [--expect-count N] [--timeout-minutes M]
 *
 * In AWS: RestoreTableToPointInTime (the given time, or the latest restorable time), waits until the new
 * table is ACTIVE, then counts items (Scan, Select COUNT, paginated) in the restored table and in the
 * source as it is now, and reports both with the difference (writes after the restore point make the
 * source differ; that is expected). `--expect-count N` fails unless the restored table holds N items.
 *
 * DynamoDB Local does not implement point-in-time restore (it answers UnknownOperationException). There
 * the script falls back to a consistent scan-and-copy: it creates the new table with the source's key
 * schema, attribute definitions, GSIs and TTL (from DescribeTable/DescribeTimeToLive), copies every
 * item, and requires the counts to be equal. `--time` cannot be honoured on that path (it copies the
 * current contents) and is reported as such.
 *
 * Output: progress lines on stderr, one JSON summary line on stdout ({path, source, target, …}).
 * Exit status: 0 verified, 1 verification failed or the restore failed, 2 bad usage.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  RestoreTableToPointInTimeCommand,
  ScanCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
  type CreateTableCommandInput,
  type TableDescription,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';

interface Options {
  table: string;
  to: string;
  time?: Date;
  endpoint?: string;
  region: string;
  expectCount?: number;
  timeoutMs: number;
}

class UsageError extends Error {}

const USAGE =
  'usage: npx tsx scripts/restore-table.ts --table NAME --to NEW_NAME [--time ISO] [--endpoint URL] [--region REGION] [--expect-count N] [--timeout-minutes M]';

export function parseArgs(argv: string[]): Options {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') throw new UsageError(USAGE);
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`unexpected argument ${arg}\n${USAGE}`);
    const value = m[2] ?? argv[(i += 1)];
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value\n${USAGE}`);
    values.set(m[1]!, value);
  }
  const known = new Set(['table', 'to', 'time', 'endpoint', 'region', 'expect-count', 'timeout-minutes']);
  for (const key of values.keys()) if (!known.has(key)) throw new UsageError(`unknown option --${key}\n${USAGE}`);
  const table = values.get('table');
  const to = values.get('to');
  if (!table || !to) throw new UsageError(`--table and --to are required\n${USAGE}`);
  if (table === to) throw new UsageError('--to must name a new table, not the source');
  let time: Date | undefined;
  if (values.has('time')) {
    time = new Date(values.get('time')!);
    if (Number.isNaN(time.getTime())) throw new UsageError(`--time must be an ISO 8601 date-time, got ${values.get('time')}`);
  }
  let expectCount: number | undefined;
  if (values.has('expect-count')) {
    expectCount = Number(values.get('expect-count'));
    if (!Number.isInteger(expectCount) || expectCount < 0) throw new UsageError('--expect-count must be a whole number');
  }
  const minutes = values.has('timeout-minutes') ? Number(values.get('timeout-minutes')) : 120;
  if (!(minutes > 0)) throw new UsageError('--timeout-minutes must be positive');
  return {
    table,
    to,
    time,
    endpoint: values.get('endpoint'),
    region: values.get('region') ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    expectCount,
    timeoutMs: minutes * 60_000,
  };
}

const log = (message: string) => process.stderr.write(`[restore] ${message}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function client(options: Options): DynamoDBClient {
  // DynamoDB Local accepts any credentials; AWS uses the usual credential chain.
  const localCredentials = options.endpoint && !process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined;
  return new DynamoDBClient({ region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}), ...(localCredentials ? { credentials: localCredentials } : {}) });
}

/** Items in a table: Scan with Select COUNT, following LastEvaluatedKey. */
export async function countItems(ddb: DynamoDBClient, table: string, consistent = false): Promise<number> {
  let count = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey: start, ConsistentRead: consistent }));
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

async function waitActive(ddb: DynamoDBClient, table: string, timeoutMs: number): Promise<TableDescription> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1000;
  for (;;) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: table }));
    const gsisReady = (Table?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && gsisReady && !Table.RestoreSummary?.RestoreInProgress) return Table;
    if (Date.now() > deadline) throw new Error(`${table} is not ACTIVE after ${Math.round(timeoutMs / 60_000)} minutes (status ${Table?.TableStatus})`);
    await sleep(delay);
    delay = Math.min(delay * 2, 30_000);
  }
}

function isUnsupported(error: unknown): boolean {
  const name = (error as { name?: string })?.name ?? '';
  const message = (error as Error)?.message ?? '';
  return name === 'UnknownOperationException' || /unknown operation|not (yet )?(implemented|supported)/i.test(message);
}

/** The CreateTable request that reproduces the source's keys and indexes. */
export function tableSpec(source: TableDescription, target: string): CreateTableCommandInput {
  const provisioned = source.BillingModeSummary?.BillingMode === 'PROVISIONED' || (!source.BillingModeSummary && (source.ProvisionedThroughput?.ReadCapacityUnits ?? 0) > 0);
  const throughput = (p?: { ReadCapacityUnits?: number; WriteCapacityUnits?: number }) =>
    provisioned ? { ProvisionedThroughput: { ReadCapacityUnits: p?.ReadCapacityUnits || 1, WriteCapacityUnits: p?.WriteCapacityUnits || 1 } } : {};
  return {
    TableName: target,
    AttributeDefinitions: source.AttributeDefinitions,
    KeySchema: source.KeySchema,
    BillingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
    ...throughput(source.ProvisionedThroughput),
    ...(source.GlobalSecondaryIndexes?.length
      ? {
          GlobalSecondaryIndexes: source.GlobalSecondaryIndexes.map((g) => ({
            IndexName: g.IndexName,
            KeySchema: g.KeySchema,
            Projection: g.Projection,
            ...throughput(g.ProvisionedThroughput),
          })),
        }
      : {}),
    ...(source.LocalSecondaryIndexes?.length
      ? { LocalSecondaryIndexes: source.LocalSecondaryIndexes.map((l) => ({ IndexName: l.IndexName, KeySchema: l.KeySchema, Projection: l.Projection })) }
      : {}),
  };
}

async function writeAll(ddb: DynamoDBClient, table: string, requests: WriteRequest[]): Promise<void> {
  let pending = requests;
  for (let attempt = 0; pending.length > 0; attempt += 1) {
    if (attempt > 10) throw new Error(`DynamoDB left ${pending.length} writes unprocessed after 10 retries`);
    if (attempt > 0) await sleep(Math.min(100 * 2 ** attempt, 5000));
    const out = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
    pending = out.UnprocessedItems?.[table] ?? [];
  }
}

/** Scan-and-copy into a new table with the same schema; returns the number of items copied. */
async function scanAndCopy(ddb: DynamoDBClient, options: Options): Promise<number> {
  const { Table: source } = await ddb.send(new DescribeTableCommand({ TableName: options.table }));
  if (!source) throw new Error(`no table ${options.table}`);
  await ddb.send(new CreateTableCommand(tableSpec(source, options.to)));
  await waitActive(ddb, options.to, options.timeoutMs);
  const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: options.table })).catch(() => undefined);
  const ttlAttribute = ttl?.TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveDescription?.TimeToLiveStatus === 'ENABLING' ? ttl.TimeToLiveDescription.AttributeName : undefined;
  if (ttlAttribute) {
    await ddb.send(new UpdateTimeToLiveCommand({ TableName: options.to, TimeToLiveSpecification: { Enabled: true, AttributeName: ttlAttribute } }));
    log(`TTL on ${ttlAttribute}`);
  }
  log(`created ${options.to} (keys ${source.KeySchema?.map((k) => `${k.AttributeName}:${k.KeyType}`).join(', ')}; GSIs ${source.GlobalSecondaryIndexes?.map((g) => g.IndexName).join(', ') || 'none'})`);
  let copied = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: options.table, ConsistentRead: true, ExclusiveStartKey: start }));
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += 25) {
      await writeAll(ddb, options.to, items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })));
    }
    copied += items.length;
    start = page.LastEvaluatedKey;
    if (items.length > 0) log(`copied ${copied} items`);
  } while (start);
  return copied;
}

export interface RestoreSummary {
  path: 'point-in-time' | 'scan-copy';
  source: string;
  target: string;
  restorePoint: string;
  sourceCount: number;
  restoredCount: number;
  difference: number;
  expectedCount: number | null;
  verified: boolean;
  note?: string;
}

export async function restore(options: Options): Promise<RestoreSummary> {
  const ddb = client(options);
  try {
    let path: RestoreSummary['path'] = 'point-in-time';
    let note: string | undefined;
    const restorePoint = options.time ? options.time.toISOString() : 'latest restorable time';
    try {
      log(`RestoreTableToPointInTime ${options.table} → ${options.to} at ${restorePoint}`);
      await ddb.send(
        new RestoreTableToPointInTimeCommand({
          SourceTableName: options.table,
          TargetTableName: options.to,
          ...(options.time ? { RestoreDateTime: options.time } : { UseLatestRestorableTime: true }),
        }),
      );
    } catch (error) {
      if (!isUnsupported(error)) throw error;
      path = 'scan-copy';
      note = 'this DynamoDB does not implement point-in-time restore (e.g. DynamoDB Local): copied the current contents with a consistent scan';
      if (options.time) note += `; --time ${options.time.toISOString()} could not be honoured`;
      log(`${(error as Error).name}: ${note}`);
    }

    let restoredCount: number;
    let sourceCount: number;
    if (path === 'point-in-time') {
      log(`waiting for ${options.to} to become ACTIVE (restores take minutes to hours)`);
      await waitActive(ddb, options.to, options.timeoutMs);
      restoredCount = await countItems(ddb, options.to);
      sourceCount = await countItems(ddb, options.table);
    } else {
      const copied = await scanAndCopy(ddb, options);
      restoredCount = await countItems(ddb, options.to, true);
      sourceCount = await countItems(ddb, options.table, true);
      if (copied !== restoredCount) note = `${note}; scanned ${copied} items but the new table holds ${restoredCount}`;
    }
    const difference = restoredCount - sourceCount;
    const countsAgree = path === 'scan-copy' ? difference === 0 : true;
    const expected = options.expectCount ?? null;
    const verified = countsAgree && (expected === null || restoredCount === expected);
    log(`path: ${path}; ${options.to} holds ${restoredCount} items; ${options.table} holds ${sourceCount} now (difference ${difference >= 0 ? '+' : ''}${difference})`);
    if (expected !== null) log(`expected ${expected} items: ${restoredCount === expected ? 'ok' : 'MISMATCH'}`);
    if (!countsAgree) log('MISMATCH: a scan-and-copy must hold exactly the source\'s items');
    return { path, source: options.table, target: options.to, restorePoint: path === 'scan-copy' ? 'now (scan)' : restorePoint, sourceCount, restoredCount, difference, expectedCount: expected, verified, ...(note ? { note } : {}) };
  } finally {
    ddb.destroy();
  }
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  try {
    const summary = await restore(options);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return summary.verified ? 0 : 1;
  } catch (error) {
    const e = error as Error;
    log(`failed: ${e.name}: ${e.message}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('restore-table.ts')) {
  main().then((code) => process.exit(code));
}
