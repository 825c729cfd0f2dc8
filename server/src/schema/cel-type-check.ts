// A static type checker for condition expressions: walks the parsed CEL tree with the declared
// parameter types and reports every operator, function or field applied to operands it has no
// overload for, each at its expression id. @bufbuild/cel 0.6.1 exports no checker (its internal
// one types constants and identifiers only), so this covers what conditions use; what it cannot
// type (an unknown function, a message literal) is typed `dyn` and flagged so the caller keeps
// the trial evaluation for it. The overloads are those @bufbuild/cel's standard library binds.
import type { ParameterType } from './schema.js';

/** The type of a CEL sub-expression, as far as this checker knows it. */
export type CelStaticType =
  | {
      readonly kind:
        | 'int'
        | 'uint'
        | 'double'
        | 'bool'
        | 'string'
        | 'bytes'
        | 'duration'
        | 'timestamp'
        | 'null'
        | 'type'
        | 'dyn';
    }
  | { readonly kind: 'list'; readonly element: CelStaticType }
  | { readonly kind: 'map'; readonly key: CelStaticType; readonly value: CelStaticType };

/** One type error, at the expression id of the offending node. */
export interface CelTypeError {
  readonly exprId: bigint;
  readonly message: string;
  /** Set on the error that the whole expression is not a bool. */
  readonly notBool?: true;
}

export interface CelTypeCheckResult {
  /** The expression's type (`dyn` when unknown). */
  readonly type: CelStaticType;
  readonly errors: readonly CelTypeError[];
  /** True when some part could not be typed: the caller should still try an evaluation. */
  readonly incomplete: boolean;
}

// The parsed tree, structurally (the same shape @bufbuild/cel's `parse` returns); typed here so
// this module imports nothing at run time.
interface Constant {
  readonly constantKind: { readonly case: string | undefined };
}
interface Expr {
  readonly id: bigint;
  readonly exprKind:
    | { readonly case: 'constExpr'; readonly value: Constant }
    | { readonly case: 'identExpr'; readonly value: { readonly name: string } }
    | {
        readonly case: 'selectExpr';
        readonly value: { readonly operand?: Expr; readonly field: string; readonly testOnly: boolean };
      }
    | {
        readonly case: 'callExpr';
        readonly value: { readonly target?: Expr; readonly function: string; readonly args: readonly Expr[] };
      }
    | { readonly case: 'listExpr'; readonly value: { readonly elements: readonly Expr[] } }
    | {
        readonly case: 'structExpr';
        readonly value: {
          readonly messageName: string;
          readonly entries: readonly {
            readonly keyKind: { readonly case: string | undefined; readonly value?: unknown };
            readonly value?: Expr;
          }[];
        };
      }
    | {
        readonly case: 'comprehensionExpr';
        readonly value: {
          readonly iterVar: string;
          readonly iterVar2: string;
          readonly iterRange?: Expr;
          readonly accuVar: string;
          readonly accuInit?: Expr;
          readonly loopCondition?: Expr;
          readonly loopStep?: Expr;
          readonly result?: Expr;
        };
      }
    | { readonly case: undefined; readonly value?: undefined };
}

const t = (kind: Exclude<CelStaticType['kind'], 'list' | 'map'>): CelStaticType => ({ kind });
const INT = t('int');
const UINT = t('uint');
const DOUBLE = t('double');
const BOOL = t('bool');
const STRING = t('string');
const BYTES = t('bytes');
const DURATION = t('duration');
const TIMESTAMP = t('timestamp');
const NULL = t('null');
const DYN = t('dyn');

/** The CEL type a parameter of `p` holds (an ipaddress is a string with `in_cidr`). */
export function staticTypeOf(p: ParameterType): CelStaticType {
  switch (p.kind) {
    case 'ipaddress':
      return STRING;
    case 'any':
      return DYN;
    case 'list':
      return { kind: 'list', element: staticTypeOf(p.element) };
    case 'map':
      return { kind: 'map', key: STRING, value: staticTypeOf(p.element) };
    default:
      return t(p.kind);
  }
}

export function formatStaticType(type: CelStaticType): string {
  if (type.kind === 'list') return `list<${formatStaticType(type.element)}>`;
  if (type.kind === 'map') return `map<${formatStaticType(type.key)}, ${formatStaticType(type.value)}>`;
  return type.kind === 'null' ? 'null_type' : type.kind;
}

const isDyn = (type: CelStaticType): boolean => type.kind === 'dyn';
const NUMERIC = new Set(['int', 'uint', 'double']);

/** Whether a value of `a` may be where `b` is expected (dyn on either side always may). */
function assignable(a: CelStaticType, b: CelStaticType): boolean {
  if (isDyn(a) || isDyn(b)) return true;
  if (a.kind === 'list' && b.kind === 'list') return assignable(a.element, b.element);
  if (a.kind === 'map' && b.kind === 'map') return assignable(a.key, b.key) && assignable(a.value, b.value);
  return a.kind === b.kind;
}

/** The common type of `types` (list elements, the branches of `?:`), or dyn. */
function join(types: readonly CelStaticType[]): CelStaticType {
  const first = types[0];
  if (first === undefined) return DYN;
  return types.every((x) => assignable(x, first) && assignable(first, x) && !isDyn(x)) ? first : DYN;
}

// Binary operators: [left, right, result] by kind. From @bufbuild/cel's standard library.
const ARITHMETIC: Record<string, readonly (readonly [string, string, CelStaticType])[]> = {
  '_+_': [
    ['int', 'int', INT],
    ['uint', 'uint', UINT],
    ['double', 'double', DOUBLE],
    ['string', 'string', STRING],
    ['bytes', 'bytes', BYTES],
    ['duration', 'duration', DURATION],
    ['timestamp', 'duration', TIMESTAMP],
    ['duration', 'timestamp', TIMESTAMP],
  ],
  '_-_': [
    ['int', 'int', INT],
    ['uint', 'uint', UINT],
    ['double', 'double', DOUBLE],
    ['duration', 'duration', DURATION],
    ['timestamp', 'duration', TIMESTAMP],
    ['timestamp', 'timestamp', DURATION],
  ],
  '_*_': [
    ['int', 'int', INT],
    ['uint', 'uint', UINT],
    ['double', 'double', DOUBLE],
  ],
  '_/_': [
    ['int', 'int', INT],
    ['uint', 'uint', UINT],
    ['double', 'double', DOUBLE],
  ],
  '_%_': [
    ['int', 'int', INT],
    ['uint', 'uint', UINT],
  ],
};

const ORDERED = new Set(['int', 'uint', 'double', 'string', 'bytes', 'bool', 'duration', 'timestamp']);

/** Conversion functions: the argument kinds each accepts, and its result. */
const CONVERSIONS: Record<string, readonly [readonly string[], CelStaticType]> = {
  int: [['int', 'uint', 'double', 'string', 'timestamp', 'duration'], INT],
  uint: [['int', 'uint', 'double', 'string'], UINT],
  double: [['int', 'uint', 'double', 'string'], DOUBLE],
  string: [['int', 'uint', 'double', 'bool', 'bytes', 'string', 'timestamp', 'duration'], STRING],
  bytes: [['string', 'bytes'], BYTES],
  bool: [['bool', 'string'], BOOL],
  timestamp: [['int', 'string', 'timestamp'], TIMESTAMP],
  duration: [['int', 'string', 'duration'], DURATION],
};

const STRING_METHODS = new Set(['contains', 'startsWith', 'endsWith', 'matches', 'in_cidr']);
const TIMESTAMP_GETTERS = new Set([
  'getFullYear',
  'getMonth',
  'getDate',
  'getDayOfMonth',
  'getDayOfWeek',
  'getDayOfYear',
  'getHours',
  'getMinutes',
  'getSeconds',
  'getMilliseconds',
]);
const DURATION_GETTERS = new Set(['getHours', 'getMinutes', 'getSeconds', 'getMilliseconds']);

const KNOWN_FUNCTIONS = [
  'size',
  ...STRING_METHODS,
  ...TIMESTAMP_GETTERS,
  ...Object.keys(CONVERSIONS),
  'dyn',
  'type',
  'has',
  'all',
  'exists',
  'exists_one',
  'map',
  'filter',
].join(', ');

/** Operator names as a user reads them, for messages. */
const READABLE: Record<string, string> = {
  '_+_': '+',
  '_-_': '-',
  '_*_': '*',
  '_/_': '/',
  '_%_': '%',
  '_<_': '<',
  '_<=_': '<=',
  '_>_': '>',
  '_>=_': '>=',
  '_==_': '==',
  '_!=_': '!=',
  '_&&_': '&&',
  '_||_': '||',
  '!_': '!',
  '-_': '- (negation)',
  '_?_:_': '?:',
  '_[_]': '[]',
  '@in': 'in',
};

class Checker {
  readonly errors: CelTypeError[] = [];
  incomplete = false;

  constructor(private readonly variables: ReadonlyMap<string, CelStaticType>) {}

  private noOverload(
    e: Expr,
    fn: string,
    operands: readonly CelStaticType[],
    target?: CelStaticType,
  ): CelStaticType {
    const name = READABLE[fn] === undefined ? `'${fn}'` : `'${READABLE[fn]}'`;
    const args = operands.map(formatStaticType).join(', ');
    const on = target === undefined ? '' : ` on ${formatStaticType(target)}`;
    this.errors.push({ exprId: e.id, message: `no overload of ${name}${on} takes (${args})` });
    return DYN;
  }

  private unknown(): CelStaticType {
    this.incomplete = true;
    return DYN;
  }

  check(e: Expr | undefined, scope: ReadonlyMap<string, CelStaticType>): CelStaticType {
    if (e === undefined) return DYN;
    const k = e.exprKind;
    switch (k.case) {
      case 'constExpr':
        return this.constant(k.value);
      case 'identExpr':
        // An undeclared name is reported by the caller's shape check already.
        return scope.get(k.value.name) ?? this.variables.get(k.value.name) ?? DYN;
      case 'selectExpr': {
        const operand = this.check(k.value.operand, scope);
        if (isDyn(operand)) return k.value.testOnly ? BOOL : DYN;
        if (operand.kind !== 'map' || !assignable(STRING, operand.key)) {
          this.errors.push({
            exprId: e.id,
            message: `${formatStaticType(operand)} has no fields: '.${k.value.field}' reads a field of a map with string keys`,
          });
          return DYN;
        }
        return k.value.testOnly ? BOOL : operand.value;
      }
      case 'listExpr':
        return { kind: 'list', element: join(k.value.elements.map((x) => this.check(x, scope))) };
      case 'structExpr': {
        if (k.value.messageName !== '') {
          for (const entry of k.value.entries) this.check(entry.value, scope);
          return this.unknown();
        }
        const keys: CelStaticType[] = [];
        const values: CelStaticType[] = [];
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === 'mapKey') keys.push(this.check(entry.keyKind.value as Expr, scope));
          values.push(this.check(entry.value, scope));
        }
        return { kind: 'map', key: join(keys), value: join(values) };
      }
      case 'comprehensionExpr':
        return this.comprehension(k.value, scope);
      case 'callExpr':
        return this.call(e, k.value, scope);
      default:
        return this.unknown();
    }
  }

  private constant(c: Constant): CelStaticType {
    switch (c.constantKind.case) {
      case 'boolValue':
        return BOOL;
      case 'int64Value':
        return INT;
      case 'uint64Value':
        return UINT;
      case 'doubleValue':
        return DOUBLE;
      case 'stringValue':
        return STRING;
      case 'bytesValue':
        return BYTES;
      case 'nullValue':
        return NULL;
      default:
        return this.unknown();
    }
  }

  private comprehension(
    c: Extract<Expr['exprKind'], { case: 'comprehensionExpr' }>['value'],
    scope: ReadonlyMap<string, CelStaticType>,
  ): CelStaticType {
    const range = this.check(c.iterRange, scope);
    let iter: CelStaticType = DYN;
    let iter2: CelStaticType = DYN;
    if (range.kind === 'list') {
      iter = c.iterVar2 === '' ? range.element : INT;
      iter2 = range.element;
    } else if (range.kind === 'map') {
      iter = range.key;
      iter2 = range.value;
    } else if (!isDyn(range)) {
      this.errors.push({
        exprId: c.iterRange!.id,
        message: `a comprehension ranges over a list or a map, not over ${formatStaticType(range)}`,
      });
    }
    const accu = this.check(c.accuInit, scope);
    const inner = new Map(scope);
    inner.set(c.iterVar, iter);
    if (c.iterVar2 !== '') inner.set(c.iterVar2, iter2);
    // The accumulator of map/filter starts as [] and grows: its element type is the step's.
    inner.set(c.accuVar, accu.kind === 'list' ? { kind: 'list', element: DYN } : accu);
    const condition = this.check(c.loopCondition, inner);
    if (!assignable(condition, BOOL)) this.incomplete = true;
    const step = this.check(c.loopStep, inner);
    inner.set(c.accuVar, accu.kind === 'list' ? step : accu);
    return this.check(c.result, inner);
  }

  private call(
    e: Expr,
    call: Extract<Expr['exprKind'], { case: 'callExpr' }>['value'],
    scope: ReadonlyMap<string, CelStaticType>,
  ): CelStaticType {
    const fn = call.function;
    const target = call.target === undefined ? undefined : this.check(call.target, scope);
    const args = call.args.map((a) => this.check(a, scope));
    if (target !== undefined) return this.method(e, fn, target, args);
    const [a, b] = args as [CelStaticType, CelStaticType];
    switch (fn) {
      case '_&&_':
      case '_||_':
      case '!_':
      case '@not_strictly_false':
        if (args.every((x) => assignable(x, BOOL))) return BOOL;
        return this.noOverload(e, fn, args);
      case '_==_':
      case '_!=_':
        if (
          assignable(a, b) ||
          (NUMERIC.has(a.kind) && NUMERIC.has(b.kind)) ||
          a.kind === 'null' ||
          b.kind === 'null'
        )
          return BOOL;
        return this.noOverload(e, fn, args);
      case '_<_':
      case '_<=_':
      case '_>_':
      case '_>=_':
        if (isDyn(a) || isDyn(b)) return BOOL;
        if (NUMERIC.has(a.kind) && NUMERIC.has(b.kind)) return BOOL;
        if (a.kind === b.kind && ORDERED.has(a.kind)) return BOOL;
        return this.noOverload(e, fn, args);
      case '-_':
        if (isDyn(a) || a.kind === 'int' || a.kind === 'double') return a;
        return this.noOverload(e, fn, args);
      case '_?_:_': {
        const [cond, yes, no] = args as [CelStaticType, CelStaticType, CelStaticType];
        if (!assignable(cond, BOOL)) return this.noOverload(e, fn, args);
        return join([yes, no]);
      }
      case '_[_]':
        return this.index(e, a, b);
      case '@in':
        if (isDyn(b)) return BOOL;
        if (
          b.kind === 'list' &&
          (assignable(a, b.element) || (NUMERIC.has(a.kind) && NUMERIC.has(b.element.kind)))
        )
          return BOOL;
        if (b.kind === 'map' && assignable(a, b.key)) return BOOL;
        return this.noOverload(e, fn, args);
      case 'size':
        if (args.length === 1) return this.size(e, a);
        return this.unknown();
      case 'dyn':
        return DYN;
      case 'type':
        return this.unknown();
    }
    const arithmetic = ARITHMETIC[fn];
    if (arithmetic !== undefined) {
      if (isDyn(a) || isDyn(b)) return DYN;
      if (fn === '_+_' && a.kind === 'list' && b.kind === 'list')
        return { kind: 'list', element: join([a.element, b.element]) };
      const match = arithmetic.find(([l, r]) => l === a.kind && r === b.kind);
      return match === undefined ? this.noOverload(e, fn, args) : match[2];
    }
    const conversion = CONVERSIONS[fn];
    if (conversion !== undefined) {
      if (args.length === 1 && (isDyn(a) || conversion[0].includes(a.kind))) return conversion[1];
      return this.noOverload(e, fn, args);
    }
    // `contains(s, "x")`: these are methods only (`s.contains("x")`).
    if (STRING_METHODS.has(fn) || TIMESTAMP_GETTERS.has(fn)) return this.noOverload(e, fn, args);
    return this.unknownFunction(e, fn);
  }

  /** A user-visible name no overload binds is an error; the parser's internal ones (`@…`, `_…`) are not typed here. */
  private unknownFunction(e: Expr, fn: string): CelStaticType {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(fn)) return this.unknown();
    this.errors.push({
      exprId: e.id,
      message: `unknown function '${fn}'; conditions can call ${KNOWN_FUNCTIONS}`,
    });
    return DYN;
  }

  private index(e: Expr, container: CelStaticType, key: CelStaticType): CelStaticType {
    if (isDyn(container)) return DYN;
    if (container.kind === 'list') {
      if (isDyn(key) || key.kind === 'int' || key.kind === 'uint') return container.element;
      return this.noOverload(e, '_[_]', [container, key]);
    }
    if (container.kind === 'map') {
      if (assignable(key, container.key)) return container.value;
      return this.noOverload(e, '_[_]', [container, key]);
    }
    return this.noOverload(e, '_[_]', [container, key]);
  }

  private size(e: Expr, of: CelStaticType): CelStaticType {
    if (isDyn(of) || ['string', 'bytes', 'list', 'map'].includes(of.kind)) return INT;
    return this.noOverload(e, 'size', [of]);
  }

  private method(e: Expr, fn: string, target: CelStaticType, args: readonly CelStaticType[]): CelStaticType {
    if (fn === 'size' && args.length === 0) return this.size(e, target);
    if (STRING_METHODS.has(fn)) {
      if (args.length !== 1) return this.noOverload(e, fn, args, target);
      if ((isDyn(target) || target.kind === 'string') && assignable(args[0]!, STRING)) return BOOL;
      return this.noOverload(e, fn, args, target);
    }
    if (TIMESTAMP_GETTERS.has(fn)) {
      if (isDyn(target)) return INT;
      if (target.kind === 'timestamp' && args.length <= 1 && args.every((a) => assignable(a, STRING)))
        return INT;
      if (target.kind === 'duration' && DURATION_GETTERS.has(fn) && args.length === 0) return INT;
      return this.noOverload(e, fn, args, target);
    }
    if (fn in CONVERSIONS || fn === 'dyn' || fn === 'type') return this.noOverload(e, fn, args, target);
    return this.unknownFunction(e, fn);
  }
}

/**
 * Types `expr` with `parameters`' declared types. Errors carry the id of the node whose
 * operands do not fit; an expression whose type is known must be a bool.
 */
export function typeCheckCondition(
  expr: unknown,
  parameters: ReadonlyMap<string, ParameterType>,
): CelTypeCheckResult {
  const variables = new Map<string, CelStaticType>();
  for (const [name, type] of parameters) variables.set(name, staticTypeOf(type));
  const checker = new Checker(variables);
  const root = expr as Expr;
  const type = checker.check(root, new Map());
  const errors = [...checker.errors];
  if (!isDyn(type) && type.kind !== 'bool') {
    errors.push({
      exprId: root.id,
      message: `must evaluate to a bool (true or false), not to ${formatStaticType(type)}`,
      notBool: true,
    });
  }
  return { type, errors, incomplete: checker.incomplete };
}
