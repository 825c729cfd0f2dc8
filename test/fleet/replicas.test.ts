// Three `gatehouse serve` processes on one Redis: a write through one is visible through the
// others, a check carrying the write's token sees it on any replica, compare-and-set writers
// lose no update, and a randomized history keeps read-your-writes, monotonic reads and a final
// state equal to the replay of every acknowledged write in revision order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatehouseClient } from '../e2e/support/sdk.js';
import { type GatehouseFleet, startFleet } from '../support/gatehouse-fleet.js';
import { RedisServer } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';
import { clientFor, readAll, tokenRevision } from './support.js';

let redis: RedisServer;
let fleet: GatehouseFleet;
let clients: GatehouseClient[];

beforeAll(async () => {
  redis = await RedisServer.start({ config: { appendonly: 'yes', appendfsync: 'always' } });
  fleet = await startFleet({ redisUrl: redis.url, store: 'fleet' });
  clients = fleet.replicas.map((r) => clientFor(r));
}, 120_000);

afterAll(async () => {
  await Promise.all((clients ?? []).map((c) => c.close()));
  await fleet?.stop();
  await redis?.stop();
});

describe('three replicas on one Redis', () => {
  it('every replica answers from the same seeded relationships', async () => {
    for (const client of clients) {
      await expect(client.check('contact:prospect1#view@user:mike')).resolves.toMatchObject({
        allowed: true,
      });
    }
    const sets = await Promise.all(clients.map((c) => readAll(c, 'group')));
    expect(sets[1]).toEqual(sets[0]);
    expect(sets[2]).toEqual(sets[0]);
  });

  it('a write through one replica becomes visible through the others', async () => {
    await clients[0]!.write({ touch: ['contact:visible1#owner@user:vera'] });
    for (const client of clients.slice(1)) {
      await waitUntil(
        'the write to reach another replica',
        async () => (await client.check('contact:visible1#view@user:vera')).allowed,
      );
    }
  });

  it("with the write's token, a check on another replica sees the write at once", async () => {
    for (let i = 0; i < 20; i++) {
      const writer = clients[i % 3]!;
      const reader = clients[(i + 1) % 3]!;
      const { writtenAt } = await writer.write({ touch: [`contact:tok${i}#owner@user:t${i}`] });
      const result = await reader.check(`contact:tok${i}#view@user:t${i}`, {
        consistency: { atLeastAsFresh: writtenAt },
      });
      expect(result.allowed).toBe(true);
      expect(tokenRevision(result.checkedAt)).toBeGreaterThanOrEqual(tokenRevision(writtenAt));
    }
  });

  it('compare-and-set writers on different replicas lose no update', async () => {
    const counter = (n: number): string => `group:counter#member@user:v${n}`;
    await clients[0]!.write({ touch: [counter(0)] });
    const perWriter = 8;
    const increment = async (client: GatehouseClient): Promise<void> => {
      for (let done = 0; done < perWriter; ) {
        const [current] = await readAll(client, 'group', 'counter');
        const n = Number(current!.slice(current!.lastIndexOf(':v') + 2));
        try {
          await client.write({
            delete: [counter(n)],
            create: [counter(n + 1)],
            preconditions: [
              {
                operation: 'must-match',
                filter: {
                  resourceType: 'group',
                  resourceId: 'counter',
                  relation: 'member',
                  subjectType: 'user',
                  subjectId: `v${n}`,
                },
              },
            ],
          });
          done += 1;
        } catch (err) {
          const name = (err as Error).name;
          if (name !== 'FailedPreconditionError' && name !== 'AlreadyExistsError' && name !== 'AbortedError')
            throw err;
        }
      }
    };
    await Promise.all(clients.map((c) => increment(c)));
    const final = await readAll(clients[1]!, 'group', 'counter');
    expect(final).toEqual([`group:counter#member@user:v${perWriter * 3}`]);
  });
});

describe('a randomized history across three replicas', () => {
  it('keeps read-your-writes, monotonic reads, and replays to the final state', async () => {
    let seed = 20261204;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    interface Ack {
      readonly revision: number;
      readonly op: 'touch' | 'delete';
      readonly rel: string;
    }
    const acks: Ack[] = [];
    const violations: string[] = [];
    const CLIENTS = 4;
    const OPS = 60;
    const run = async (id: number): Promise<void> => {
      // Each client owns some subjects (checked for read-your-writes) and shares a pool with the others.
      const mine = new Map<string, boolean>();
      let lastToken = '';
      let lastSeen = 0;
      for (let op = 0; op < OPS; op++) {
        const client = clients[random(3)]!;
        const own = random(2) === 0;
        const user = own ? `c${id}u${random(4)}` : `shared${random(4)}`;
        const rel = `group:hist#member@user:${user}`;
        if (random(3) > 0) {
          const kind = random(2) === 0 ? 'touch' : 'delete';
          const { writtenAt } = await client.write(kind === 'touch' ? { touch: [rel] } : { delete: [rel] });
          const revision = tokenRevision(writtenAt);
          acks.push({ revision, op: kind, rel });
          if (own) mine.set(user, kind === 'touch');
          lastToken = writtenAt;
        } else {
          const check = await client.check(`group:hist#member@user:${user}`, {
            consistency: lastToken === '' ? 'minimize-latency' : { atLeastAsFresh: lastToken },
          });
          const seen = tokenRevision(check.checkedAt);
          if (seen < lastSeen) violations.push(`client ${id}: read at ${seen} after one at ${lastSeen}`);
          lastSeen = Math.max(lastSeen, seen);
          if (lastToken !== '') lastToken = check.checkedAt;
          if (own && mine.has(user) && check.allowed !== mine.get(user)) {
            violations.push(`client ${id}: ${user} read ${check.allowed} after writing ${mine.get(user)}`);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => run(i)));
    expect(violations).toEqual([]);
    // Each acknowledged write has its own revision; replayed in order they give the final state.
    expect(new Set(acks.map((a) => a.revision)).size).toBe(acks.length);
    const state = new Set<string>();
    for (const ack of [...acks].sort((a, b) => a.revision - b.revision)) {
      if (ack.op === 'touch') state.add(ack.rel);
      else state.delete(ack.rel);
    }
    const expected = [...state].sort();
    for (const client of clients) expect(await readAll(client, 'group', 'hist')).toEqual(expected);
  });
});
