// Rejects JSON request fields the contract does not define. Proto3 JSON parsers may ignore them,
// but for an authorization API a silently ignored field is a silent downgrade: a misspelt
// `fullyConsistant` would answer from a stale graph, a snake_case `optional_subject_relation`
// would widen a filter. The field names come from the same proto the gRPC codecs use.
import type protobuf from 'protobufjs';
import { InvalidArgumentError } from '../../errors.js';
import { closestName } from '../../schema/did-you-mean.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Throws InvalidArgumentError naming the first field of `body` (depth first, in key order) that
 * `type` does not declare, with the closest declared name. Values of the wrong shape are left to
 * the decoder, which names them precisely.
 */
export function rejectUnknownFields(body: unknown, type: protobuf.Type): void {
  // Most bodies are valid: check them without building a path for every field (a CheckBatch of
  // 100 has about 900), and walk again with paths only to report the one that is not.
  if (hasUnknownField(body, type)) throwUnknownField(body, type, '');
}

/**
 * The nested message type of `field`, or undefined for a scalar, an enum or a well-known type:
 * in proto3 JSON a Struct is any JSON object (its keys are the caller's parameter names) and a
 * Timestamp a string, so their message fields say nothing about the body's keys.
 */
function messageType(field: protobuf.Field): protobuf.Type | undefined {
  const nested = field.resolvedType;
  if (nested === null || !('fields' in nested)) return undefined;
  return nested.fullName.startsWith('.google.protobuf.') ? undefined : nested;
}

/** Field name → its message type, or null for a scalar or enum: one map read per body key. */
type Shape = ReadonlyMap<string, protobuf.Type | null>;
const shapes = new WeakMap<protobuf.Type, Shape>();

function shapeOf(type: protobuf.Type): Shape {
  let shape = shapes.get(type);
  if (shape === undefined) {
    shape = new Map(Object.entries(type.fields).map(([name, field]) => [name, messageType(field) ?? null]));
    shapes.set(type, shape);
  }
  return shape;
}

function hasUnknownField(body: unknown, type: protobuf.Type): boolean {
  if (!isObject(body)) return false;
  const shape = shapeOf(type);
  for (const key in body) {
    // A Map, not the fields object: `toString` or `__proto__` in a body finds nothing.
    const nested = shape.get(key);
    if (nested === undefined) return true;
    if (nested === null) continue;
    const value = body[key];
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (hasUnknownField(value[i], nested)) return true;
    } else if (hasUnknownField(value, nested)) {
      return true;
    }
  }
  return false;
}

/** The same walk as hasUnknownField, in the same order, throwing at the first unknown field. */
function throwUnknownField(body: unknown, type: protobuf.Type, path: string): void {
  if (!isObject(body)) return;
  const shape = shapeOf(type);
  for (const key in body) {
    const at = path === '' ? key : `${path}.${key}`;
    const nested = shape.get(key);
    if (nested === undefined) {
      const near = closestName(key, shape.keys());
      throw new InvalidArgumentError(
        `unknown field '${at}'${near === undefined ? '' : ` (did you mean '${near}'?)`}: ${type.name} has ${[...shape.keys()].join(', ')}`,
        { field: at },
      );
    }
    if (nested === null) continue;
    const value = body[key];
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) throwUnknownField(value[i], nested, `${at}[${i}]`);
    } else {
      throwUnknownField(value, nested, at);
    }
  }
}
