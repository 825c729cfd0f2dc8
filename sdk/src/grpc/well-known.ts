// Struct and Timestamp between their proto3 JSON form (what the client core builds and reads: a
// plain JSON object, an RFC 3339 string) and the message form protobufjs's fromObject/toObject
// use (`{fields: {k: Value}}`, `{seconds, nanos}`). protobufjs converts neither, and registering
// global wrappers would change how the host application's own protobufjs treats these types.
import type protobuf from 'protobufjs';

type Json = Record<string, unknown>;

interface Converter {
  /** proto3 JSON → fromObject input. */
  readonly toMessage: (v: unknown) => unknown;
  /** toObject output → proto3 JSON. */
  readonly toJson: (v: unknown) => unknown;
}

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function valueToMessage(v: unknown): Json {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(valueToMessage) } };
  if (isRecord(v)) return { structValue: structToMessage(v) };
  return { stringValue: String(v) };
}

function structToMessage(v: unknown): Json {
  const fields: Json = {};
  if (isRecord(v)) {
    for (const [k, value] of Object.entries(v)) {
      // defineProperty: a parameter named `__proto__` stays a parameter.
      Object.defineProperty(fields, k, { value: valueToMessage(value), enumerable: true, writable: true });
    }
  }
  return { fields };
}

function valueToJson(v: unknown): unknown {
  if (!isRecord(v)) return null;
  if ('numberValue' in v) return Number(v.numberValue);
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('structValue' in v) return structToJson(v.structValue);
  if ('listValue' in v) {
    const values = isRecord(v.listValue) && Array.isArray(v.listValue.values) ? v.listValue.values : [];
    return values.map(valueToJson);
  }
  return null;
}

function structToJson(v: unknown): Json {
  const fields = isRecord(v) && isRecord(v.fields) ? v.fields : {};
  return Object.fromEntries(Object.entries(fields).map(([k, value]) => [k, valueToJson(value)]));
}

function timestampToMessage(v: unknown): Json {
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  // An unreadable time is the server's to refuse; the epoch would silently mean 1970.
  if (Number.isNaN(ms)) return { seconds: 0, nanos: -1 };
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
}

function timestampToJson(v: unknown): string | undefined {
  if (!isRecord(v)) return undefined;
  const seconds = Number(v.seconds ?? 0);
  const nanos = Number(v.nanos ?? 0);
  const ms = seconds * 1000 + Math.floor(nanos / 1e6);
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : undefined;
}

const CONVERTERS: Readonly<Record<string, Converter>> = {
  '.google.protobuf.Struct': { toMessage: structToMessage, toJson: structToJson },
  '.google.protobuf.Timestamp': { toMessage: timestampToMessage, toJson: timestampToJson },
};

/** The fields of a message type that hold a well-known type, directly or deeper down. */
interface Plan {
  readonly fields: readonly {
    readonly name: string;
    readonly repeated: boolean;
    readonly converter?: Converter | undefined;
    readonly nested?: Plan | undefined;
  }[];
}

const plans = new WeakMap<protobuf.Type, Plan>();

function planOf(type: protobuf.Type, visiting = new Set<protobuf.Type>()): Plan {
  const known = plans.get(type);
  if (known !== undefined) return known;
  if (visiting.has(type)) return { fields: [] }; // a recursive message (ExplainNode) adds nothing new
  visiting.add(type);
  const fields: Plan['fields'][number][] = [];
  for (const field of type.fieldsArray) {
    const nested = field.resolvedType;
    if (nested === null || !('fieldsArray' in nested)) continue;
    const converter = CONVERTERS[nested.fullName];
    const repeated = field.repeated;
    if (converter !== undefined) fields.push({ name: field.name, repeated, converter });
    else {
      const plan = planOf(nested, visiting);
      if (plan.fields.length > 0) fields.push({ name: field.name, repeated, nested: plan });
    }
  }
  visiting.delete(type);
  const plan = { fields };
  plans.set(type, plan);
  return plan;
}

function convert(plan: Plan, message: unknown, toMessage: boolean): unknown {
  if (!isRecord(message) || plan.fields.length === 0) return message;
  let out: Json | undefined;
  for (const f of plan.fields) {
    const v = message[f.name];
    if (v === undefined || v === null) continue;
    const one = (x: unknown): unknown =>
      f.converter !== undefined
        ? toMessage
          ? f.converter.toMessage(x)
          : f.converter.toJson(x)
        : convert(f.nested as Plan, x, toMessage);
    out ??= { ...message };
    out[f.name] = f.repeated && Array.isArray(v) ? v.map(one) : one(v);
  }
  return out ?? message;
}

/** A proto3 JSON message of `type` in the form protobufjs's fromObject reads. */
export function jsonToMessageObject(type: protobuf.Type, message: Readonly<Json>): Json {
  return convert(planOf(type), message, true) as Json;
}

/** What protobufjs's toObject gave for `type`, in proto3 JSON form. */
export function messageObjectToJson(type: protobuf.Type, object: Readonly<Json>): Json {
  return convert(planOf(type), object, false) as Json;
}
