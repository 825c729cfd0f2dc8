// Gathers a chunked StoreSnapshot into one array: for callers that build from the whole set at
// once (the policy test world, a replica's GraphIndex.build).
import type { Relationship } from '../model/relationship.js';
import type { StoreSnapshot } from './store.js';

export async function collectSnapshot(snapshot: StoreSnapshot): Promise<Relationship[]> {
  const all: Relationship[] = [];
  for await (const chunk of snapshot.chunks()) for (const r of chunk) all.push(r);
  return all;
}
