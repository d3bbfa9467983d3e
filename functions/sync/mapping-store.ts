/**
 * The shared mapping cache in the mal-mappings table (pk seasonKey, sk):
 *   CURRENT              a curated mapping (source `global`): applies to everyone. No user input writes
 *                        it; an old `automatic` CURRENT item (keyed by season alone) is ignored.
 *   AUTO#<fingerprint>   the matcher's result for one request fingerprint (matching/cache.ts
 *                        AutomaticEntry): a match, a review, or a remembered "no match"; expires.
 *   VOTE#<malUserId>     one MAL account's confirmation (agreement.ts MappingVote).
 *   AGREED#<identity>    the agreement of the votes with that identity fingerprint, recomputed at each vote.
 * Reads are batched: a job's seasons cost a few BatchGets.
 */
import { BatchGetCommand, DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CURRENT_MAPPING_SK, VOTE_PREFIX, agreedMappingSk, automaticMappingSk, voteSk } from '#contract/keys';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';
import { isLive, type AutomaticCache, type AutomaticEntry, type CachedMapping } from '../matching/cache';
import { agreementOf, type Agreement, type MappingVote } from '../matching/agreement';

const table = () => tableName('mal-mappings');
const keyOf = (seasonKey: string, sk: string) => `${seasonKey}\u0000${sk}`;
const epochOf = (iso: string) => Math.floor(Date.parse(iso) / 1000);

async function batchGet(keys: Array<{ seasonKey: string; sk: string }>): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  const unique = [...new Map(keys.map((k) => [keyOf(k.seasonKey, k.sk), k])).values()];
  for (let i = 0; i < unique.length; i += 100) {
    let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead?: boolean }> | undefined = { [table()]: { Keys: unique.slice(i, i + 100) } };
    for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
      if (attempt > 8) throw new Error(`BatchGet from ${table()} left keys unprocessed after ${attempt} attempts`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      const out = await documents().send(new BatchGetCommand({ RequestItems: request as never }));
      found.push(...((out.Responses?.[table()] ?? []) as Record<string, unknown>[]));
      request = out.UnprocessedKeys as typeof request;
    }
  }
  return found;
}

export class DynamoDbMappingStore implements AutomaticCache {
  private readonly items = new Map<string, Record<string, unknown> | null>();

  /** Loads the curated mapping and the automatic entry of each (season, fingerprint) at once. */
  async prefetch(requests: Array<{ seasonKey: string; fingerprint: string }>): Promise<void> {
    const keys = requests.flatMap((r) => [
      { seasonKey: r.seasonKey, sk: CURRENT_MAPPING_SK },
      { seasonKey: r.seasonKey, sk: automaticMappingSk(r.fingerprint) },
    ]);
    await this.load(keys);
  }

  private async load(keys: Array<{ seasonKey: string; sk: string }>): Promise<void> {
    const missing = keys.filter((k) => !this.items.has(keyOf(k.seasonKey, k.sk)));
    if (missing.length === 0) return;
    for (const k of missing) this.items.set(keyOf(k.seasonKey, k.sk), null);
    for (const item of await batchGet(missing)) this.items.set(keyOf(item.seasonKey as string, item.sk as string), item);
  }

  private async item(seasonKey: string, sk: string): Promise<Record<string, unknown> | null> {
    await this.load([{ seasonKey, sk }]);
    return this.items.get(keyOf(seasonKey, sk)) ?? null;
  }

  /** A curated mapping in force for everyone; never an automatic one (those are keyed by fingerprint). */
  async curated(seasonKey: string): Promise<CachedMapping | undefined> {
    const item = await this.item(seasonKey, CURRENT_MAPPING_SK);
    if (!item || item.source === 'automatic' || typeof item.malId !== 'number') return undefined;
    const { sk: _sk, ...rest } = item;
    void _sk;
    return rest as unknown as CachedMapping;
  }

  async getAutomatic(seasonKey: string, fingerprint: string): Promise<AutomaticEntry | undefined> {
    const item = await this.item(seasonKey, automaticMappingSk(fingerprint));
    if (!item || item.fingerprint !== fingerprint) return undefined;
    const entry = item as unknown as AutomaticEntry;
    return isLive(entry) ? entry : undefined;
  }

  async putAutomatic(entry: AutomaticEntry): Promise<void> {
    const item = { ...entry, sk: automaticMappingSk(entry.fingerprint), expiresAtEpoch: epochOf(entry.expiresAt) };
    await documents().send(new PutCommand({ TableName: table(), Item: item }));
    this.items.set(keyOf(entry.seasonKey, item.sk), item);
  }

  /** The agreements for (season, identity) pairs, where any. */
  async agreements(pairs: Array<{ seasonKey: string; identity: string }>): Promise<Map<string, Agreement>> {
    await this.load(pairs.map((p) => ({ seasonKey: p.seasonKey, sk: agreedMappingSk(p.identity) })));
    const out = new Map<string, Agreement>();
    for (const p of pairs) {
      const item = this.items.get(keyOf(p.seasonKey, agreedMappingSk(p.identity)));
      if (item && typeof item.malId === 'number') out.set(p.seasonKey, { malId: item.malId, segments: (item.segments as Agreement['segments']) ?? [], accounts: Number(item.accounts) || 0 });
    }
    return out;
  }

  /**
   * Records one MAL account's vote (replacing its earlier one) and recomputes the agreement of the votes
   * with the same identity fingerprint. The agreement item carries the newest vote time it was computed
   * from, and an older recomputation never overwrites a newer one.
   */
  async putVote(vote: MappingVote): Promise<Agreement | undefined> {
    await documents().send(new PutCommand({ TableName: table(), Item: { ...vote, sk: voteSk(vote.malUserId) } }));
    return this.recompute(vote.seasonKey, vote.identity);
  }

  /** Withdraws a MAL account's votes (account deletion) and recomputes the agreements they were part of. */
  async deleteVotes(malUserId: number, seasonKeys: string[]): Promise<void> {
    for (const seasonKey of new Set(seasonKeys)) {
      const out = await documents().send(new DeleteCommand({ TableName: table(), Key: { seasonKey, sk: voteSk(malUserId) }, ReturnValues: 'ALL_OLD' }));
      const identity = (out.Attributes as MappingVote | undefined)?.identity;
      if (identity) await this.recompute(seasonKey, identity, new Date().toISOString());
    }
  }

  private async recompute(seasonKey: string, identity: string, at?: string): Promise<Agreement | undefined> {
    const vote = { seasonKey, identity };
    const votes: MappingVote[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await documents().send(
        new QueryCommand({
          TableName: table(),
          KeyConditionExpression: 'seasonKey = :s AND begins_with(sk, :v)',
          ExpressionAttributeValues: { ':s': vote.seasonKey, ':v': VOTE_PREFIX },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      votes.push(...((out.Items ?? []) as unknown as MappingVote[]));
      start = out.LastEvaluatedKey;
    } while (start);
    const agreement = agreementOf(votes, vote.seasonKey, vote.identity);
    const basedOn = votes.filter((v) => v.identity === vote.identity).reduce((max, v) => (v.confirmedAt > max ? v.confirmedAt : max), at ?? '');
    const key = { seasonKey: vote.seasonKey, sk: agreedMappingSk(vote.identity) };
    const newer = { ConditionExpression: 'attribute_not_exists(basedOn) OR basedOn <= :b', ExpressionAttributeValues: { ':b': basedOn } };
    try {
      if (agreement) {
        await documents().send(new PutCommand({ TableName: table(), Item: { ...key, ...agreement, identity: vote.identity, basedOn }, ...newer }));
      } else {
        await documents().send(new DeleteCommand({ TableName: table(), Key: key, ...newer }));
      }
    } catch (error) {
      if ((error as { name?: string })?.name !== 'ConditionalCheckFailedException') throw error;
    }
    return agreement;
  }
}
