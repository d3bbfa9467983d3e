/**
 * 200 concurrent subscribers on one machine: 200 WebSocket connections, each its own user and job, each
 * receiving every event of its own job, in order, and nothing else. Bounded: 10 events per job.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestUser, useTestStack } from '../support/stack';
import { publishSyncProgress } from '../../functions/shared/progress-publisher';
import { RealtimeClient, tokenHeader } from './support';

const SUBSCRIBERS = 200;
const EVENTS_PER_JOB = 10;
const PUBLISH_CONCURRENCY = 25;

const stack = useTestStack({ console: false });
const clients: RealtimeClient[] = [];

// Runs before the stack's stop (hooks after all run in reverse order).
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

async function inBatches<T, R>(items: T[], size: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) {
        const index = next++;
        out[index] = await work(items[index]!, index);
      }
    }),
  );
  return out;
}

describe('real-time under load', () => {
  it(`delivers every event of its own job, in order, to each of ${SUBSCRIBERS} subscribers`, { timeout: 120_000 }, async () => {
    const users = await inBatches(Array.from({ length: SUBSCRIBERS }), 20, () => createTestUser(stack));
    const jobs = users.map(() => `job-${randomUUID()}`);

    const connectStarted = Date.now();
    await inBatches(users, 25, async (user, i) => {
      const auth = tokenHeader(stack.graphqlUrl, user.token);
      const client = await RealtimeClient.connect(stack.realtimeUrl, auth, i % 2 === 0 ? 'query' : 'subprotocol');
      clients[i] = client;
      expect((await client.init(10_000)).type).toBe('connection_ack');
      const ack = await client.start('p', 'subscription($j: ID) { onSyncProgress(jobId: $j) { jobId userId seq processed } }', { j: jobs[i] }, auth, 10_000);
      expect(ack.type).toBe('start_ack');
    });
    const connectMs = Date.now() - connectStarted;
    expect(stack.realtime.subscriptionCount).toBe(SUBSCRIBERS);

    const publishStarted = Date.now();
    await inBatches(users, PUBLISH_CONCURRENCY, async (user, i) => {
      for (let seq = 1; seq <= EVENTS_PER_JOB; seq++) {
        await publishSyncProgress(stack.graphqlUrl, stack.iam.region, stack.iam.credentials, {
          jobId: jobs[i]!,
          userId: user.userId,
          seq,
          status: seq === EVENTS_PER_JOB ? 'SUCCEEDED' : 'RUNNING',
          phase: 'APPLYING',
          processed: seq,
          total: EVENTS_PER_JOB,
        });
      }
    });
    const received = await Promise.all(clients.map((c) => c.waitForCount((m) => m.type === 'data', EVENTS_PER_JOB, 30_000)));
    const durationMs = Date.now() - publishStarted;

    let delivered = 0;
    received.forEach((messages, i) => {
      const events = messages.map((m) => m.payload.data.onSyncProgress);
      delivered += events.length;
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: EVENTS_PER_JOB }, (_, k) => k + 1));
      expect(new Set(events.map((e) => `${e.jobId}/${e.userId}`))).toEqual(new Set([`${jobs[i]}/${users[i]!.userId}`]));
    });
    // Nothing extra arrived anywhere after the last expected event.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const extra = clients.reduce((n, c) => n + c.messages.filter((m) => m.type === 'data').length, 0) - delivered;
    const expected = SUBSCRIBERS * EVENTS_PER_JOB;
    console.log(`[load] ${SUBSCRIBERS} subscribers: connected+subscribed in ${connectMs} ms; ${delivered}/${expected} events delivered in order, ${extra} extra, in ${durationMs} ms (${Math.round((expected / durationMs) * 1000)} events/s)`);
    expect(delivered).toBe(expected);
    expect(extra).toBe(0);
  });
});
