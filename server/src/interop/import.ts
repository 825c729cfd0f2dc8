// `gatehouse import`'s core, without I/O: another system's model (and data, and assertions)
// → Gatehouse policy files, plus everything that could not be imported.
import { parse as parseYaml } from 'yaml';
import type { Unsupported } from './model.js';
import { parseOpenFgaDsl } from './openfga/parse-dsl.js';
import { parseOpenFgaJson } from './openfga/parse-json.js';
import {
  importOpenFgaModel,
  openFgaTupleCondition,
  openFgaTupleToRelationship,
} from './openfga/to-gatehouse.js';
import type { ImportedAssertion, PolicyFileText } from './render.js';
import { renderPolicyFiles } from './render.js';
import { parseSpiceDbSchema } from './spicedb/parse-schema.js';
import { importSpiceDbSchema, spiceDbRelationship } from './spicedb/to-gatehouse.js';

export interface ImportResult {
  readonly files: PolicyFileText[];
  /** Every assertion imported, including those with context or a conditional answer. */
  readonly assertions: readonly ImportedAssertion[];
  readonly unsupported: readonly Unsupported[];
  /** Source type names renamed on import (`scopeA` → `scope_a`), to translate requests. */
  readonly typeNames: ReadonlyMap<string, string>;
}

export interface OpenFgaTuple {
  readonly object: string;
  readonly relation: string;
  readonly user: string;
  readonly condition?: unknown;
}

/** An OpenFGA model (DSL text, or the JSON form when it starts with `{`) and optional tuples → policy files. */
export function importOpenFga(dsl: string, tuples: readonly OpenFgaTuple[], source: string): ImportResult {
  const parsed = dsl.trimStart().startsWith('{') ? parseOpenFgaJson(dsl) : parseOpenFgaDsl(dsl);
  const model = importOpenFgaModel(parsed);
  const relationships: string[] = [];
  for (const t of tuples) {
    const condition = openFgaTupleCondition(t.condition);
    if (typeof condition === 'string') {
      model.unsupported.push({
        feature: 'condition',
        where: `tuple ${t.object}#${t.relation}@${t.user}`,
        detail: condition,
      });
      continue;
    }
    relationships.push(openFgaTupleToRelationship(model, { ...t, condition }));
  }
  return {
    files: renderPolicyFiles(model, relationships, [], source),
    assertions: [],
    unsupported: model.unsupported,
    typeNames: model.typeNames,
  };
}

/** Read tuples from YAML or JSON: a list, or `{tuples: [...]}` / `{tuple_keys: [...]}`. */
export function parseOpenFgaTuples(text: string): OpenFgaTuple[] {
  const doc = parseYaml(text) as unknown;
  const list = Array.isArray(doc)
    ? doc
    : ((doc as { tuples?: unknown; tuple_keys?: unknown } | null)?.tuples ??
      (doc as { tuple_keys?: unknown } | null)?.tuple_keys);
  if (!Array.isArray(list)) throw new Error("expected a list of tuples, or a mapping with 'tuples'");
  return list.map((t, i) => {
    const o = t as Record<string, unknown>;
    if (typeof o.object !== 'string' || typeof o.relation !== 'string' || typeof o.user !== 'string') {
      throw new Error(`tuple ${i + 1} needs string 'object', 'relation' and 'user'`);
    }
    return { object: o.object, relation: o.relation, user: o.user, condition: o.condition };
  });
}

export interface SpiceDbValidationFile {
  readonly schema: string;
  readonly relationships: readonly string[];
  readonly assertTrue: readonly string[];
  readonly assertFalse: readonly string[];
  readonly assertCaveated: readonly string[];
  /** `resource#permission` → the subjects listed as holding it (from `validation`). */
  readonly expected: ReadonlyMap<string, readonly string[]>;
}

/**
 * The relationships of one line, split at whitespace outside `[...]` and string literals: a
 * caveat's context (`[c:{"a": [1, 2]}]`) may hold spaces.
 */
function splitRelationships(line: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '\\') {
        current += ch + (line[i + 1] ?? '');
        i++;
        continue;
      }
      if (ch === '"') quoted = false;
    } else if (ch === '"' && depth > 0) quoted = true;
    else if (ch === '[') depth++;
    else if (ch === ']') depth--;
    else if (depth === 0 && ch === '/' && line[i + 1] === '/')
      break; // a trailing comment
    else if (depth === 0 && /\s/.test(ch)) {
      if (current !== '') out.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  if (current !== '') out.push(current);
  return out;
}

/** A SpiceDB validation YAML (`schema`, `relationships`, `assertions`, `validation`). */
export function parseSpiceDbValidationFile(text: string): SpiceDbValidationFile {
  const doc = (parseYaml(text) ?? {}) as Record<string, unknown>;
  const schema = typeof doc.schema === 'string' ? doc.schema : '';
  // One relationship per line (folded YAML joins some with spaces); `//` starts a comment.
  const rels =
    typeof doc.relationships === 'string'
      ? doc.relationships.split('\n').flatMap((line) => splitRelationships(line.replace(/^\s*\/\/.*$/, '')))
      : [];
  const assertions = (doc.assertions ?? {}) as Record<string, unknown>;
  // An unquoted `… with {"x": 2}` reads as a one-key mapping in YAML: put it back together.
  const item = (v: unknown): string =>
    v !== null && typeof v === 'object'
      ? Object.entries(v as Record<string, unknown>)
          .map(([k, x]) => `${k}: ${String(x)}`)
          .join(', ')
      : String(v);
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(item) : []);
  const expected = new Map<string, string[]>();
  for (const [key, subjects] of Object.entries((doc.validation ?? {}) as Record<string, unknown>)) {
    expected.set(
      key,
      list(subjects)
        .map((s) => /^\[([^\]]*)\]/.exec(s)?.[1])
        .filter((s): s is string => s !== undefined),
    );
  }
  return {
    schema,
    relationships: rels,
    assertTrue: list(assertions.assertTrue),
    assertFalse: list(assertions.assertFalse),
    assertCaveated: list(assertions.assertCaveated),
    expected,
  };
}

/**
 * `res#perm@sub:id#... [with {"k": v}]` → the Gatehouse check and its context; a reason
 * instead when the context is not a JSON object.
 */
function spiceDbCheck(
  text: string,
): { check: string; context?: Record<string, unknown> | undefined } | { reason: string } {
  const m = /^(.*?)\s+with\s+(.*)$/s.exec(text.trim());
  const check = (m === null ? text : m[1]!).trim().replace(/#\.\.\.$/, '');
  if (m === null) return { check };
  try {
    const context = JSON.parse(m[2]!) as unknown;
    if (typeof context !== 'object' || context === null || Array.isArray(context)) {
      return { reason: `the context '${m[2]}' is not a JSON object` };
    }
    return { check, context: context as Record<string, unknown> };
  } catch (err) {
    return { reason: `the context '${m[2]}' is not JSON: ${(err as Error).message}` };
  }
}

/** A SpiceDB schema (`.zed`) or validation file → policy files. */
export function importSpiceDb(text: string, source: string, isValidationFile: boolean): ImportResult {
  const file: SpiceDbValidationFile = isValidationFile
    ? parseSpiceDbValidationFile(text)
    : {
        schema: text,
        relationships: [],
        assertTrue: [],
        assertFalse: [],
        assertCaveated: [],
        expected: new Map(),
      };
  const model = importSpiceDbSchema(parseSpiceDbSchema(file.schema));
  const relationships: string[] = [];
  for (const r of file.relationships) {
    const out = spiceDbRelationship(r);
    if ('relationship' in out) relationships.push(out.relationship);
    else model.unsupported.push({ feature: out.feature, where: `relationship ${r}`, detail: out.reason });
  }
  const assertions: ImportedAssertion[] = [];
  const add = (kind: ImportedAssertion['kind'], text: string): void => {
    const parsed = spiceDbCheck(text);
    if ('reason' in parsed) {
      model.unsupported.push({ feature: 'caveat', where: `assertion ${text}`, detail: parsed.reason });
    } else assertions.push({ kind, ...parsed });
  };
  for (const a of file.assertTrue) add('allowed', a);
  for (const a of file.assertFalse) add('denied', a);
  for (const a of file.assertCaveated) add('conditional', a);
  for (const [resource, subjects] of file.expected) {
    for (const s of subjects) {
      if (s.includes(' ') || s.includes('[') || s.endsWith(':*')) continue; // wildcards with exclusions: not a single check
      add('allowed', `${resource}@${s}`);
    }
  }
  return {
    files: renderPolicyFiles(model, relationships, assertions, source),
    assertions,
    unsupported: model.unsupported,
    typeNames: model.typeNames,
  };
}
