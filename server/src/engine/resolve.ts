// Turns request names into the engine's numbers, rejecting unknown types, permissions and
// subject relations with InvalidArgumentError that quotes the input and names the field.
import { InvalidArgumentError } from '../errors.js';
import type { GraphIndex } from '../graph/graph-index.js';
import { NOT_INTERNED } from '../graph/interner.js';
import type { SubjectRef } from '../model/relationship.js';
import { WILDCARD_ID } from '../model/relationship.js';
import { closestName, didYouMeanType } from '../schema/did-you-mean.js';
import type { SchemaModel, SchemaNode } from './schema-model.js';

/** A subject resolved to numbers: see Query for the meaning of each field. */
export interface ResolvedSubject {
  readonly typeIndex: number;
  readonly id: number;
  readonly node: number;
  readonly wildcard: boolean;
}

function suggestion(name: string, candidates: Iterable<string>): string {
  const close = closestName(name, candidates);
  return close === undefined ? '' : ` (did you mean '${close}'?)`;
}

/** A suggestion among types, comparing unqualified names within the namespace (see didYouMeanType). */
function typeSuggestion(name: string, candidates: Iterable<string>): string {
  const hint = didYouMeanType(name, candidates);
  return hint === '' ? '' : ` (${hint.slice(2, -1)}?)`;
}

/** Throws unless `type` is a type of the schema. */
export function requireType(model: SchemaModel, type: string, field: string): number {
  const index = model.typeIndex(type);
  if (index === undefined) {
    throw new InvalidArgumentError(
      `${field} type '${type}' is not defined in the schema${typeSuggestion(type, model.schema.types.keys())}; use one of the schema's types`,
      { field },
    );
  }
  return index;
}

/** The node for `type#name` (a permission or a relation). `type` must already be known. */
export function requireNode(model: SchemaModel, type: string, name: string, field: string): SchemaNode {
  const node = model.node(type, name);
  if (node === undefined) {
    const def = model.schema.types.get(type)!;
    const names = [...def.relations.keys(), ...def.permissions.keys()];
    throw new InvalidArgumentError(
      `type '${type}' has no permission or relation '${name}'${suggestion(name, names)}; declared: ${names.join(', ') || '(none)'}`,
      { field },
    );
  }
  return node;
}

export function resolveSubject(
  model: SchemaModel,
  graph: GraphIndex,
  subject: SubjectRef,
  field: string,
): ResolvedSubject {
  const typeIndex = requireType(model, subject.type, field);
  const wildcard = subject.id === WILDCARD_ID;
  // '' means "no relation", as in store filters (proto3 strings cannot be absent).
  const relation = subject.relation === '' ? undefined : subject.relation;
  if (wildcard && relation !== undefined) {
    throw new InvalidArgumentError(
      `${field} '${subject.type}:*#${relation}' is not valid: a wildcard cannot name a relation`,
      { field },
    );
  }
  const node = relation === undefined ? -1 : requireNode(model, subject.type, relation, field).index;
  const id = wildcard ? NOT_INTERNED : graph.interner(subject.type)!.lookup(subject.id);
  return { typeIndex, id, node, wildcard };
}
