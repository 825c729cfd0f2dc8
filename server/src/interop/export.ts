// `gatehouse export openfga|spicedb`: a compiled Gatehouse schema in the OpenFGA modelling
// language (schema 1.1) or the SpiceDB schema language. Every compound operand is
// parenthesised (OpenFGA does not mix operators without them; SpiceDB's precedence differs
// from Gatehouse's). Conditions become OpenFGA `condition` / SpiceDB `caveat` blocks (CEL as is)
// and `type with cond` entries. Deletion consequences have no equivalent and are written as comments.
import { formatSubject } from '../model/relationship.js';
import { formatParameterType } from '../schema/cel-condition.js';
import { formatAllowedSubject, formatExpression } from '../schema/format-expression.js';
import type { AllowedSubject, ConditionDef, Expr, Schema } from '../schema/schema.js';

type Dialect = {
  readonly or: string;
  readonly and: string;
  readonly butNot: string;
  arrow(via: string, name: string): string;
  /** `via.all(name)`; absent when the target language has no intersection arrow. */
  allArrow?(via: string, name: string): string;
};

/** The schema uses a construct the target language cannot express: nothing is written. */
export class NotExportableError extends Error {
  override readonly name = 'NotExportableError';
  constructor(
    message: string,
    /** `type#permission` of every permission that cannot be exported. */
    readonly permissions: readonly string[],
  ) {
    super(message);
  }
}

const OPENFGA: Dialect = {
  or: ' or ',
  and: ' and ',
  butNot: ' but not ',
  arrow: (via, name) => `${name} from ${via}`,
};
const SPICEDB: Dialect = {
  or: ' + ',
  and: ' & ',
  butNot: ' - ',
  arrow: (via, name) => `${via}->${name}`,
  allArrow: (via, name) => `${via}.all(${name})`,
};

function render(e: Expr, d: Dialect, nested = false): string {
  const wrap = (s: string): string => (nested ? `(${s})` : s);
  switch (e.op) {
    case 'ref':
      return e.name;
    case 'arrow':
      return d.arrow(e.via, e.name);
    case 'allArrow':
      // exportOpenFga refuses such schemas before rendering (refuseAllArrows).
      return d.allArrow!(e.via, e.name);
    case 'union':
      return wrap(e.operands.map((o) => render(o, d, true)).join(d.or));
    case 'intersection':
      return wrap(e.operands.map((o) => render(o, d, true)).join(d.and));
    case 'exclusion':
      return wrap(`${render(e.base, d, true)}${d.butNot}${render(e.subtract, d, true)}`);
  }
}

/** `user`, and `user with c` for each condition it may carry (without the bare one when one is required). */
function allowedEntries(a: AllowedSubject): string[] {
  const base = formatAllowedSubject(a);
  const conditioned = (a.conditions ?? []).map((c) => `${base} with ${c}`);
  return a.requiresCondition === true ? conditioned : [base, ...conditioned];
}

const sortedConditions = (schema: Schema): ConditionDef[] =>
  [...(schema.conditions?.values() ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1));

/** `x: int, ips: list<string>` (OpenFGA) or `x int, ips list<string>` (SpiceDB). */
function parameterList(c: ConditionDef, separator: string): string {
  return [...c.parameters]
    .map(([name, type]) => `${name}${separator}${formatParameterType(type)}`)
    .join(', ');
}

function conditionBlock(keyword: string, c: ConditionDef, separator: string): string[] {
  return [
    '',
    `${keyword} ${c.name}(${parameterList(c, separator)}) {`,
    ...c.expression
      .trim()
      .split('\n')
      .map((l) => `  ${l.trim()}`),
    '}',
  ];
}

const sortedTypes = (schema: Schema) => [...schema.types.values()].sort((a, b) => (a.name < b.name ? -1 : 1));

function usesAllArrow(e: Expr): boolean {
  switch (e.op) {
    case 'allArrow':
      return true;
    case 'union':
    case 'intersection':
      return e.operands.some(usesAllArrow);
    case 'exclusion':
      return usesAllArrow(e.base) || usesAllArrow(e.subtract);
    default:
      return false;
  }
}

/**
 * OpenFGA has no intersection arrow (`x from parent` holds when any parent does), and no
 * rewrite of `parent.all(x)` into its operators means the same for every data set: refuse.
 */
function refuseAllArrows(schema: Schema): void {
  const found: string[] = [];
  for (const t of sortedTypes(schema)) {
    for (const p of t.permissions.values()) {
      if (usesAllArrow(p.expr)) found.push(`${t.name}#${p.name} = ${formatExpression(p.expr)}`);
    }
  }
  if (found.length === 0) return;
  throw new NotExportableError(
    `OpenFGA has no intersection arrow ('via.all(name)': true only when every object of 'via' holds 'name'; OpenFGA's 'name from via' holds when any one does), so ${found.length === 1 ? 'this permission' : `these ${found.length} permissions`} cannot be exported: ${found.map((f) => `'${f}'`).join(', ')}; export to SpiceDB, or rewrite ${found.length === 1 ? 'it' : 'them'} without '.all()'`,
    found.map((f) => f.slice(0, f.indexOf(' = '))),
  );
}

/**
 * The schema as an OpenFGA model (DSL). Throws NotExportableError, writing nothing, when a
 * permission uses `via.all(name)`, which OpenFGA cannot express.
 */
export function exportOpenFga(schema: Schema): string {
  refuseAllArrows(schema);
  const lines = ['model', '  schema 1.1'];
  for (const t of sortedTypes(schema)) {
    lines.push('', `type ${t.name}`);
    if (t.relations.size + t.permissions.size === 0) continue;
    lines.push('  relations');
    for (const r of t.relations.values()) {
      if (r.ifEmptiedByDelete !== undefined) {
        lines.push(
          `    # Gatehouse: if_emptied_by_delete ${formatSubject(r.ifEmptiedByDelete)} (no OpenFGA equivalent)`,
        );
      }
      lines.push(`    define ${r.name}: [${r.allowed.flatMap(allowedEntries).join(', ')}]`);
    }
    for (const p of t.permissions.values()) lines.push(`    define ${p.name}: ${render(p.expr, OPENFGA)}`);
  }
  for (const c of sortedConditions(schema)) lines.push(...conditionBlock('condition', c, ': '));
  return `${lines.join('\n')}\n`;
}

/** The schema in the SpiceDB schema language. */
export function exportSpiceDb(schema: Schema): string {
  // Every SpiceDB relationship may expire once the schema says `use expiration`; Gatehouse's may.
  const blocks: string[] = sortedConditions(schema).map((c) =>
    conditionBlock('caveat', c, ' ').slice(1).join('\n'),
  );
  for (const t of sortedTypes(schema)) {
    const body: string[] = [];
    for (const r of t.relations.values()) {
      if (r.ifEmptiedByDelete !== undefined) {
        body.push(
          `  // Gatehouse: if_emptied_by_delete ${formatSubject(r.ifEmptiedByDelete)} (no SpiceDB equivalent)`,
        );
      }
      body.push(`  relation ${r.name}: ${r.allowed.flatMap(allowedEntries).join(' | ')}`);
    }
    for (const p of t.permissions.values()) body.push(`  permission ${p.name} = ${render(p.expr, SPICEDB)}`);
    blocks.push(
      body.length === 0 ? `definition ${t.name} {}` : `definition ${t.name} {\n${body.join('\n')}\n}`,
    );
  }
  return `${blocks.join('\n\n')}\n`;
}
