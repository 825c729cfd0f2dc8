// The rare parts of a relationship the memory store keeps beside its rows of numbers: a condition
// (name and stored parameter values) and an expiry. Most relationships have neither, so they live
// in numbered, reference-counted slots that a row or a retained change points at, and cost the
// other rows nothing.
import type { Relationship, RelationshipCondition } from '../model/relationship.js';

/** A relationship's condition and expiry, frozen (the context deeply) so it can be shared safely. */
export interface RelationshipAttributes {
  readonly condition?: RelationshipCondition | undefined;
  readonly expiresAt?: number | undefined;
}

/** `value` (a JSON value) copied and frozen all the way down. */
function frozenJson(value: unknown): unknown {
  if (Array.isArray(value)) return Object.freeze(value.map(frozenJson));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = frozenJson(v);
    return Object.freeze(out);
  }
  return value;
}

/** JSON with object keys sorted, so contexts equal as values compare equal as strings. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The attributes of `r` as a frozen copy, or undefined when it has none. */
export function attributesOf(r: Relationship): RelationshipAttributes | undefined {
  if (r.condition === undefined && r.expiresAt === undefined) return undefined;
  const out: { condition?: RelationshipCondition; expiresAt?: number } = {};
  if (r.condition !== undefined) {
    const { name, context } = r.condition;
    out.condition = Object.freeze(
      context === undefined
        ? { name }
        : { name, context: frozenJson(context) as Readonly<Record<string, unknown>> },
    );
  }
  if (r.expiresAt !== undefined) out.expiresAt = r.expiresAt;
  return Object.freeze(out);
}

/** Whether two relationships carry the same condition (name and stored values) and expiry. */
export function sameAttributes(
  a: RelationshipAttributes | undefined,
  b: RelationshipAttributes | undefined,
): boolean {
  if (a?.expiresAt !== b?.expiresAt) return false;
  const ca = a?.condition;
  const cb = b?.condition;
  if (ca === undefined || cb === undefined) return ca === cb;
  if (ca.name !== cb.name) return false;
  const empty = (c: RelationshipCondition): boolean =>
    c.context === undefined || Object.keys(c.context).length === 0;
  if (empty(ca) || empty(cb)) return empty(ca) && empty(cb);
  return canonicalJson(ca.context) === canonicalJson(cb.context);
}

/** Numbered attribute values with reference counts; a number is reused once nothing holds it. */
export class AttributeSlots {
  private readonly values: (RelationshipAttributes | undefined)[] = [];
  private readonly refs: number[] = [];
  private readonly free: number[] = [];

  /** How many attribute values are held. */
  get size(): number {
    return this.values.length - this.free.length;
  }

  /** A new number for `value` (already frozen), with one reference. */
  acquire(value: RelationshipAttributes): number {
    const slot = this.free.pop() ?? this.values.length;
    this.values[slot] = value;
    this.refs[slot] = 1;
    return slot;
  }

  get(slot: number): RelationshipAttributes {
    return this.values[slot] as RelationshipAttributes;
  }

  retain(slot: number): void {
    this.refs[slot] = (this.refs[slot] as number) + 1;
  }

  release(slot: number): void {
    const left = (this.refs[slot] as number) - 1;
    this.refs[slot] = left;
    if (left > 0) return;
    this.values[slot] = undefined;
    this.free.push(slot);
  }
}
