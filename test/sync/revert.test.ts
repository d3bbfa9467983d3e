/**
 * Undoing a sync through GraphQL: a revert puts the entries a job changed back where MAL still shows that
 * job's result, leaves an entry the user changed since alone (reported as a Conflict), previews with a
 * dry run without writing, and can itself be reverted.
 */
import { describe, expect, it } from 'vitest';
import { FAST_MAL_CLIENT, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { loadMalTokens } from '../../functions/auth/mal-tokens';
import { JOB_FIELDS, PROCESS_HISTORY, allHistory, day, listView, v2Episode, waitForJob } from './support';

const stack = useTestStack({ malSandbox: { rateLimit: false }, env: FAST_MAL_CLIENT });

const REVERT = `mutation($jobId: ID!, $dryRun: Boolean) { revertSync(jobId: $jobId, dryRun: $dryRun) { ${JOB_FIELDS} revertsJobId } }`;
const JOB_WITH_PLAN = `query($id: ID!) { syncJob(id: $id) { ${JOB_FIELDS} revertsJobId plan { malId before { status numEpisodesWatched } after { status numEpisodesWatched } } } }`;

const FRIEREN = { seriesId: 'GFRIEREN', seriesTitle: "Frieren: Beyond Journey's End", seasonId: 'GFR1', seasonTitle: "Frieren: Beyond Journey's End" };
const JJK = { seriesId: 'GJJK', seriesTitle: 'JUJUTSU KAISEN', seasonId: 'GJJK1', seasonTitle: 'JUJUTSU KAISEN' };

/** The user changing an entry on MAL themselves (MAL's own API, with their token). */
async function changeOnMal(userId: string, animeId: number, fields: Record<string, string>) {
  const { accessToken } = await loadMalTokens(userId);
  const response = await fetch(`${stack.malSandbox!.apiBaseUrl}/anime/${animeId}/my_list_status`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  expect(response.status).toBe(200);
}

async function revert(headers: Record<string, string>, jobId: string, dryRun = false) {
  const sent = await gql(stack, REVERT, { jobId, dryRun }, headers);
  expect(sent.errors).toBeUndefined();
  expect(sent.data!.revertSync).toMatchObject({ revertsJobId: jobId, dryRun, status: 'QUEUED' });
  await waitForJob(stack, headers, sent.data!.revertSync.jobId);
  return (await gql(stack, JOB_WITH_PLAN, { id: sent.data!.revertSync.jobId }, headers)).data!.syncJob;
}

describe('revertSync', () => {
  it('undoes a sync where MAL still shows it, leaves what the user changed since, and can be undone itself', async () => {
    const malUser = 'reverter';
    stack.malSandbox!.seedList(malUser, []);
    const user = await signIn(stack, malUser);
    const history = {
      data: [
        ...[1, 2, 3, 4].map((n) => v2Episode({ ...FRIEREN, episode: n, played: day(3 + n) })),
        ...[1, 2, 3].map((n) => v2Episode({ ...JJK, episode: n, played: day(10 + n) })),
      ],
    };
    const sent = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history) } }, user.headers);
    expect(sent.errors).toBeUndefined();
    const sync = await waitForJob(stack, user.headers, sent.data!.processHistory.jobId);
    expect(sync.status).toBe('SUCCEEDED');
    const changes = await allHistory(stack, user.headers, sync.jobId);
    expect(changes).toHaveLength(2);
    const frierenId = changes.find((c) => c.seasonKey.startsWith('GFRIEREN'))!.malId as number;
    const jjkId = changes.find((c) => c.seasonKey.startsWith('GJJK'))!.malId as number;
    const afterSync = listView(stack.malSandbox!.getList(malUser));
    expect(afterSync[frierenId]).toMatchObject({ status: 'watching', episodes: 4 });
    expect(afterSync[jjkId]).toMatchObject({ status: 'watching', episodes: 3 });

    // The user moves on with Frieren on MAL: that entry is theirs now.
    await changeOnMal(user.viewer.userId, frierenId, { num_watched_episodes: '7' });

    // A dry run lists the one change it would make and the conflict, and writes nothing.
    const preview = await revert(user.headers, sync.jobId, true);
    expect(preview.status).toBe('SUCCEEDED');
    expect(preview.plan).toEqual([{ malId: jjkId, before: { status: 'WATCHING', numEpisodesWatched: 3 }, after: { status: null, numEpisodesWatched: 0 } }]);
    expect(preview.errors).toEqual([expect.objectContaining({ errorType: 'Conflict', malId: frierenId })]);
    expect(listView(stack.malSandbox!.getList(malUser))[jjkId]).toMatchObject({ status: 'watching', episodes: 3 });

    // The revert: JJK, which the sync had added, leaves the list; Frieren stays as the user left it.
    const undone = await revert(user.headers, sync.jobId);
    expect(undone.status).toBe('PARTIAL');
    expect(undone.counts).toMatchObject({ planned: 1, applied: 1, failed: 0 });
    expect(undone.errors).toEqual([expect.objectContaining({ errorType: 'Conflict', malId: frierenId })]);
    const afterRevert = listView(stack.malSandbox!.getList(malUser));
    expect(afterRevert[jjkId]).toBeUndefined();
    expect(afterRevert[frierenId]).toMatchObject({ status: 'watching', episodes: 7 });
    const revertHistory = await allHistory(stack, user.headers, undone.jobId);
    expect(revertHistory).toEqual([expect.objectContaining({ malId: jjkId, before: expect.objectContaining({ status: 'WATCHING' }), after: expect.objectContaining({ status: null }) })]);

    // Reverting the revert puts JJK back as the sync had left it.
    const redone = await revert(user.headers, undone.jobId);
    expect(redone.status).toBe('SUCCEEDED');
    expect(listView(stack.malSandbox!.getList(malUser))[jjkId]).toMatchObject({ status: 'watching', episodes: 3 });

    // Only finished, real jobs of the caller's own can be reverted.
    const refused = await gql(stack, REVERT, { jobId: preview.jobId }, user.headers);
    expect(refused.errors?.[0]).toMatchObject({ errorType: 'ValidationError' });
    const other = await signIn(stack, 'bystander');
    const notTheirs = await gql(stack, REVERT, { jobId: sync.jobId }, other.headers);
    expect(notTheirs.errors?.[0]).toMatchObject({ errorType: 'NotFound' });
  });
});
