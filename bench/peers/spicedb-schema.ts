// Translates a compiled Gatehouse Schema into SpiceDB's schema language, so SpiceDB answers
// over exactly the same model and relationships (the two models are both Zanzibar-style).
// Object ids map `.` to `=` because SpiceDB ids do not allow dots, and names shorter than
// SpiceDB's 3-character minimum get a `_r` suffix.
import type { Expr, Schema } from '../../server/src/schema/schema.js';

/** A relation, permission or type name SpiceDB accepts (at least 3 characters). */
export function spiceName(name: string): string {
  return name.length >= 3 ? name : `${name}_r`;
}

/** `ns/type` with each segment made acceptable. */
export function spiceType(type: string): string {
  return type.split('/').map(spiceName).join('/');
}

function expression(e: Expr): string {
  switch (e.op) {
    case 'ref':
      return spiceName(e.name);
    case 'arrow':
      return `${spiceName(e.via)}->${spiceName(e.name)}`;
    case 'allArrow':
      return `${spiceName(e.via)}.all(${spiceName(e.name)})`;
    case 'union':
      return `(${e.operands.map(expression).join(' + ')})`;
    case 'intersection':
      return `(${e.operands.map(expression).join(' & ')})`;
    case 'exclusion':
      return `(${expression(e.base)} - ${expression(e.subtract)})`;
  }
}

export function toSpiceDbSchema(schema: Schema): string {
  const out: string[] = [];
  for (const type of [...schema.types.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const lines = [`definition ${spiceType(type.name)} {`];
    for (const rel of type.relations.values()) {
      const allowed = rel.allowed.map((a) =>
        a.wildcard
          ? `${spiceType(a.type)}:*`
          : a.relation === undefined
            ? spiceType(a.type)
            : `${spiceType(a.type)}#${spiceName(a.relation)}`,
      );
      lines.push(`  relation ${spiceName(rel.name)}: ${allowed.join(' | ')}`);
    }
    for (const perm of type.permissions.values()) {
      lines.push(`  permission ${spiceName(perm.name)} = ${expression(perm.expr)}`);
    }
    lines.push('}');
    out.push(lines.join('\n'));
  }
  return `${out.join('\n\n')}\n`;
}

/** Gatehouse object id → SpiceDB object id (reversible for ids without `=`). */
export function toSpiceDbId(id: string): string {
  return id === '*' ? id : id.replaceAll('.', '=');
}

export function fromSpiceDbId(id: string): string {
  return id.replaceAll('=', '.');
}
