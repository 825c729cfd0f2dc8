// Builds the wire API's request messages (proto3 JSON / proto-loader camelCase objects) from
// sampled questions, and checks that an answer has the shape of a real decision.
import type { Question } from './types.js';

export interface WireSubject {
  readonly object: { readonly objectType: string; readonly objectId: string };
  readonly optionalRelation: string;
}

export interface WireCheckItem {
  readonly resource: { readonly objectType: string; readonly objectId: string };
  readonly permission: string;
  readonly subject: WireSubject;
}

export function subjectOf(q: Question): WireSubject {
  return {
    object: { objectType: q.subjectType, objectId: q.subjectId },
    optionalRelation: q.subjectRelation ?? '',
  };
}

export function checkItem(q: Question): WireCheckItem {
  return {
    resource: { objectType: q.resourceType, objectId: q.resourceId },
    permission: q.permission,
    subject: subjectOf(q),
  };
}

export function checkRequest(
  q: Question,
): WireCheckItem & { readonly consistency: { minimizeLatency: true } } {
  return { consistency: { minimizeLatency: true }, ...checkItem(q) };
}

/** `size` consecutive questions starting at `start`, wrapping around. */
export function batchRequest(
  questions: readonly Question[],
  start: number,
  size: number,
): { items: WireCheckItem[] } {
  const items: WireCheckItem[] = [];
  for (let i = 0; i < size; i++) items.push(checkItem(questions[(start + i) % questions.length]!));
  return { items };
}

export function lookupRequest(
  q: Question,
  pageSize: number,
  cursor: string,
): {
  resourceObjectType: string;
  permission: string;
  subject: WireSubject;
  pageSize: number;
  cursor: string;
} {
  return {
    resourceObjectType: q.resourceType,
    permission: q.permission,
    subject: subjectOf(q),
    pageSize,
    cursor,
  };
}

const DECIDED = new Set(['PERMISSIONSHIP_HAS_PERMISSION', 'PERMISSIONSHIP_NO_PERMISSION']);

/** Throws unless `body` is a CheckResponse carrying a decision. */
export function expectCheckResponse(body: unknown): void {
  const p = (body as { permissionship?: unknown } | null)?.permissionship;
  if (typeof p !== 'string' || !DECIDED.has(p))
    throw new Error(`check answer without a decision: ${preview(body)}`);
}

/** Throws unless `body` is a CheckBatchResponse with `size` decided results; returns the count. */
export function expectBatchResponse(body: unknown, size: number): number {
  const results = (body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results) || results.length !== size) {
    throw new Error(
      `batch answer has ${Array.isArray(results) ? results.length : 'no'} results, expected ${size}`,
    );
  }
  for (const r of results) {
    const p = (r as { permissionship?: unknown }).permissionship;
    if (typeof p !== 'string' || !DECIDED.has(p))
      throw new Error(`batch item without a decision: ${preview(r)}`);
  }
  return size;
}

/** Throws unless `body` is a LookupResourcesResponse; returns its ids and cursor. */
export function expectLookupPage(body: unknown): { ids: number; nextCursor: string } {
  const page = body as { resourceObjectIds?: unknown; nextCursor?: unknown } | null;
  if (!Array.isArray(page?.resourceObjectIds)) throw new Error(`lookup answer without ids: ${preview(body)}`);
  return {
    ids: page.resourceObjectIds.length,
    nextCursor: typeof page.nextCursor === 'string' ? page.nextCursor : '',
  };
}

function preview(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}
