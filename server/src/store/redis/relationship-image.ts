// A relationship image: the whole relationship set of a store at one revision, as a RedisStore
// keeps it in Redis for replicas to start their mirror from (docs/redis.md, "Images"). It is
// kept by a GraphSnapshotCache in a namespace of its own, so it has the cache's chunking, lease,
// checksums and pruning. Each part is one snapshot chunk's relationships in the store's
// stored form (`member[attributes]`, one per line), deflated: the lines repeat types and ids, so
// a part is about a fifth of its text.
import { promisify } from 'node:util';
import { deflateRaw, inflateRaw } from 'node:zlib';
import type { Relationship } from '../../model/relationship.js';
import type { StoreSnapshot } from '../store.js';
import { attributesOf, parseStoredRelationship, resourceMember } from './redis-layout.js';

export { IMAGE_NAMESPACE, IMAGE_SCHEMA_HASH } from './redis-layout.js';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/** The image's parts, one per snapshot chunk, compressed off the event loop. */
export async function* encodeImage(snapshot: StoreSnapshot): AsyncIterable<Uint8Array> {
  for await (const chunk of snapshot.chunks()) {
    if (chunk.length === 0) continue;
    const lines = chunk.map((r) => resourceMember(r) + attributesOf(r)).join('\n');
    yield await deflate(Buffer.from(lines, 'utf8'));
  }
}

/**
 * The relationships of an image's parts, a part at a time. Throws if a part does not inflate
 * (the cache's checksum makes that a bug, not corruption in Redis).
 */
export async function* decodeImage(parts: readonly Uint8Array[]): AsyncIterable<Relationship[]> {
  for (const part of parts) {
    if (part.byteLength === 0) continue;
    const text = (await inflate(part)).toString('utf8');
    if (text === '') continue;
    yield text.split('\n').map(parseStoredRelationship);
  }
}
