/**
 * CR's episode numbers against MAL's entries, end to end through GraphQL on the full catalog: numbers
 * that run on from a run MAL keeps apart, a second cour whose first season also lists a special as its
 * sequel, a season CR numbers on from its first part, and a season watched from mid-way. Each must land
 * on its own entry's episodes, never on a later sequel nor on the entry's last episodes.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FAST_MAL_CLIENT, gql, useTestStack } from '../support/stack';
import { signIn } from '../support/sign-in';
import { PROCESS_HISTORY, listView, v2Episode, waitForJob } from './support';

const catalog = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data/mal-catalog.jsonl.gz');
const stack = useTestStack({ malSandbox: { catalog, rateLimit: false }, env: FAST_MAL_CLIENT });

/** Episodes `from`…`to` of one CR season, aired weekly from `firstAired`, played one a day. */
function season(seriesId: string, seriesTitle: string, seasonTitle: string, seasonNumber: number, from: number, to: number, firstAired: string) {
  return Array.from({ length: to - from + 1 }, (_, k) =>
    v2Episode({
      seriesId,
      seriesTitle,
      seasonId: `${seriesId}S${seasonNumber}`,
      seasonTitle,
      seasonNumber,
      episode: from + k,
      airDate: new Date(Date.parse(`${firstAired}T15:00:00Z`) + k * 7 * 86_400_000).toISOString(),
      played: new Date(Date.UTC(2025, 4, 1 + k, 20)).toISOString(),
    }),
  );
}

describe('episode numbers through the sync', () => {
  it('writes each season to its own entry\'s episodes, whatever CR counted before it', async () => {
    const malUser = 'numbering';
    const user = await signIn(stack, malUser);
    const history = {
      data: [
        // Gintama' (MAL 9969, 51 episodes), numbered on from Gintama's 201.
        ...season('GGIN', 'Gintama', "Gintama'", 2, 202, 205, '2011-04-04'),
        // Mushoku Tensei Part 2 (MAL 45576), numbered on from Part 1's 11; Part 1 lists a special as a sequel too.
        ...season('GMUS', 'Mushoku Tensei: Jobless Reincarnation', 'Mushoku Tensei: Jobless Reincarnation Cour 2', 2, 12, 14, '2021-10-04'),
        // The Silver Soul arc's second half (MAL 37491, 14 episodes), numbered on from its first half's 12.
        ...season('GGIN', 'Gintama', 'Gintama. Silver Soul Arc - Second Half War', 9, 13, 15, '2018-07-09'),
        // Jujutsu Kaisen's season 2 (CR 25–47, MAL 51009) watched from episode 30 only: MAL's episodes 6–8.
        ...season('GJJK', 'JUJUTSU KAISEN', 'JUJUTSU KAISEN Season 2', 2, 30, 32, '2023-08-31'),
      ],
    };
    const sent = await gql(stack, PROCESS_HISTORY, { input: { history: JSON.stringify(history) } }, user.headers);
    expect(sent.errors).toBeUndefined();
    const job = await waitForJob(stack, user.headers, sent.data!.processHistory.jobId);
    expect(job.status, JSON.stringify(job.errors)).toBe('SUCCEEDED');
    expect(job.counts).toMatchObject({ seasons: 4, needsReview: 0, failed: 0 });

    const list = listView(stack.malSandbox!.getList(malUser));
    expect(list[9969]).toMatchObject({ status: 'watching', episodes: 4 });
    expect(list[45576]).toMatchObject({ status: 'watching', episodes: 3 });
    expect(list[37491]).toMatchObject({ status: 'watching', episodes: 3 });
    expect(list[51009]).toMatchObject({ status: 'watching', episodes: 8 });
    expect(Object.keys(list).sort()).toEqual(['37491', '45576', '51009', '9969']);
  });
});
