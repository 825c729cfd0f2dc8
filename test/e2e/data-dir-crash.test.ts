// `gatehouse serve --data-dir`: concurrent writers count every acknowledged write, the server
// is killed with SIGKILL mid-load, restarted on the same directory, and every acknowledged write
// must be there, with the tokens issued before the crash still valid (same epoch, same revisions).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRevisionToken } from '../../server/src/service/revision-token.js';
import { type GatehouseProcess, startGatehouse, TOKEN } from './support/gatehouse-process.js';

const WRITERS = 4;
const KILL_AFTER_ACKS = 150;

describe('serve --data-dir survives kill -9 under write load', () => {
  let dir = '';
  const running: GatehouseProcess[] = [];
  afterAll(async () => {
    for (const p of running) await p.stop('SIGKILL');
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  function post(server: GatehouseProcess, path: string, body: unknown): Promise<Response> {
    return fetch(`http://${server.http}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  const member = (group: string, user: string) => ({
    resource: { objectType: 'group', objectId: group },
    relation: 'member',
    subject: { object: { objectType: 'user', objectId: user } },
  });

  it('keeps every acknowledged write and the revision tokens across a crash', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-datadir-e2e-'));
    const first = await startGatehouse({ args: ['--data-dir', dir] });
    running.push(first);
    const acked: { user: string; token: string }[] = [];
    let stop = false;
    // Resolved by the write that brings the count to KILL_AFTER_ACKS: the kill waits for the
    // writes, not for a time budget (a polled 30 s could run out on a loaded machine).
    let onEnoughAcked: () => void = () => undefined;
    const enoughAcked = new Promise<void>((resolve) => {
      onEnoughAcked = resolve;
    });
    const writer = async (w: number): Promise<void> => {
      for (let n = 0; !stop && n < 10_000; n++) {
        const user = `w${w}-${n}`;
        try {
          const response = await post(first, '/v1/relationships/write', {
            updates: [{ operation: 'OPERATION_TOUCH', relationship: member('load', user) }],
          });
          if (response.status !== 200) return;
          const body = (await response.json()) as { writtenAt: { token: string } };
          acked.push({ user, token: body.writtenAt.token });
          if (acked.length === KILL_AFTER_ACKS) onEnoughAcked();
        } catch {
          return; // the connection died with the process: this write was never acknowledged
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    // Or every writer stopped first (a refused write): then the count below says so.
    await Promise.race([enoughAcked, Promise.all(writers)]);
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    await first.stop('SIGKILL'); // mid-load: the writers are still sending
    stop = true;
    await Promise.all(writers);
    const acknowledged = [...acked];

    const second = await startGatehouse({ args: ['--data-dir', dir] });
    running.push(second);
    const missing: string[] = [];
    for (let i = 0; i < acknowledged.length; i += 50) {
      const answers = await Promise.all(
        acknowledged.slice(i, i + 50).map(async ({ user, token }) => {
          // Each write's own token must still be accepted: the epoch and revision carried over.
          const response = await post(second, '/v1/check', {
            resource: { objectType: 'group', objectId: 'load' },
            permission: 'member',
            subject: { object: { objectType: 'user', objectId: user } },
            consistency: { atLeastAsFresh: { token } },
          });
          const body = (await response.json()) as { permissionship?: string };
          return {
            user,
            ok: response.status === 200 && body.permissionship === 'PERMISSIONSHIP_HAS_PERMISSION',
          };
        }),
      );
      for (const a of answers) if (!a.ok) missing.push(a.user);
    }
    expect(missing).toEqual([]);
    // New writes continue after every revision acknowledged before the crash.
    const after = await post(second, '/v1/relationships/write', {
      updates: [{ operation: 'OPERATION_TOUCH', relationship: member('load', 'after-restart') }],
    });
    expect(after.status).toBe(200);
    const decode = (token: string) => decodeRevisionToken(token, 'token');
    const next = decode(((await after.json()) as { writtenAt: { token: string } }).writtenAt.token);
    const before = acknowledged.map((a) => decode(a.token));
    expect(new Set(before.map((t) => t.epoch))).toEqual(new Set([next.epoch]));
    expect(next.revision).toBeGreaterThan(Math.max(...before.map((t) => t.revision)));
    expect(await second.stop()).toBe(0);
  }, 90_000);
});
