// Encoded LookupResources pages, kept per page: the engine hands out the same page object (and
// the same id array) every time a cached answer's page is read (engine/lookup-cache.ts), so the
// protobuf bytes or JSON text of a page is made once and reused for every caller that reads it
// until the answer leaves the engine's cache (a WeakMap drops it with the page). A profile of
// 16 concurrent listings put encoding 10k ids per lookup (protobufjs writing each string, or
// JSON.stringify) beside the walk itself.
//
// Each entry remembers the cursor and token it was made with and is used only when both match,
// so a reused body is byte for byte what encoding the result again would give.
import type protobuf from 'protobufjs';
import type { LookupResourcesResult } from '../../service/requests.js';
import { encodeLookupResources } from './encode.js';

interface Encoded<T> {
  readonly nextCursor: string | undefined;
  readonly token: string;
  readonly body: T;
}

const jsonBodies = new WeakMap<readonly string[], Encoded<string>>();
const protoBodies = new WeakMap<readonly string[], Encoded<Uint8Array>>();

function reusable<T>(kept: Encoded<T> | undefined, r: LookupResourcesResult): kept is Encoded<T> {
  return kept !== undefined && kept.nextCursor === r.nextCursor && kept.token === r.token;
}

/** A page with conditional results is encoded each time: it is not a slice of a kept answer. */
function hasConditional(r: LookupResourcesResult): boolean {
  return r.conditional !== undefined && r.conditional.length > 0;
}

/** The page's proto3 JSON text, as JSON.stringify(encodeLookupResources(r)) gives it. */
export function lookupResourcesJson(r: LookupResourcesResult): string {
  if (hasConditional(r)) return JSON.stringify(encodeLookupResources(r));
  const kept = jsonBodies.get(r.resourceIds);
  if (reusable(kept, r)) return kept.body;
  const body = JSON.stringify(encodeLookupResources(r));
  jsonBodies.set(r.resourceIds, { nextCursor: r.nextCursor, token: r.token, body });
  return body;
}

/** The page as a serialized LookupResourcesResponse (`type`), as `type.encode` gives it. */
export function lookupResourcesProto(type: protobuf.Type, r: LookupResourcesResult): Uint8Array {
  if (hasConditional(r)) return type.encode(encodeLookupResources(r)).finish();
  const kept = protoBodies.get(r.resourceIds);
  if (reusable(kept, r)) return kept.body;
  const body = type.encode(encodeLookupResources(r)).finish();
  protoBodies.set(r.resourceIds, { nextCursor: r.nextCursor, token: r.token, body });
  return body;
}
