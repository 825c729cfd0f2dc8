// A minimal JSON Schema (2020-12) validator for exactly the keywords
// schema/gatehouse-policy.schema.json uses; SUPPORTED_KEYWORDS lets the test prove the
// schema uses nothing this validator would silently ignore.
type JsonSchema = { readonly [keyword: string]: unknown } | boolean;

/** Keywords that constrain values, and annotations that do not. */
export const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'enum',
  'const',
  'pattern',
  'minLength',
  'oneOf',
  'allOf',
  'if',
  'then',
  'not',
  '$ref',
  '$schema',
  '$id',
  '$defs',
  'title',
  'description',
  'examples',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** Validates `value` against `schema`; returns the JSON pointers and reasons of every failure. */
export function validate(root: JsonSchema, value: unknown): string[] {
  const errors: string[] = [];
  const resolve = (ref: string): JsonSchema => {
    const parts = ref.replace(/^#\//, '').split('/');
    let node: unknown = root;
    for (const part of parts) node = (node as Record<string, unknown>)[part];
    if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
    return node as JsonSchema;
  };
  const check = (schema: JsonSchema, v: unknown, at: string): boolean => {
    if (schema === true) return true;
    if (schema === false) {
      errors.push(`${at}: not allowed`);
      return false;
    }
    const before = errors.length;
    const s = schema as Record<string, unknown>;
    if (s.$ref !== undefined) check(resolve(s.$ref as string), v, at);
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((t) => matchesType(v, t)))
        errors.push(`${at}: expected ${types.join(' or ')}, found ${typeOf(v)}`);
    }
    if (s.enum !== undefined && !(s.enum as unknown[]).some((e) => e === v))
      errors.push(`${at}: not one of ${JSON.stringify(s.enum)}`);
    if (s.const !== undefined && s.const !== v) errors.push(`${at}: expected ${JSON.stringify(s.const)}`);
    if (typeof v === 'string') {
      if (s.pattern !== undefined && !new RegExp(s.pattern as string, 'u').test(v))
        errors.push(`${at}: '${v}' does not match the pattern`);
      if (s.minLength !== undefined && [...v].length < (s.minLength as number))
        errors.push(`${at}: too short`);
    }
    if (typeOf(v) === 'object') {
      const obj = v as Record<string, unknown>;
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      for (const key of (s.required ?? []) as string[])
        if (!(key in obj)) errors.push(`${at}: missing '${key}'`);
      for (const [key, child] of Object.entries(obj)) {
        if (s.propertyNames !== undefined) check(s.propertyNames as JsonSchema, key, `${at}/${key} (name)`);
        if (key in props) check(props[key]!, child, `${at}/${key}`);
        else if (s.additionalProperties !== undefined)
          check(s.additionalProperties as JsonSchema, child, `${at}/${key}`);
      }
    }
    if (Array.isArray(v) && s.items !== undefined) {
      for (const [i, item] of v.entries()) check(s.items as JsonSchema, item, `${at}/${i}`);
    }
    if (s.not !== undefined) {
      const mark = errors.length;
      const failed = !check(s.not as JsonSchema, v, at);
      errors.length = mark;
      if (!failed) errors.push(`${at}: matches a forbidden schema`);
    }
    for (const branch of (s.allOf ?? []) as JsonSchema[]) check(branch, v, at);
    if (s.if !== undefined) {
      const mark = errors.length;
      const holds = check(s.if as JsonSchema, v, at);
      errors.length = mark;
      if (holds && s.then !== undefined) check(s.then as JsonSchema, v, at);
    }
    if (s.oneOf !== undefined) {
      const mark = errors.length;
      const passing = (s.oneOf as JsonSchema[]).filter((branch) => {
        const m = errors.length;
        const ok = check(branch, v, at);
        errors.length = m;
        return ok;
      }).length;
      errors.length = mark;
      if (passing !== 1) errors.push(`${at}: matches ${passing} of the oneOf branches, expected exactly 1`);
    }
    return errors.length === before;
  };
  check(root, value, '');
  return errors;
}

/** Every keyword used anywhere in `schema` (property names under `properties`/`$defs` are not keywords). */
export function keywordsOf(schema: unknown, out = new Set<string>()): Set<string> {
  if (typeof schema !== 'object' || schema === null) return out;
  if (Array.isArray(schema)) {
    for (const s of schema) keywordsOf(s, out);
    return out;
  }
  for (const [key, value] of Object.entries(schema)) {
    out.add(key);
    if (key === 'properties' || key === '$defs')
      for (const child of Object.values(value as object)) keywordsOf(child, out);
    else if (key !== 'enum' && key !== 'const' && key !== 'examples' && key !== 'required')
      keywordsOf(value, out);
  }
  return out;
}
