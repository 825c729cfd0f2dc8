// Conditions as CEL programs (@bufbuild/cel): parameter types, the static checks a condition
// passes at policy load, JSON → CEL value conversion, and evaluation to true, false or "these
// parameters are missing". Compiled once per schema; evaluation is bounded (see COST LIMITS).
import { createRequire } from 'node:module';
import { BlockList, isIP } from 'node:net';
import type { CelInput, CelType } from '@bufbuild/cel';
import { InvalidArgumentError } from '../errors.js';
import { boundedOperators } from './cel-bounded-ops.js';
import { typeCheckCondition } from './cel-type-check.js';
import type { ConditionDef, ParameterType } from './schema.js';

// The CEL library (with its RE2 and protobuf runtime: about 12 MB of RSS and 150 ms of start-up)
// is loaded the first time a condition is compiled or a value converted, so a schema without
// conditions never pays for it. Required, not imported, to keep compileCondition synchronous; all
// three come from their CommonJS builds, so CEL's values and the protobuf types it checks them
// against are one copy of each.
type CelLibrary = typeof import('@bufbuild/cel');
type Protobuf = typeof import('@bufbuild/protobuf');
type ProtobufWkt = typeof import('@bufbuild/protobuf/wkt');

interface CelRuntime {
  readonly cel: CelLibrary;
  readonly create: Protobuf['create'];
  readonly wkt: ProtobufWkt;
  readonly TIMESTAMP: CelType;
  readonly DURATION: CelType;
  readonly IN_CIDR: ReturnType<CelLibrary['celMethod']>;
  /** `+` re-bound with size checks (cel-bounded-ops.ts). */
  readonly BOUNDED_OPERATORS: ReturnType<typeof boundedOperators>;
}

let runtime: CelRuntime | undefined;

function celRuntime(): CelRuntime {
  if (runtime !== undefined) return runtime;
  const require = createRequire(import.meta.url);
  const cel = require('@bufbuild/cel') as CelLibrary;
  const wkt = require('@bufbuild/protobuf/wkt') as ProtobufWkt;
  const { CelScalar } = cel;
  runtime = {
    cel,
    create: (require('@bufbuild/protobuf') as Protobuf).create,
    wkt,
    TIMESTAMP: cel.objectType(wkt.TimestampSchema),
    DURATION: cel.objectType(wkt.DurationSchema),
    BOUNDED_OPERATORS: boundedOperators(cel),
    IN_CIDR: cel.celMethod('in_cidr', CelScalar.STRING, [CelScalar.STRING], CelScalar.BOOL, function (cidr) {
      return inCidr(this, cidr);
    }),
  };
  return runtime;
}

// COST LIMITS. @bufbuild/cel has no evaluation-cost budget, so the cost is bounded by shape:
// an expression has at most MAX_EXPRESSION_NODES nodes and no comprehension (`all`, `exists`,
// `map`, `filter`) inside another, and every list, map, string or bytes value a condition
// receives is at most MAX_COLLECTION_SIZE entries / MAX_TEXT_LENGTH characters. Regular
// expressions (`matches`) run on RE2, linear in the input. So one evaluation costs at most about
// MAX_EXPRESSION_NODES × MAX_COLLECTION_SIZE steps; `+` cannot build larger values during an
// evaluation (cel-bounded-ops.ts).
export const MAX_EXPRESSION_NODES = 256;
export const MAX_COLLECTION_SIZE = 256;
export const MAX_TEXT_LENGTH = 4096;

const SCALARS = new Set([
  'int',
  'uint',
  'double',
  'bool',
  'string',
  'bytes',
  'duration',
  'timestamp',
  'ipaddress',
  'any',
]);

/** Reads `int`, `list<string>`, `map<list<int>>`…; returns a message when the text is no type. */
export function parseParameterType(text: string): ParameterType | string {
  const t = text.trim();
  const m = /^(list|map)\s*<(.*)>$/.exec(t);
  if (m !== null) {
    const element = parseParameterType(m[2]!);
    if (typeof element === 'string') return element;
    return { kind: m[1] as 'list' | 'map', element };
  }
  if (SCALARS.has(t)) return { kind: t as Exclude<ParameterType['kind'], 'list' | 'map'> };
  return `'${t}' is not a parameter type; use one of ${[...SCALARS].join(', ')}, list<T> or map<T>`;
}

export function formatParameterType(t: ParameterType): string {
  return t.kind === 'list' || t.kind === 'map' ? `${t.kind}<${formatParameterType(t.element)}>` : t.kind;
}

function celTypeOf(t: ParameterType): CelType {
  const { cel, TIMESTAMP, DURATION } = celRuntime();
  const { CelScalar } = cel;
  switch (t.kind) {
    case 'int':
      return CelScalar.INT;
    case 'uint':
      return CelScalar.UINT;
    case 'double':
      return CelScalar.DOUBLE;
    case 'bool':
      return CelScalar.BOOL;
    case 'string':
    case 'ipaddress':
      return CelScalar.STRING;
    case 'bytes':
      return CelScalar.BYTES;
    case 'duration':
      return DURATION;
    case 'timestamp':
      return TIMESTAMP;
    case 'any':
      return CelScalar.DYN;
    case 'list':
      return cel.listType(celTypeOf(t.element));
    case 'map':
      return cel.mapType(CelScalar.STRING, celTypeOf(t.element));
  }
}

/** Parsed CIDR blocks, by their text: conditions name a handful, evaluated over and over. */
const cidrs = new Map<string, BlockList | null>();

function cidrBlock(cidr: string): BlockList | null {
  let block = cidrs.get(cidr);
  if (block !== undefined) return block;
  const slash = cidr.indexOf('/');
  const address = slash < 0 ? cidr : cidr.slice(0, slash);
  const family = isIP(address);
  const prefix = slash < 0 ? (family === 6 ? 128 : 32) : Number(cidr.slice(slash + 1));
  block = null;
  if (family !== 0 && Number.isInteger(prefix) && prefix >= 0 && prefix <= (family === 6 ? 128 : 32)) {
    block = new BlockList();
    block.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  if (cidrs.size < 1024) cidrs.set(cidr, block);
  return block;
}

/** An IPv4 CIDR as a network number and mask, for the common case without BlockList's cost. */
const ipv4Blocks = new Map<string, { network: number; mask: number } | null>();
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4Number(ip: string): number | undefined {
  const m = IPV4.exec(ip);
  if (m === null) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = Number(m[i]);
    if (part > 255) return undefined;
    n = n * 256 + part;
  }
  return n;
}

function ipv4Block(cidr: string): { network: number; mask: number } | null {
  let block = ipv4Blocks.get(cidr);
  if (block !== undefined) return block;
  const slash = cidr.indexOf('/');
  const address = ipv4Number(slash < 0 ? cidr : cidr.slice(0, slash));
  const prefix = slash < 0 ? 32 : Number(cidr.slice(slash + 1));
  block = null;
  if (address !== undefined && Number.isInteger(prefix) && prefix >= 0 && prefix <= 32) {
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    block = { network: (address & mask) >>> 0, mask };
  }
  if (ipv4Blocks.size < 1024) ipv4Blocks.set(cidr, block);
  return block;
}

/** `ip.in_cidr("10.0.0.0/8")`: OpenFGA's ipaddress method, on the string an ipaddress parameter holds. */
function inCidr(ip: string, cidr: string): boolean {
  const v4 = ipv4Number(ip);
  if (v4 !== undefined) {
    const block = ipv4Block(cidr);
    if (block !== null) return (v4 & block.mask) >>> 0 === block.network;
  }
  const block = cidrBlock(cidr);
  if (block === null) throw new Error(`in_cidr: '${cidr}' is not a CIDR block such as '10.0.0.0/8'`);
  const family = isIP(ip);
  if (family === 0) throw new Error(`in_cidr: '${ip}' is not an IP address`);
  return block.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

/** Go-style durations as SpiceDB and OpenFGA write them: `1h30m`, `90s`, `1.5s`, `250ms`. */
const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/y;
const UNIT_NANOS: Record<string, number> = {
  h: 3.6e12,
  m: 6e10,
  s: 1e9,
  ms: 1e6,
  us: 1e3,
  µs: 1e3,
  ns: 1,
};

function parseDuration(text: string): bigint | undefined {
  let i = 0;
  let negative = false;
  if (text.startsWith('-')) {
    negative = true;
    i = 1;
  }
  let nanos = 0;
  let parts = 0;
  while (i < text.length) {
    DURATION_PART.lastIndex = i;
    const m = DURATION_PART.exec(text);
    if (m === null) return undefined;
    nanos += Number(m[1]) * UNIT_NANOS[m[2]!]!;
    i = DURATION_PART.lastIndex;
    parts++;
  }
  if (parts === 0) return undefined;
  const n = BigInt(Math.round(nanos));
  return negative ? -n : n;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Thrown by toCelValue: the message says what was expected. */
export class ParameterValueError extends Error {}

function wrong(expected: string, value: unknown): never {
  const shown = JSON.stringify(value);
  throw new ParameterValueError(
    `expected ${expected}, got ${shown === undefined ? typeof value : shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`,
  );
}

function toInteger(value: unknown, what: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return BigInt(value);
  if (typeof value === 'bigint') return value;
  return wrong(what, value);
}

/** A JSON value (from a relationship or a request) as the CEL value of `type`; throws ParameterValueError. */
export function toCelValue(type: ParameterType, value: unknown): CelInput {
  const { cel, create, wkt } = celRuntime();
  switch (type.kind) {
    case 'int': {
      const n = toInteger(value, 'an integer');
      if (n < INT64_MIN || n > INT64_MAX) wrong('a 64-bit integer', value);
      return n;
    }
    case 'uint': {
      const n = toInteger(value, 'a non-negative integer');
      if (n < 0n || n >= 2n ** 64n) wrong('a non-negative 64-bit integer', value);
      return cel.celUint(n);
    }
    case 'double':
      // JSON.parse reads 1e309 as Infinity: out of a double's range, refused as OpenFGA does.
      return typeof value === 'number' && Number.isFinite(value) ? value : wrong('a finite number', value);
    case 'bool':
      return typeof value === 'boolean' ? value : wrong('true or false', value);
    case 'string':
      if (typeof value !== 'string') return wrong('a string', value);
      if (value.length > MAX_TEXT_LENGTH) wrong(`a string of at most ${MAX_TEXT_LENGTH} characters`, '…');
      return value;
    case 'bytes': {
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value))
        return wrong('base64 text', value);
      if (value.length > MAX_TEXT_LENGTH) wrong(`at most ${MAX_TEXT_LENGTH} characters of base64`, '…');
      return new Uint8Array(Buffer.from(value, 'base64'));
    }
    case 'duration': {
      const nanos = typeof value === 'string' ? parseDuration(value) : undefined;
      if (nanos === undefined) return wrong("a duration such as '1h30m' or '90s'", value);
      return create(wkt.DurationSchema, {
        seconds: nanos / 1_000_000_000n,
        nanos: Number(nanos % 1_000_000_000n),
      });
    }
    case 'timestamp': {
      const ms = typeof value === 'string' && RFC3339.test(value) ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(ms)) return wrong("an RFC 3339 time such as '2026-12-31T00:00:00Z'", value);
      return wkt.timestampFromMs(ms);
    }
    case 'ipaddress':
      return typeof value === 'string' && isIP(value) !== 0 ? value : wrong('an IP address', value);
    case 'any':
      return anyValue(value, 0);
    case 'list': {
      if (!Array.isArray(value)) return wrong('a list', value);
      if (value.length > MAX_COLLECTION_SIZE) wrong(`a list of at most ${MAX_COLLECTION_SIZE} items`, '…');
      return value.map((v) => toCelValue(type.element, v));
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return wrong('an object', value);
      const entries = Object.entries(value);
      if (entries.length > MAX_COLLECTION_SIZE)
        wrong(`an object of at most ${MAX_COLLECTION_SIZE} keys`, '…');
      return new Map(entries.map(([k, v]) => [k, toCelValue(type.element, v)]));
    }
  }
}

/** A JSON value of a parameter typed `any`: numbers are doubles, objects maps (size-limited too). */
function anyValue(value: unknown, depth: number): CelInput {
  if (depth > 8) return wrong('a value nested at most 8 deep', '…');
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return value;
  if (typeof value === 'string') return toCelValue({ kind: 'string' }, value);
  if (Array.isArray(value)) {
    if (value.length > MAX_COLLECTION_SIZE) wrong(`a list of at most ${MAX_COLLECTION_SIZE} items`, '…');
    return value.map((v) => anyValue(v, depth + 1));
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as object);
    if (entries.length > MAX_COLLECTION_SIZE) wrong(`an object of at most ${MAX_COLLECTION_SIZE} keys`, '…');
    return new Map(entries.map(([k, v]) => [k, anyValue(v, depth + 1)]));
  }
  return wrong('a JSON value', value);
}

function zeroValue(type: ParameterType): CelInput {
  const { cel, create, wkt } = celRuntime();
  switch (type.kind) {
    case 'int':
      return 0n;
    case 'uint':
      return cel.celUint(0n);
    case 'double':
      return 0;
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'ipaddress':
      return '0.0.0.0';
    case 'bytes':
      return new Uint8Array();
    case 'duration':
      return create(wkt.DurationSchema);
    case 'timestamp':
      return wkt.timestampFromMs(0);
    case 'any':
      return null;
    case 'list':
      return [];
    case 'map':
      return new Map();
  }
}

/** One problem in a condition's expression; `offset` is into the expression text when known. */
export interface ConditionProblem {
  readonly offset: number | undefined;
  readonly message: string;
}

interface ExprShape {
  nodes: number;
  /** Free identifiers (not comprehension variables), with the expression id of their first use. */
  readonly idents: Map<string, bigint>;
  /**
   * Free identifiers under a presence test, `has(x.f)`: CEL answers such a test false when `x`
   * itself is unbound, so a missing `x` there must make the answer conditional, not decide it.
   */
  readonly presenceTested: Set<string>;
  nestedComprehension: boolean;
}

// The parsed CEL tree, read structurally (the types come from @bufbuild/cel-spec).
type AnyExpr = ReturnType<CelLibrary['parse']>['expr'];

function shapeOf(root: AnyExpr): ExprShape {
  const shape: ExprShape = {
    nodes: 0,
    idents: new Map(),
    presenceTested: new Set(),
    nestedComprehension: false,
  };
  const walk = (e: AnyExpr | undefined, bound: ReadonlySet<string>, loops: number): void => {
    if (e === undefined) return;
    shape.nodes++;
    const k = e.exprKind;
    switch (k.case) {
      case 'identExpr':
        if (!bound.has(k.value.name) && !shape.idents.has(k.value.name)) shape.idents.set(k.value.name, e.id);
        return;
      case 'selectExpr': {
        if (k.value.testOnly) {
          let root = k.value.operand;
          while (root?.exprKind.case === 'selectExpr') root = root.exprKind.value.operand;
          if (root?.exprKind.case === 'identExpr' && !bound.has(root.exprKind.value.name))
            shape.presenceTested.add(root.exprKind.value.name);
        }
        walk(k.value.operand, bound, loops);
        return;
      }
      case 'callExpr':
        walk(k.value.target, bound, loops);
        for (const a of k.value.args) walk(a, bound, loops);
        return;
      case 'listExpr':
        for (const a of k.value.elements) walk(a, bound, loops);
        return;
      case 'structExpr':
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === 'mapKey') walk(entry.keyKind.value, bound, loops);
          walk(entry.value, bound, loops);
        }
        return;
      case 'comprehensionExpr': {
        const c = k.value;
        if (loops > 0) shape.nestedComprehension = true;
        walk(c.iterRange, bound, loops);
        walk(c.accuInit, bound, loops);
        const inner = new Set(bound);
        inner.add(c.iterVar);
        if (c.iterVar2 !== '') inner.add(c.iterVar2);
        inner.add(c.accuVar);
        walk(c.loopCondition, inner, loops + 1);
        walk(c.loopStep, inner, loops + 1);
        walk(c.result, inner, loops + 1);
        return;
      }
      default:
        return;
    }
  };
  walk(root, new Set(), 0);
  return shape;
}

/** Offset into `text` of a `<input>:line:column:` position in a CEL error message. */
function offsetOfMessage(text: string, message: string): number | undefined {
  const m = /<input>:(\d+):(\d+)/.exec(message);
  if (m === null) return undefined;
  const lines = text.split('\n');
  let offset = 0;
  for (let i = 0; i < Number(m[1]) - 1 && i < lines.length; i++) offset += lines[i]!.length + 1;
  return offset + Number(m[2]) - 1;
}

/** What evaluating a condition gives: true, false, or the sorted names of the missing parameters. */
export type ConditionOutcome = boolean | readonly string[];

/** CEL values by parameter name, converted once (a relationship's stored ones, a request's). */
export type BoundParameters = ReadonlyMap<string, CelInput>;

/** A condition compiled for evaluation. */
export interface ConditionProgram {
  readonly def: ConditionDef;
  /** The parameters the expression reads, sorted. */
  readonly referenced: readonly string[];
  /** Converts values for this condition's parameters; unknown keys are ignored. Throws ParameterValueError naming the parameter. */
  bind(values: Readonly<Record<string, unknown>> | undefined): BoundParameters;
  /** Stored values win over the request's (SpiceDB's rule); throws Error when CEL fails at run time. */
  evaluate(stored: BoundParameters, request: BoundParameters): ConditionOutcome;
}

const NO_VALUES: BoundParameters = new Map();

/**
 * Parses and checks `def`'s expression: bad CEL, unknown parameters, type errors (found by
 * evaluating once with every parameter's zero value, which runs every operator the expression
 * applies outside short-circuited branches), a result that is not a bool, an expression over the
 * cost limits. Returns the program, or every problem found.
 */
export function compileCondition(def: ConditionDef): ConditionProgram | ConditionProblem[] {
  const { cel, IN_CIDR, BOUNDED_OPERATORS } = celRuntime();
  const { isCelError } = cel;
  let parsed: ReturnType<CelLibrary['parse']>;
  try {
    parsed = cel.parse(def.expression);
  } catch (err) {
    const message = (err as Error).message;
    return [
      {
        offset: offsetOfMessage(def.expression, message),
        message: `condition '${def.name}': ${message.replace(/^<input>:\d+:\d+:\s*/, '')}`,
      },
    ];
  }
  const problems: ConditionProblem[] = [];
  // @bufbuild/cel places a binary operator where its operand ends: skip to the operator itself.
  const offsetOf = (id: bigint): number | undefined => {
    let offset = parsed.sourceInfo?.positions[id.toString()];
    while (offset !== undefined && /\s/.test(def.expression[offset] ?? '')) offset++;
    return offset;
  };
  const shape = shapeOf(parsed.expr);
  for (const [name, id] of shape.idents) {
    if (!def.parameters.has(name)) {
      const declared = [...def.parameters.keys()].join(', ') || '(none)';
      problems.push({
        offset: offsetOf(id),
        message: `condition '${def.name}' reads '${name}', which is not one of its parameters (${declared}); declare it under 'parameters'`,
      });
    }
  }
  if (shape.nodes > MAX_EXPRESSION_NODES) {
    problems.push({
      offset: undefined,
      message: `condition '${def.name}' has ${shape.nodes} expression nodes, more than the limit of ${MAX_EXPRESSION_NODES}; split it or simplify it`,
    });
  }
  if (shape.nestedComprehension) {
    problems.push({
      offset: undefined,
      message: `condition '${def.name}' nests a comprehension (all/exists/map/filter) inside another; that is over the cost limit, rewrite it with one level`,
    });
  }
  if (problems.length > 0) return problems;

  // Static types first: every error at its position, in branches evaluation would skip too.
  const typed = typeCheckCondition(parsed.expr, def.parameters);
  if (typed.errors.length > 0) {
    return typed.errors.map((err) => ({
      offset: err.notBool === true ? undefined : offsetOf(err.exprId),
      message: `condition '${def.name}' ${err.notBool === true ? '' : 'does not type-check: '}${err.message}`,
    }));
  }
  // What the checker could not type (it says so) is still tried once with zero values.
  const variables: Record<string, CelType> = {};
  for (const [name, type] of def.parameters) variables[name] = celTypeOf(type);
  const env = cel.celEnv({ variables, funcs: [IN_CIDR, ...BOUNDED_OPERATORS] });
  const run = cel.plan(env, parsed) as (bindings: Record<string, CelInput>) => unknown;
  const zero: Record<string, CelInput> = {};
  for (const [name, type] of def.parameters) zero[name] = zeroValue(type);
  const trial = run(zero);
  if (isCelError(trial)) {
    const message = trial.message;
    // Errors of values (division by zero, a bad CIDR on an empty address…) are not type errors.
    if (/overload|no such|unresolved|not a (?:list|map)|unsupported/i.test(message)) {
      return [
        {
          offset: trial.exprId === undefined ? undefined : offsetOf(trial.exprId),
          message: `condition '${def.name}' does not type-check: ${message}`,
        },
      ];
    }
  } else if (typeof trial !== 'boolean') {
    return [
      {
        offset: undefined,
        message: `condition '${def.name}' must evaluate to a bool (true or false), not to ${typeof trial === 'bigint' ? 'an int' : typeof trial}`,
      },
    ];
  }

  const referenced = [...shape.idents.keys()].sort();
  const presenceTested = shape.presenceTested;
  return {
    def,
    referenced,
    bind(values) {
      if (values === undefined) return NO_VALUES;
      const out = new Map<string, CelInput>();
      for (const [name, type] of def.parameters) {
        const v = values[name];
        if (v === undefined) continue;
        try {
          out.set(name, toCelValue(type, v));
        } catch (err) {
          if (!(err instanceof ParameterValueError)) throw err;
          throw new ParameterValueError(
            `parameter '${name}' of condition '${def.name}' is ${formatParameterType(type)}: ${err.message}`,
          );
        }
      }
      return out;
    },
    evaluate(stored, request) {
      const bindings: Record<string, CelInput> = {};
      let missing: string[] | undefined;
      for (const name of referenced) {
        const v = stored.get(name) ?? request.get(name);
        if (v !== undefined) bindings[name] = v;
        else if (missing === undefined) missing = [name];
        else missing.push(name);
      }
      // has(x.f) on a missing x reads as "absent", which would decide the answer by itself.
      if (missing?.some((name) => presenceTested.has(name))) return missing;
      const result = run(bindings);
      if (typeof result === 'boolean') return result;
      // With parameters missing, CEL reports an unresolved one unless the others decided it.
      if (missing !== undefined) return missing;
      // The request's values (or the stored ones) do not fit the expression, e.g. a map without
      // the field it reads: the caller's to fix, as docs/conditions.md promises, not a 500.
      throw new InvalidArgumentError(
        `condition '${def.name}' failed: ${isCelError(result) ? result.message : 'it did not evaluate to a bool'}`,
      );
    },
  };
}
