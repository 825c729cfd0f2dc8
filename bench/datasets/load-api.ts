// Loads a dataset into a running Gatehouse through POST /v1/relationships/write, in batches of
// touch updates with a few writes in flight, the way a user would seed a sidecar.
import { parseRelationship, type Relationship } from '../../server/src/model/relationship.js';
import { createPool } from '../harness/clients/http-pool.js';
import type { Endpoint } from '../harness/types.js';

export interface LoadOptions {
  /** Updates per write; must not exceed the server's --max-write-updates. */
  readonly batchSize?: number;
  /** Writes in flight. */
  readonly concurrency?: number;
  readonly token?: string | undefined;
  /** Called after each committed batch with the running total. */
  readonly onProgress?: ((loaded: number) => void) | undefined;
}

function wire(r: Relationship): unknown {
  return {
    resource: { objectType: r.resource.type, objectId: r.resource.id },
    relation: r.relation,
    subject: {
      object: { objectType: r.subject.type, objectId: r.subject.id },
      optionalRelation: r.subject.relation ?? '',
    },
  };
}

/** Write every relationship; resolves with the count written. */
export async function loadThroughApi(
  http: Endpoint,
  relationships: Iterable<string>,
  options: LoadOptions = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  const concurrency = options.concurrency ?? 4;
  const pool = createPool(http, concurrency);
  // A generous deadline: on a busy shared machine a 10,000-update write queued behind others can
  // take longer than the server's 5 s default, and a failed load aborts the whole bench.
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'gatehouse-timeout-ms': '120000',
  };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const iterator = relationships[Symbol.iterator]();
  let loaded = 0;

  function nextBatch(): unknown[] | undefined {
    const updates: unknown[] = [];
    while (updates.length < batchSize) {
      const next = iterator.next();
      if (next.done) break;
      updates.push({ operation: 'OPERATION_TOUCH', relationship: wire(parseRelationship(next.value)) });
    }
    return updates.length === 0 ? undefined : updates;
  }

  async function writer(): Promise<void> {
    for (let updates = nextBatch(); updates !== undefined; updates = nextBatch()) {
      const res = await pool.request({
        method: 'POST',
        path: '/v1/relationships/write',
        headers,
        body: JSON.stringify({ updates }),
      });
      const text = await res.body.text();
      if (res.statusCode !== 200)
        throw new Error(`loading relationships failed: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
      loaded += updates.length;
      options.onProgress?.(loaded);
    }
  }

  try {
    await Promise.all(Array.from({ length: concurrency }, writer));
  } finally {
    await pool.close();
  }
  return loaded;
}
