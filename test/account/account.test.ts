/**
 * The user's data through GraphQL: export (no tokens), import into another account, deletion of
 * everything; public MAL info with the API key; direct MAL list changes with validation.
 */
import { describe, expect, it } from 'vitest';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { FAST_MAL_CLIENT, createTestUser, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { documents } from '../../functions/shared/dynamo';
import { tableName } from '../../functions/shared/config';
import { loadMalTokens } from '../../functions/auth/mal-tokens';
import { readFileSync } from 'node:fs';
import { PROCESS_HISTORY, day, v2Episode, waitForJob } from '../sync/support';
import { resolve } from 'node:path';

/** Entries of the sandbox's default fixture catalog. */
const FIXTURE_ENTRIES = readFileSync(resolve(import.meta.dirname, '../../local/mal-sandbox/fixtures/catalog.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as { mal_id: number; episodes?: number | null });

const stack = useTestStack({ env: FAST_MAL_CLIENT });

async function seedSeries(userId: string, seriesId: string) {
  await documents().send(
    new PutCommand({
      TableName: tableName('series-data'),
      Item: { userId, sk: `SERIES#${seriesId}`, seriesId, title: `Series ${seriesId}`, seasons: [], updatedAt: new Date().toISOString() },
    }),
  );
}

describe('export, import and deletion', () => {
  it('exports all of the caller\'s data with no token, imports it into another account, and deletes everything', async () => {
    const owner = await signIn(stack, 'export_owner');
    await gql(stack, 'mutation { updateSettings(input: { watchedThreshold: 0.7 }) { watchedThreshold } }', {}, owner.headers);
    await seedSeries(owner.viewer.userId, 'GEXPORT1');

    const exported = await gql(stack, '{ exportData }', {}, owner.headers);
    expect(exported.errors).toBeUndefined();
    const doc = JSON.parse(exported.data!.exportData);
    expect(doc.format).toBe('animelog-export');
    expect(doc.tables['series-data'].map((s: { seriesId: string }) => s.seriesId)).toEqual(['GEXPORT1']);
    expect(doc.tables.users.find((i: { sk: string }) => i.sk === 'SETTINGS').watchedThreshold).toBe(0.7);
    const tokens = await loadMalTokens(owner.viewer.userId);
    expect(exported.data!.exportData).not.toContain(tokens.accessToken);
    expect(exported.data!.exportData).not.toContain(tokens.refreshToken);
    expect(exported.data!.exportData).not.toContain(owner.sessionToken);

    const other = await signIn(stack, 'import_target');
    const imported = await gql(stack, 'mutation($d: AWSJSON!) { importData(data: $d) { series matches historyEntries settings } }', { d: exported.data!.exportData }, other.headers);
    expect(imported.errors).toBeUndefined();
    expect(imported.data!.importData).toMatchObject({ series: 1, settings: true });
    const otherSeries = await gql(stack, '{ series { items { seriesId } } settings { watchedThreshold } }', {}, other.headers);
    expect(otherSeries.data).toEqual({ series: { items: [{ seriesId: 'GEXPORT1' }] }, settings: { watchedThreshold: 0.7 } });

    const bad = await gql(stack, 'mutation($d: AWSJSON!) { importData(data: $d) { series } }', { d: JSON.stringify({ format: 'other' }) }, other.headers);
    expect(bad.errors?.[0]).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'data.format' } });

    const deleted = await gql(stack, 'mutation { deleteAccount }', {}, owner.headers);
    expect(deleted.data).toEqual({ deleteAccount: true });
    // Revocation takes effect once the cached session check expires (at most 60 s; docs/api.md).
    stack.authorizerCache.clear();
    expect((await gql(stack, '{ me { userId } }', {}, owner.headers)).status).toBe(401);
    for (const table of ['users', 'series-data', 'sync-jobs', 'sync-history'] as const) {
      const left = await documents().send(new QueryCommand({ TableName: tableName(table), KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': owner.viewer.userId } }));
      expect(left.Items, table).toEqual([]);
    }
    await expect(loadMalTokens(owner.viewer.userId)).rejects.toThrow(/sign in/);
    // The other account keeps its copy.
    expect((await gql(stack, '{ series { items { seriesId } } }', {}, other.headers)).data!.series.items).toHaveLength(1);
  });
});

describe('deletion withdraws the account\'s votes', () => {
  it('a confirmation\'s vote for the shared agreement is gone once the account is deleted', async () => {
    const voter = await signIn(stack, 'vote_leaver');
    const data = [1, 2].map((n) => v2Episode({ seriesId: 'GSPY', seriesTitle: 'SPY x FAMILY', seasonId: 'GSPYV', seasonTitle: 'SPY x FAMILY', seasonNumber: 2, episode: n, played: day(n) }));
    const sent = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify({ data }), dryRun: true } }, voter.headers);
    expect(sent.errors).toBeUndefined();
    await waitForJob(stack, voter.headers, sent.data!.processHistory.jobId);
    const seasons = await gql(stack, '{ series { items { seasons { seasonKey } } } }', {}, voter.headers);
    const seasonKey = seasons.data!.series.items[0].seasons[0].seasonKey as string;
    const confirmed = await gql(stack, 'mutation($i: ConfirmMatchInput!) { confirmMatch(input: $i) { malId } }', { i: { seasonKey, malId: 53887 } }, voter.headers);
    expect(confirmed.errors).toBeUndefined();
    const votes = async () =>
      (await documents().send(new QueryCommand({ TableName: tableName('mal-mappings'), KeyConditionExpression: 'seasonKey = :s AND begins_with(sk, :v)', ExpressionAttributeValues: { ':s': seasonKey, ':v': 'VOTE#' } }))).Items ?? [];
    expect((await votes()).map((v) => v.malUserId)).toEqual([voter.viewer.malUserId]);

    expect((await gql(stack, 'mutation { deleteAccount }', {}, voter.headers)).data).toEqual({ deleteAccount: true });
    expect(await votes()).toEqual([]);
  });
});

describe('MAL reads and list changes', () => {
  it('serves public MAL info to a signed-in user', async () => {
    const id = FIXTURE_ENTRIES[0]!.mal_id;
    const reader = await createTestUser(stack);
    const result = await gql(stack, 'query($id: Int!) { malAnime(malId: $id) { malId title mediaType synonyms related { malId relationType } } }', { id }, reader.headers);
    expect(result.errors).toBeUndefined();
    expect(result.data!.malAnime.malId).toBe(id);
    expect(typeof result.data!.malAnime.title).toBe('string');
  });

  it('sets a list status directly on the caller\'s MAL list and validates input', async () => {
    const user = await signIn(stack, 'direct_status');
    const id = FIXTURE_ENTRIES.find((e) => (e.episodes ?? 0) > 3)!.mal_id;
    const set = await gql(stack, 'mutation($i: UpdateSeriesStatusInput!) { updateSeriesStatus(input: $i) { malId status numEpisodesWatched score } }', { i: { malId: id, status: 'WATCHING', numEpisodesWatched: 3 } }, user.headers);
    expect(set.errors).toBeUndefined();
    expect(set.data!.updateSeriesStatus).toEqual({ malId: id, status: 'WATCHING', numEpisodesWatched: 3, score: 0 });
    expect(stack.malSandbox!.getList('direct_status')).toEqual([expect.objectContaining({ animeId: id, listStatus: expect.objectContaining({ status: 'watching', num_episodes_watched: 3 }) })]);
    const bad = await gql(stack, 'mutation($i: UpdateSeriesStatusInput!) { updateSeriesStatus(input: $i) { malId } }', { i: { malId: id, score: 11 } }, user.headers);
    expect(bad.errors?.[0]).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'input.score' } });
  });
});
