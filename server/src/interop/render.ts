// Writes an ImportedModel (plus relationships and assertions) as Gatehouse policy files: one
// schema file per namespace, a relationships file and a test file, with a comment per construct
// mapping it to what it came from, and a header listing what could not be imported.
import { formatExpression } from '../schema/format-expression.js';
import type { ImportedCondition, ImportedModel, ImportedType, Unsupported } from './model.js';

export interface PolicyFileText {
  readonly path: string;
  readonly content: string;
}

export interface ImportedAssertion {
  /** `conditional`: granted only if context the request lacks is supplied (SpiceDB's assertCaveated). */
  readonly kind: 'allowed' | 'denied' | 'conditional';
  /** `type:id#permission@subject`, full type names. */
  readonly check: string;
  /** Request context the assertion is checked with (SpiceDB's `... with {"k": v}`). */
  readonly context?: Readonly<Record<string, unknown>> | undefined;
}

const HEADER = '# yaml-language-server: $schema=https://gatehouse.dev/schema/gatehouse-policy.schema.json';
const q = (s: string): string => JSON.stringify(s);

function namespaceOf(type: string): string | undefined {
  // Everything before the last '/': a namespace may have several levels (`org/team/user`).
  const slash = type.lastIndexOf('/');
  return slash < 0 ? undefined : type.slice(0, slash);
}

/** A type name as a file of `namespace` writes it. */
function local(type: string, namespace: string | undefined): string {
  return namespace !== undefined && type.startsWith(`${namespace}/`)
    ? type.slice(namespace.length + 1)
    : type;
}

function unsupportedLines(items: readonly Unsupported[]): string[] {
  if (items.length === 0) return [];
  return [
    '# NOT IMPORTED (Gatehouse cannot express these yet; the answers that depend on them will differ):',
    ...items.map((u) => `#   - ${u.feature} at ${u.where}: ${u.detail}`),
  ];
}

/** The `conditions:` section: CEL carried as is, as a YAML block scalar (no escaping to get wrong). */
function conditionLines(conditions: readonly ImportedCondition[]): string[] {
  if (conditions.length === 0) return [];
  const lines = ['conditions:'];
  for (const c of conditions) {
    lines.push(`  # ${c.comment.replace(/\s*\n\s*/g, ' ')}`);
    lines.push(`  ${c.name}:`);
    if (c.parameters.length > 0) {
      lines.push('    parameters:');
      for (const [name, type] of c.parameters) lines.push(`      ${name}: ${q(type)}`);
    }
    lines.push('    expression: |-');
    for (const line of c.expression.split('\n')) lines.push(`      ${line.trim()}`);
  }
  return lines;
}

function schemaFile(
  namespace: string | undefined,
  types: readonly ImportedType[],
  source: string,
  conditions: readonly ImportedCondition[],
  missingContext: 'strict' | undefined,
): string {
  const lines = [HEADER, `# Imported from ${source} by 'gatehouse import'.`, 'kind: schema'];
  if (namespace !== undefined) lines.push(`namespace: ${namespace}`);
  if (missingContext !== undefined && conditions.length > 0) {
    lines.push(
      "# The source's rule for conditions lacking a parameter: undecided until every declared",
      '# parameter is given (docs/conditions.md, "Missing context"). Remove it to answer from',
      '# what the given values decide.',
      `missing_context: ${missingContext}`,
    );
  }
  lines.push(...conditionLines(conditions));
  lines.push('types:');
  for (const t of types) {
    const name = local(t.name, namespace);
    if (t.comment !== undefined) lines.push(`  # ${t.comment}`);
    if (t.relations.length === 0 && t.permissions.length === 0) {
      lines.push(`  ${name}: {}`);
      continue;
    }
    lines.push(`  ${name}:`);
    if (t.relations.length > 0) {
      lines.push('    relations:');
      for (const r of t.relations) {
        lines.push(`      # ${r.comment}`);
        lines.push(`      ${r.name}: ${q(r.allowed.map((a) => local(a, namespace)).join(' or '))}`);
      }
    }
    if (t.permissions.length > 0) {
      lines.push('    permissions:');
      for (const p of t.permissions) {
        lines.push(`      # ${p.comment}`);
        lines.push(`      ${p.name}: ${q(formatExpression(p.expr))}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The policy directory's files for an imported model, its relationships and assertions. */
export function renderPolicyFiles(
  model: ImportedModel,
  relationships: readonly string[],
  assertions: readonly ImportedAssertion[],
  source: string,
  testName = `imported from ${source}`,
): PolicyFileText[] {
  const byNamespace = new Map<string | undefined, ImportedType[]>();
  for (const t of model.types) {
    const ns = namespaceOf(t.name);
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), t]);
  }
  const files: PolicyFileText[] = [];
  for (const [ns, types] of byNamespace) {
    // Condition names are global: the first schema file declares them all.
    files.push({
      path: ns === undefined ? 'schema.yaml' : `${ns.replaceAll('/', '.')}.schema.yaml`,
      content: schemaFile(
        ns,
        types,
        source,
        files.length === 0 ? model.conditions : [],
        model.missingContext,
      ),
    });
  }
  const notes = unsupportedLines(model.unsupported);
  if (notes.length > 0) files[0] = { ...files[0]!, content: `${notes.join('\n')}\n${files[0]!.content}` };
  if (relationships.length > 0) {
    const renamed = [...model.storedAs].map(([from, to]) => `#   ${from} is stored as ${to}`);
    files.push({
      path: 'relationships.yaml',
      content: [
        HEADER,
        `# Imported from ${source}.`,
        ...(renamed.length > 0
          ? ['# Relations both assignable and computed keep their stored tuples apart:', ...renamed]
          : []),
        'kind: relationships',
        'relationships:',
        ...relationships.map((r) => `  - ${q(r)}`),
        '',
      ].join('\n'),
    });
  }
  // A test file asserts allowed/denied without request context; the others are listed for the
  // reader (and returned by the importer) rather than dropped.
  const plain = assertions.filter((a) => a.kind !== 'conditional' && a.context === undefined);
  const withContext = assertions.filter((a) => a.kind === 'conditional' || a.context !== undefined);
  if (plain.length > 0 || withContext.length > 0) {
    files.push({
      path: 'imported.test.yaml',
      content: [
        HEADER,
        `# Assertions imported from ${source}.`,
        ...(withContext.length > 0
          ? [
              "# Assertions with request context or a conditional answer (checked by the importer's caller):",
              ...withContext.map(
                (a) =>
                  `#   ${a.kind}: ${a.check}${a.context === undefined ? '' : ` with ${JSON.stringify(a.context)}`}`,
              ),
            ]
          : []),
        'kind: test',
        `name: ${q(testName)}`,
        ...(plain.length > 0
          ? ['assertions:', ...plain.map((a) => `  - ${a.kind}: ${q(a.check)}`)]
          : ['assertions: []']),
        '',
      ].join('\n'),
    });
  }
  return files;
}
