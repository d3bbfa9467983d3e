/**
 * The shared mapping cache and the user's own matches, end to end through GraphQL on the local stack:
 * a forged title under another user's CR season id changes nothing for that user, dry runs change
 * nothing, "no match" is remembered, a confirmation is what the next sync uses, a season split over
 * several MAL entries is shown and can be set by episode range, and unknown MAL ids are refused.
 */
import { describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { FAST_MAL_CLIENT, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { documents } from '../../functions/shared/dynamo';
import { tableName } from '../../functions/shared/config';
import { DynamoDbMappingStore } from '../../functions/sync/mapping-store';
import { PROCESS_HISTORY, day, listView, v2Episode, waitForJob } from './support';

const stack = useTestStack({ malSandbox: { rateLimit: false }, env: FAST_MAL_CLIENT });

type Headers = Record<string, string>;

const SERIES = `query { series(limit: 100) { items { seriesId title seasons { seasonKey title match {
  malId title source needsReview confidence episodeOffset explanation segments { malId title firstEpisode lastEpisode episodeOffset } } } } } }`;
const CONFIRM = `mutation($i: ConfirmMatchInput!) { confirmMatch(input: $i) { seasonKey malId title source needsReview episodeOffset
  segments { malId title firstEpisode lastEpisode episodeOffset } } }`;

function season(seriesId: string, seriesTitle: string, seasonId: string, seasonTitle: string, episodes: number[], from = 1) {
  return episodes.map((n, i) => v2Episode({ seriesId, seriesTitle, seasonId, seasonTitle, episode: n, played: day(from + i) }));
}

async function sync(user: { headers: Headers }, data: unknown[], dryRun = false) {
  const sent = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify({ data }), dryRun } }, user.headers);
  expect(sent.errors).toBeUndefined();
  const job = await waitForJob(stack, user.headers, sent.data!.processHistory.jobId);
  expect(job.status, JSON.stringify(job.errors)).toBe('SUCCEEDED');
  return job;
}

async function seasonsOf(user: { headers: Headers }) {
  const out = await gql(stack, SERIES, {}, user.headers);
  expect(out.errors).toBeUndefined();
  return (out.data!.series.items as any[]).flatMap((s) => s.seasons.map((x: any) => ({ ...x, seriesId: s.seriesId })));
}

/** MAL requests made for one sandbox user since a request-log position. */
function malRequestsOf(userName: string, since: number) {
  return stack.malSandbox!.requestLog.filter((r) => r.seq > since && r.userName === userName);
}
const logPosition = () => stack.malSandbox!.requestLog.at(-1)?.seq ?? 0;

async function mappingItems(seasonKey: string) {
  const out = await documents().send(new QueryCommand({ TableName: tableName('mal-mappings'), KeyConditionExpression: 'seasonKey = :s', ExpressionAttributeValues: { ':s': seasonKey }, ConsistentRead: true }));
  return out.Items ?? [];
}

describe('the shared mapping cache resists poisoning', () => {
  it("a forged title under a victim's CR season id (dry run, real sync, and votes of several MAL accounts) leaves the victim's sync writing the right anime", async () => {
    // CR season ids are public: the attacker sends "One Punch Man" under Steins;Gate's ids.
    const forged = season('GSG', 'One Punch Man', 'GSG1', 'One Punch Man', [1, 2, 3]);
    const attacker = await signIn(stack, 'attacker1');
    await sync(attacker, forged, true);
    await sync(attacker, forged);
    expect(Object.keys(listView(stack.malSandbox!.getList('attacker1')))).toEqual(['30276']);
    const [attacked] = await seasonsOf(attacker);
    expect(attacked.match).toMatchObject({ malId: 30276, source: 'AUTOMATIC' });

    // Three more MAL accounts send the real titles and confirm a wrong entry (Steins;Gate 0).
    const real = season('GSG', 'Steins;Gate', 'GSG1', 'Steins;Gate', [1, 2, 3]);
    for (const name of ['sybil1', 'sybil2', 'sybil3']) {
      const sybil = await signIn(stack, name);
      await sync(sybil, real, true);
      const confirmed = await gql(stack, CONFIRM, { i: { seasonKey: attacked.seasonKey, malId: 30484 } }, sybil.headers);
      expect(confirmed.errors).toBeUndefined();
    }
    // The attacker confirms the forged facts too, from one account many times: still one vote.
    for (let i = 0; i < 3; i++) expect((await gql(stack, CONFIRM, { i: { seasonKey: attacked.seasonKey, malId: 30276 } }, attacker.headers)).errors).toBeUndefined();

    const victim = await signIn(stack, 'victim1');
    await sync(victim, real);
    expect(Object.keys(listView(stack.malSandbox!.getList('victim1')))).toEqual(['9253']);
    const [mine] = await seasonsOf(victim);
    expect(mine.match).toMatchObject({ malId: 9253, title: 'Steins;Gate', needsReview: false });
    expect(mine.match.source).not.toBe('USER');

    // What is stored: automatic entries only under their fingerprints, no mapping for the season alone.
    const items = await mappingItems(attacked.seasonKey);
    expect(items.filter((i) => i.sk === 'CURRENT')).toEqual([]);
    const automatic = items.filter((i) => String(i.sk).startsWith('AUTO#'));
    expect(automatic.map((i) => Number(i.malId)).sort((a, b) => a - b)).toEqual([9253, 30276]);
    expect(items.filter((i) => String(i.sk).startsWith('VOTE#'))).toHaveLength(4);
  }, 180_000);
});

describe('agreement between users', () => {
  it('three MAL accounts with the same season facts decide a season the matcher left to review', async () => {
    // CR says season 2 of "SPY x FAMILY" under the bare series title: MAL has a Part 2 and a Season 2, and the matcher leaves it to review.
    const data = Array.from({ length: 3 }, (_, i) => v2Episode({ seriesId: 'GSPY', seriesTitle: 'SPY x FAMILY', seasonId: 'GSPY2', seasonTitle: 'SPY x FAMILY', seasonNumber: 2, episode: i + 1, played: day(10 + i) }));
    const vote = async (name: string) => {
      const voter = await signIn(stack, name);
      await sync(voter, data, true);
      const [own] = await seasonsOf(voter);
      expect((await gql(stack, CONFIRM, { i: { seasonKey: own.seasonKey, malId: 53887 } }, voter.headers)).errors).toBeUndefined();
      return { malUserId: voter.viewer.malUserId, seasonKey: own.seasonKey as string };
    };
    await vote('agree1');
    await vote('agree2');
    const user = await signIn(stack, 'agreeuser');
    expect((await sync(user, data)).counts).toMatchObject({ matched: 0, needsReview: 1 });
    const third = await vote('agree3');
    expect((await sync(user, data)).counts).toMatchObject({ matched: 1, needsReview: 0 });
    const [mine] = await seasonsOf(user);
    expect(mine.match).toMatchObject({ malId: 53887, source: 'CACHED', needsReview: false });
    expect(mine.match.explanation).toMatch(/agreed by 3 MAL accounts/);
    expect(listView(stack.malSandbox!.getList('agreeuser'))[53887]).toMatchObject({ status: 'watching', episodes: 3 });
    // An account that is deleted withdraws its votes: two accounts are no agreement any more.
    await new DynamoDbMappingStore().deleteVotes(third.malUserId, [third.seasonKey]);
    expect((await sync(user, data)).counts).toMatchObject({ matched: 0, needsReview: 1 });
  }, 180_000);
});

describe('dry runs are pure', () => {
  it('a dry run writes no mapping, no series match, no lastSyncAt and nothing to MAL', async () => {
    const user = await signIn(stack, 'dryonly1');
    const data = [...season('GMOB', 'Mob Psycho 100', 'GMOB1', 'Mob Psycho 100', [1, 2]), ...season('GKAG', 'Kaguya-sama: Love is War', 'GKAG1', 'Kaguya-sama: Love is War', [1])];
    const before = logPosition();
    const job = await sync(user, data, true);
    expect(job.dryRun).toBe(true);
    const plan = await gql(stack, 'query($id: ID!) { syncJob(id: $id) { plan { malId } } }', { id: job.jobId }, user.headers);
    expect(plan.data!.syncJob.plan.length).toBeGreaterThan(0);

    expect(malRequestsOf('dryonly1', before).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(stack.malSandbox!.getList('dryonly1')).toEqual([]);
    const me = await gql(stack, 'query { me { lastSyncAt } }', {}, user.headers);
    expect(me.data!.me.lastSyncAt).toBeNull();
    const seasons = await seasonsOf(user);
    expect(seasons).toHaveLength(2);
    for (const s of seasons) {
      expect(s.match).toBeNull();
      expect(await mappingItems(s.seasonKey)).toEqual([]);
    }
  });
});

describe('remembered results and the user\'s own choice', () => {
  it('does not search MAL again for a season with no match, and the next sync uses what the user confirmed', async () => {
    const user = await signIn(stack, 'nomatch1');
    const data = [...season('GZZQ', 'Zzyzx Quantum Bakery Chronicles', 'GZZQ1', 'Zzyzx Quantum Bakery Chronicles', [1, 2]), ...season('GOPM', 'One-Punch Man', 'GOPM1', 'One-Punch Man', [1, 2])];
    let since = logPosition();
    const first = await sync(user, data);
    expect(first.counts).toMatchObject({ seasons: 2, matched: 1, needsReview: 1 });
    const searchesOf = (from: number) => malRequestsOf('nomatch1', from).filter((r) => r.path === '/v2/anime');
    expect(searchesOf(since).length).toBeGreaterThan(0);

    since = logPosition();
    const second = await sync(user, data);
    expect(second.counts).toMatchObject({ matched: 1, needsReview: 1 });
    expect(searchesOf(since)).toEqual([]);
    expect(malRequestsOf('nomatch1', since).filter((r) => r.path.startsWith('/v2/anime/'))).toEqual([]);

    // The user says what both seasons are: the remembered "no match" and the automatic match give way.
    const seasons = await seasonsOf(user);
    const zzq = seasons.find((s) => s.seriesId === 'GZZQ');
    const opm = seasons.find((s) => s.seriesId === 'GOPM');
    expect(zzq.match).toMatchObject({ malId: null, needsReview: true });
    expect((await gql(stack, CONFIRM, { i: { seasonKey: zzq.seasonKey, malId: 1 } }, user.headers)).data!.confirmMatch).toMatchObject({ malId: 1, title: 'Cowboy Bebop', source: 'USER' });
    expect((await gql(stack, CONFIRM, { i: { seasonKey: opm.seasonKey, malId: 34134 } }, user.headers)).data!.confirmMatch).toMatchObject({ malId: 34134, source: 'USER' });
    const third = await sync(user, data);
    expect(third.counts).toMatchObject({ matched: 2, needsReview: 0 });
    const list = listView(stack.malSandbox!.getList('nomatch1'));
    expect(list[1]).toMatchObject({ status: 'watching', episodes: 2 });
    expect(list[34134]).toMatchObject({ status: 'watching', episodes: 2 });
    const after = await seasonsOf(user);
    expect(after.find((s) => s.seriesId === 'GZZQ').match).toMatchObject({ malId: 1, source: 'USER', needsReview: false });
    expect(after.find((s) => s.seriesId === 'GOPM').match).toMatchObject({ malId: 34134, source: 'USER', needsReview: false });
  });
});

describe('split seasons and MAL ids through the API', () => {
  it('shows every MAL entry of a split season with its episode range', async () => {
    const user = await signIn(stack, 'spyfan1');
    const episodes = Array.from({ length: 25 }, (_, i) => i + 1);
    await sync(user, season('GSPY', 'SPY x FAMILY', 'GSPY1', 'SPY x FAMILY', episodes));
    const list = listView(stack.malSandbox!.getList('spyfan1'));
    expect(list[50265]).toMatchObject({ status: 'completed', episodes: 12 });
    expect(list[50602]).toMatchObject({ status: 'completed', episodes: 13 });
    const [spy] = await seasonsOf(user);
    expect(spy.match.segments).toEqual([
      { malId: 50265, title: 'Spy x Family', firstEpisode: 1, lastEpisode: 12, episodeOffset: 0 },
      { malId: 50602, title: 'Spy x Family Part 2', firstEpisode: 13, lastEpisode: null, episodeOffset: 12 },
    ]);
  });

  it('sets a season to several MAL entries by episode range, which the next sync writes', async () => {
    const user = await signIn(stack, 'splitter1');
    // CR lists the show under a title the matcher cannot tell apart: the user says how MAL splits it.
    const data = season('GSPX', 'Zzyzx Family Recut', 'GSPX1', 'Zzyzx Family Recut', Array.from({ length: 16 }, (_, i) => i + 1));
    await sync(user, data, true);
    const [recut] = await seasonsOf(user);
    const segments = [
      { malId: 50265, firstEpisode: 1, lastEpisode: 12, episodeOffset: 0 },
      { malId: 50602, firstEpisode: 13, lastEpisode: null, episodeOffset: 12 },
    ];
    const confirmed = await gql(stack, CONFIRM, { i: { seasonKey: recut.seasonKey, segments } }, user.headers);
    expect(confirmed.errors).toBeUndefined();
    expect(confirmed.data!.confirmMatch).toMatchObject({ malId: 50265, source: 'USER', segments: [{ ...segments[0], title: 'Spy x Family' }, { ...segments[1], title: 'Spy x Family Part 2' }] });
    await sync(user, data);
    const list = listView(stack.malSandbox!.getList('splitter1'));
    expect(list[50265]).toMatchObject({ status: 'completed', episodes: 12 });
    expect(list[50602]).toMatchObject({ status: 'watching', episodes: 4 });
    const [after] = await seasonsOf(user);
    expect(after.match.segments.map((s: any) => [s.malId, s.firstEpisode, s.lastEpisode])).toEqual([[50265, 1, 12], [50602, 13, null]]);
  });

  it('refuses MAL ids that do not exist, and ranges that overlap', async () => {
    const user = await signIn(stack, 'badids1');
    await sync(user, season('GSG', 'Steins;Gate', 'GSG1', 'Steins;Gate', [1]), true);
    const [sg] = await seasonsOf(user);
    const unknown = await gql(stack, CONFIRM, { i: { seasonKey: sg.seasonKey, malId: 99999991 } }, user.headers);
    expect(unknown.errors?.[0]).toMatchObject({ errorType: 'NotFound', errorInfo: { field: 'input.malId' } });
    const unknownRange = await gql(stack, CONFIRM, { i: { seasonKey: sg.seasonKey, segments: [{ malId: 9253, firstEpisode: 1, lastEpisode: 12 }, { malId: 99999992, firstEpisode: 13 }] } }, user.headers);
    expect(unknownRange.errors?.[0]).toMatchObject({ errorType: 'NotFound', errorInfo: { field: 'input.segments[1].malId' } });
    const overlap = await gql(stack, CONFIRM, { i: { seasonKey: sg.seasonKey, segments: [{ malId: 9253, firstEpisode: 1, lastEpisode: 12 }, { malId: 30484, firstEpisode: 12 }] } }, user.headers);
    expect(overlap.errors?.[0]).toMatchObject({ errorType: 'ValidationError' });
    // Nothing was stored by the refused calls.
    const [still] = await seasonsOf(user);
    expect(still.match).toBeNull();
  });
});

describe('matchCandidates', () => {
  it('scores the candidates consistently with the decision the sync made', async () => {
    const user = await signIn(stack, 'candid1');
    await sync(user, [...season('GOP', 'One Piece', 'GOP1', 'One Piece', [1, 2]), ...season('GSG', 'Steins;Gate', 'GSG1', 'Steins;Gate', [1])]);
    const seasons = await seasonsOf(user);
    const CANDIDATES = 'query($k: ID!) { matchCandidates(seasonKey: $k) { malId title confidence explanation } }';
    // No One Piece in the catalog: the matcher chose nothing, so no candidate may look likely.
    const onePiece = seasons.find((s) => s.seriesId === 'GOP');
    expect(onePiece.match).toMatchObject({ malId: null, needsReview: true });
    const none = await gql(stack, CANDIDATES, { k: onePiece.seasonKey }, user.headers);
    expect(none.errors).toBeUndefined();
    expect(none.data!.matchCandidates.length).toBeGreaterThan(0);
    for (const c of none.data!.matchCandidates) expect(c.confidence).toBe(0);
    // Steins;Gate: the first candidate is the sync's choice with its confidence; the others never above it.
    const sg = seasons.find((s) => s.seriesId === 'GSG');
    const ranked = (await gql(stack, CANDIDATES, { k: sg.seasonKey }, user.headers)).data!.matchCandidates;
    expect(ranked[0]).toMatchObject({ malId: sg.match.malId, confidence: sg.match.confidence });
    expect(ranked[0].explanation).toMatch(/^the matcher's choice/);
    for (const c of ranked.slice(1)) expect(c.confidence).toBeLessThanOrEqual(ranked[0].confidence);
    expect(ranked.reduce((sum: number, c: { confidence: number }) => sum + c.confidence, 0)).toBeLessThanOrEqual(1.0001);
  });
});
