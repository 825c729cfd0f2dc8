// Runtime validation of API input against a compiled schema: relationships to write, check
// targets and subjects. Also finds stored relationships a new schema could not hold (a reload
// that would orphan them is refused) and renders the schema as stable JSON for ReadSchema.
import { InvalidArgumentError } from '../errors.js';
import type { Relationship, SubjectRef } from '../model/relationship.js';
import {
  formatRelationship,
  formatRelationshipWithAttributes,
  formatSubject,
} from '../model/relationship.js';
import { canonicalSchema } from './canonical.js';
import { formatParameterType, ParameterValueError, toCelValue } from './cel-condition.js';
import { allowsSubject } from './compile-relation.js';
import { didYouMean, didYouMeanType } from './did-you-mean.js';
import { formatAllowedSubject } from './format-expression.js';
import type { AllowedSubject, ObjectTypeDef, PermissionDef, RelationDef, Schema } from './schema.js';

function fail(message: string, field: string | undefined): never {
  throw new InvalidArgumentError(message, field === undefined ? undefined : { field });
}

/** The type named `type`, or InvalidArgumentError with a did-you-mean. */
export function requireType(schema: Schema, type: string, field?: string, role = 'type'): ObjectTypeDef {
  const def = schema.types.get(type);
  if (def === undefined) fail(`unknown ${role} '${type}'${didYouMeanType(type, schema.types.keys())}`, field);
  return def;
}

/**
 * Check that `subject` names an existing type and, for a subject set, an existing relation or
 * permission of it. Whether a particular relation accepts the subject is validateRelationship's job.
 */
export function validateSubjectType(
  schema: Schema,
  type: string,
  relation: string | undefined,
  field?: string,
): void {
  const def = requireType(schema, type, field, 'subject type');
  if (relation !== undefined && !def.relations.has(relation) && !def.permissions.has(relation)) {
    const names = [...def.relations.keys(), ...def.permissions.keys()];
    fail(
      `subject set '${type}#${relation}': type '${type}' has no relation or permission '${relation}'${didYouMean(relation, names)}`,
      field,
    );
  }
}

/** The relation `name` of `type`, rejecting permissions: relationships are stored only on relations. */
function requireRelation(def: ObjectTypeDef, name: string, field: string | undefined): RelationDef {
  const rel = def.relations.get(name);
  if (rel !== undefined) return rel;
  if (def.permissions.has(name)) {
    const relations = [...def.relations.keys()].map((r) => `'${r}'`).join(', ') || 'none';
    fail(
      `'${name}' is a permission of '${def.name}', computed from relations; write relationships to one of its relations (${relations})`,
      field,
    );
  }
  fail(`type '${def.name}' has no relation '${name}'${didYouMean(name, def.relations.keys())}`, field);
}

function describeSubject(s: SubjectRef): string {
  return s.id === '*' ? `the wildcard '${formatSubject(s)}'` : `subject '${formatSubject(s)}'`;
}

/**
 * Check a relationship against the schema: the resource type and relation exist, the subject's
 * type (and relation) exist, and the relation allows that kind of subject. Throws
 * InvalidArgumentError naming the offending part, with a did-you-mean where a name is close.
 */
export function validateRelationship(schema: Schema, rel: Relationship, field?: string): void {
  const type = requireType(schema, rel.resource.type, field);
  const relation = requireRelation(type, rel.relation, field);
  validateSubjectType(schema, rel.subject.type, rel.subject.relation, field);
  if (!allowsSubject(relation.allowed, rel.subject)) {
    const allows =
      relation.allowed.length === 0
        ? 'no subject type (its type list has errors)'
        : relation.allowed.map(formatAllowedSubject).join(', ');
    fail(
      `relation '${type.name}#${relation.name}' does not allow ${describeSubject(rel.subject)} in '${formatRelationship(rel)}'; it allows ${allows}`,
      field,
    );
  }
  if (rel.condition !== undefined || rel.expiresAt !== undefined) validateAttributes(schema, rel, field);
  else if (allowedEntry(relation.allowed, rel.subject)?.requiresCondition === true) {
    const entry = allowedEntry(relation.allowed, rel.subject)!;
    fail(
      `relation '${type.name}#${relation.name}' requires a condition on '${formatRelationship(rel)}' (one of ${entry.conditions!.join(', ')}); write it as '${formatRelationship(rel)}[${entry.conditions![0]}]'`,
      field,
    );
  }
}

function allowedEntry(
  allowed: readonly AllowedSubject[],
  s: Relationship['subject'],
): AllowedSubject | undefined {
  const wildcard = s.id === '*';
  const relation = s.relation === '' ? undefined : s.relation;
  return allowed.find((a) => a.type === s.type && a.wildcard === wildcard && a.relation === relation);
}

/** A relationship's condition is declared, allowed on its subject kind, and its stored values fit the parameters. */
function validateAttributes(schema: Schema, rel: Relationship, field: string | undefined): void {
  const shown = formatRelationshipWithAttributes(rel);
  if (rel.expiresAt !== undefined && !Number.isFinite(rel.expiresAt)) {
    fail(`relationship '${formatRelationship(rel)}' has an expiry that is not a time`, field);
  }
  const condition = rel.condition;
  const entry = allowedEntry(
    schema.types.get(rel.resource.type)!.relations.get(rel.relation)!.allowed,
    rel.subject,
  )!;
  if (condition === undefined) {
    if (entry.requiresCondition === true) {
      fail(
        `relation '${rel.resource.type}#${rel.relation}' requires a condition on '${shown}' (one of ${entry.conditions!.join(', ')})`,
        field,
      );
    }
    return;
  }
  const def = schema.conditions?.get(condition.name);
  if (def === undefined) {
    const names = [...(schema.conditions?.keys() ?? [])];
    fail(
      `relationship '${shown}' names condition '${condition.name}', which the schema does not declare${didYouMean(condition.name, names)}`,
      field,
    );
  }
  if (!(entry.conditions ?? []).includes(condition.name)) {
    const allowed = entry.conditions === undefined ? 'no condition' : `only ${entry.conditions.join(', ')}`;
    fail(
      `relation '${rel.resource.type}#${rel.relation}' does not allow condition '${condition.name}' on ${describeSubject(rel.subject)} (it allows ${allowed}); add '${formatAllowedSubject(entry)} with ${condition.name}' to its types`,
      field,
    );
  }
  for (const [name, value] of Object.entries(condition.context ?? {})) {
    const type = def.parameters.get(name);
    if (type === undefined) {
      fail(
        `relationship '${shown}': condition '${def.name}' has no parameter '${name}'${didYouMean(name, def.parameters.keys())}; its parameters are ${[...def.parameters.keys()].join(', ') || '(none)'}`,
        field,
      );
    }
    try {
      toCelValue(type, value);
    } catch (err) {
      if (!(err instanceof ParameterValueError)) throw err;
      fail(
        `relationship '${shown}': parameter '${name}' of condition '${def.name}' is ${formatParameterType(type)}: ${err.message}`,
        field,
      );
    }
  }
}

/** Check that `permissionOrRelation` exists on `resourceType`; returns its definition. */
export function validateCheckTarget(
  schema: Schema,
  resourceType: string,
  permissionOrRelation: string,
  field?: string,
): RelationDef | PermissionDef {
  const type = requireType(schema, resourceType, field);
  const found = type.permissions.get(permissionOrRelation) ?? type.relations.get(permissionOrRelation);
  if (found !== undefined) return found;
  const names = [...type.permissions.keys(), ...type.relations.keys()];
  fail(
    `type '${resourceType}' has no permission or relation '${permissionOrRelation}'${didYouMean(permissionOrRelation, names)}`,
    field,
  );
}

/** A stored relationship a schema could not hold, and why (validateRelationship's message). */
export interface OrphanedRelationship {
  readonly relationship: Relationship;
  readonly reason: string;
}

/** Like findOrphanedRelationships, with the reason each one is refused. */
export function explainOrphanedRelationships(
  schema: Schema,
  relationships: Iterable<Relationship>,
): OrphanedRelationship[] {
  const orphans: OrphanedRelationship[] = [];
  for (const relationship of relationships) {
    try {
      validateRelationship(schema, relationship);
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      orphans.push({ relationship, reason: err.message });
    }
  }
  return orphans;
}

/** The relationships, in input order, that `schema` could not hold (validateRelationship would reject them). */
export function findOrphanedRelationships(
  schema: Schema,
  relationships: Iterable<Relationship>,
): Relationship[] {
  const orphans: Relationship[] = [];
  for (const rel of relationships) {
    try {
      validateRelationship(schema, rel);
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      orphans.push(rel);
    }
  }
  return orphans;
}

/** The canonical JSON form of the schema (types, relations, permissions sorted by name). */
export function schemaToJson(schema: Schema): unknown {
  return canonicalSchema(
    schema.types.values(),
    schema.conditions?.values() ?? [],
    schema.missingContext ?? 'partial',
  );
}
