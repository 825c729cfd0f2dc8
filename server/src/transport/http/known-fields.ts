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
export function rejectUnknownFields(body: unknown, type: protobuf.Type, path = ''): void {
  if (!isObject(body)) return;
  for (const key in body) {
    // Own properties only: `toString` or `__proto__` in a body must not find Object.prototype's.
    const field = Object.hasOwn(type.fields, key) ? type.fields[key] : undefined;
    const at = path === '' ? key : `${path}.${key}`;
    if (field === undefined) {
      const near = closestName(key, Object.keys(type.fields));
      throw new InvalidArgumentError(
        `unknown field '${at}'${near === undefined ? '' : ` (did you mean '${near}'?)`}: ${type.name} has ${Object.keys(type.fields).join(', ')}`,
        { field: at },
      );
    }
    const nested = field.resolvedType;
    if (nested === null || !('fields' in nested)) continue;
    const value = body[key];
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) rejectUnknownFields(value[i], nested, `${at}[${i}]`);
    } else {
      rejectUnknownFields(value, nested, at);
    }
  }
}
