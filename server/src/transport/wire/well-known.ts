// google.protobuf.Struct and Timestamp in the two forms the transports carry: proto3 JSON (a plain
// JSON object, an RFC 3339 string) over HTTP, protobufjs messages (`{fields: {k: Value}}`,
// `{seconds, nanos}`) over gRPC. protobufjs has no wrappers for them, so each dialect converts here.
import { RequestFieldError } from '../../errors.js';
import { parseTimestamp } from '../../model/relationship.js';

/** A JSON object of parameter values, as conditions and request context hold them. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** How one transport's messages carry the well-known types, in both directions. */
export interface WellKnownDialect {
  /** A Struct field → a JSON object; undefined when unset. INVALID_ARGUMENT naming `field`. */
  readStruct(v: unknown, field: string): JsonObject | undefined;
  /** A Timestamp field → ms since the epoch; undefined when unset. */
  readTimestamp(v: unknown, field: string): number | undefined;
  writeStruct(o: JsonObject): unknown;
  writeTimestamp(ms: number): unknown;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 3339's range (years 0001-9999), as proto3's Timestamp allows. */
const MIN_MS = -62_135_596_800_000; // 0001-01-01T00:00:00Z
const MAX_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

function checkRange(ms: number, field: string): number {
  if (ms < MIN_MS || ms > MAX_MS) {
    throw new RequestFieldError(field, (f) => `${f} must be between years 0001 and 9999`);
  }
  return ms;
}

export const JSON_DIALECT: WellKnownDialect = {
  readStruct(v, field) {
    if (v === undefined || v === null) return undefined;
    if (isPlainObject(v)) return v;
    throw new RequestFieldError(field, (f) => `${f} must be a JSON object of parameter values`);
  },
  readTimestamp(v, field) {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') {
      throw new RequestFieldError(
        field,
        (f) => `${f} must be an RFC 3339 string such as '2026-12-31T00:00:00Z'`,
      );
    }
    return checkRange(parseTimestamp(v, field), field);
  },
  writeStruct: (o) => o,
  writeTimestamp: (ms) => new Date(ms).toISOString(),
};

/** protobufjs decodes 64-bit integers as Long (or number, or string, depending on its options). */
function int64(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (typeof v === 'object' && v !== null && 'toNumber' in v && typeof v.toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return 0;
}

function fromValue(v: unknown): unknown {
  const m = v as Record<string, unknown> | null | undefined;
  if (m == null) return null;
  // `kind` is protobufjs's virtual oneof: the name of the member that is set.
  switch (m.kind) {
    case 'numberValue':
      return m.numberValue;
    case 'stringValue':
      return m.stringValue;
    case 'boolValue':
      return m.boolValue;
    case 'structValue':
      return fromStruct(m.structValue);
    case 'listValue': {
      const values = (m.listValue as { values?: unknown[] } | null)?.values ?? [];
      return values.map(fromValue);
    }
    default:
      return null;
  }
}

function fromStruct(v: unknown): Record<string, unknown> {
  const fields = (v as { fields?: Record<string, unknown> } | null)?.fields ?? {};
  // fromEntries defines own properties: a parameter named `__proto__` stays a parameter.
  return Object.fromEntries(Object.entries(fields).map(([k, value]) => [k, fromValue(value)]));
}

function toValue(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return { nullValue: 0 };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  if (typeof v === 'object') return { structValue: toStruct(v as JsonObject) };
  // bigint, function, symbol never come from JSON; carry them as their string form.
  return { stringValue: String(v) };
}

function toStruct(o: JsonObject): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(o)) {
    Object.defineProperty(fields, k, { value: toValue(value), enumerable: true, writable: true });
  }
  return { fields };
}

export const PROTOBUF_DIALECT: WellKnownDialect = {
  readStruct(v) {
    if (v === undefined || v === null) return undefined;
    return fromStruct(v);
  },
  readTimestamp(v, field) {
    if (v === undefined || v === null) return undefined;
    const t = v as { seconds?: unknown; nanos?: unknown };
    const nanos = typeof t.nanos === 'number' ? t.nanos : 0;
    if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
      throw new RequestFieldError(`${field}.nanos`, (f) => `${f} must be 0-999999999`);
    }
    return checkRange(int64(t.seconds) * 1000 + Math.floor(nanos / 1e6), field);
  },
  writeStruct: toStruct,
  writeTimestamp(ms) {
    const seconds = Math.floor(ms / 1000);
    return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
  },
};
