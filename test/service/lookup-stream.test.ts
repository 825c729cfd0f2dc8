// GatehouseService.streamLookupResources against sinks that behave like transports: one that
// stops taking pages (a client not reading), one whose client goes away, and the event loop
// between pages. Behaviour only: which pages were produced, and when, never how fast.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeadlineExceededError } from '../../server/src/errors.js';
import { LOOKUP_IDS_PER_TURN, type LookupPageSink } from '../../server/src/service/lookup-page-sink.js';
import type { LookupResourcesResult } from '../../server/src/service/requests.js';
import { ctx, type Fixture, startService } from './fixture.js';

const DOCUMENTS = 40;
const PAGE = 4;
const PAGES = DOCUMENTS / PAGE + 1; // alice also sees the fixture's readme and plan: one more page

let f: Fixture;
beforeEach(async () => {
  f = await startService({ limits: { maxPageSize: PAGE } });
  await f.service.writeRelationships(
    {
      updates: Array.from({ length: DOCUMENTS }, (_, i) => ({
        operation: 'touch' as const,
        relationship: {
          resource: { type: 'document', id: `d${String(i).padStart(3, '0')}` },
          relation: 'viewer',
          subject: { type: 'user', id: 'alice' },
        },
      })),
    },
    ctx(),
  );
});
afterEach(() => f.service.close());

const params = {
  resourceType: 'document',
  permission: 'view',
  subject: { type: 'user', id: 'alice' },
  pageSize: PAGE,
};

/** Every id, paged with cursors through the unary call: what a stream must deliver too. */
async function pagedIds(): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await f.service.lookupResources({ ...params, cursor }, ctx());
    ids.push(...page.resourceIds);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

/** A sink recording pages; `full` makes write() report back-pressure until `drain()`. */
function recordingSink(options: { full?: boolean } = {}) {
  const pages: LookupResourcesResult[] = [];
  let waiting: (() => void) | undefined;
  let onWait: (() => void) | undefined;
  const sink = {
    closed: false as boolean,
    write(page: LookupResourcesResult): boolean {
      pages.push(page);
      return options.full !== true;
    },
    ready(): Promise<void> {
      return new Promise<void>((resolve) => {
        waiting = resolve;
        onWait?.();
      });
    },
  } satisfies LookupPageSink;
  return {
    sink,
    pages,
    /** Resolves once the service waits on ready(). */
    waited: (): Promise<void> =>
      new Promise<void>((resolve) => {
        if (waiting !== undefined) resolve();
        else onWait = resolve;
      }),
    drain(): void {
      const w = waiting;
      waiting = undefined;
      onWait = undefined;
      w?.();
    },
  };
}

describe('streamLookupResources', () => {
  it('delivers the same ids, in the same order, as paging with cursors', async () => {
    const r = recordingSink();
    await f.service.streamLookupResources(params, ctx(), r.sink);
    expect(r.pages).toHaveLength(PAGES);
    expect(r.pages.flatMap((p) => p.resourceIds)).toEqual(await pagedIds());
    expect(r.pages.at(-1)!.nextCursor).toBeUndefined();
  });

  it('makes no further page while the transport is full, and goes on once it drains', async () => {
    const r = recordingSink({ full: true });
    const done = f.service.streamLookupResources(params, ctx(), r.sink);
    let drains = 0;
    for (;;) {
      const settled = await Promise.race([done.then(() => true), r.waited().then(() => false)]);
      if (settled) break;
      const before = r.pages.length;
      // However long the client does not read, the service produces nothing more.
      for (let i = 0; i < 5; i++) await nextTurn();
      expect(r.pages).toHaveLength(before);
      drains++;
      r.drain();
    }
    expect(drains).toBe(PAGES - 1);
    expect(r.pages.flatMap((p) => p.resourceIds)).toEqual(await pagedIds());
  });

  it('stops making pages once the client has gone', async () => {
    const r = recordingSink();
    const write = r.sink.write.bind(r.sink);
    r.sink.write = (page) => {
      r.sink.closed = true; // the client cancels after its first page
      return write(page);
    };
    await f.service.streamLookupResources(params, ctx(), r.sink);
    expect(r.pages).toHaveLength(1);
  });

  it('does not walk the graph for a client that left during the consistency wait', async () => {
    const r = recordingSink();
    r.sink.closed = true;
    await f.service.streamLookupResources(params, ctx(), r.sink);
    expect(r.pages).toHaveLength(0);
  });

  it('gives the event loop back every few thousand ids, so other calls answer meanwhile', async () => {
    // A service of its own: enough ids for several turns, in pages of 1,000.
    const big = await startService({ limits: { maxPageSize: 1000, maxWriteUpdates: 20_000 } });
    try {
      const documents = 3 * LOOKUP_IDS_PER_TURN;
      await big.service.writeRelationships(
        {
          updates: Array.from({ length: documents }, (_, i) => ({
            operation: 'touch' as const,
            relationship: {
              resource: { type: 'document', id: `big${i}` },
              relation: 'viewer',
              subject: { type: 'user', id: 'dave' },
            },
          })),
        },
        ctx(),
      );
      const r = recordingSink();
      const seenAt: number[] = [];
      const write = r.sink.write.bind(r.sink);
      r.sink.write = (page) => {
        // Work queued now (as an incoming check would be) runs before many more pages are made.
        setImmediate(() => seenAt.push(r.pages.length));
        return write(page);
      };
      await big.service.streamLookupResources(
        { ...params, subject: { type: 'user', id: 'dave' }, pageSize: 1000 },
        ctx(),
        r.sink,
      );
      const pages = Math.ceil(documents / 1000);
      expect(r.pages).toHaveLength(pages);
      const pagesPerTurn = Math.ceil(LOOKUP_IDS_PER_TURN / 1000);
      seenAt.slice(0, pages - 1).forEach((seen, i) => {
        expect(seen).toBeLessThanOrEqual(i + 1 + pagesPerTurn);
      });
    } finally {
      big.service.close();
    }
  });

  it('gives up on a client that stops reading once the deadline passes', async () => {
    const r = recordingSink({ full: true });
    const err = await f.service.streamLookupResources(params, ctx({ ms: 50 }), r.sink).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect(r.pages).toHaveLength(1);
  });
});
