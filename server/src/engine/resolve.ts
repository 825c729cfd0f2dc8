// The one resolve step of every request: names (types, permissions, relations) become the
// schema's numbers once, ids and request facts are checked once, and every mistake is one
// RequestFieldError whose path is relative to the request (a batch prefixes `items[i].`).
// Checks, batch items, explain, both lookups, written and contextual relationships pass through
// here; the engine evaluates what comes out (Resolved*) without looking a name up again.
import { InvalidArgumentError, LimitExceededError, RequestFieldError } from '../errors.js';
import type { GraphIndex } from '../graph/graph-index.js';
import { NOT_INTERNED } from '../graph/interner.js';
import {
  OBJECT_ID_PATTERN,
  type ObjectRef,
  RELATION_NAME_PATTERN,
  type Relationship,
  type SubjectRef,
  TYPE_NAME_PATTERN,
  WILDCARD_ID,
} from '../model/relationship.js';
import { closestName, didYouMeanType } from '../schema/did-you-mean.js';
import type { Schema } from '../schema/schema.js';
import { validateRelationship } from '../schema/validate.js';
import { SchemaModel, type SchemaNode } from './schema-model.js';
import type { CheckRequest, LookupResourcesRequest, LookupSubjectsRequest, RequestFacts } from './types.js';

/** Most contextual relationships one request may carry: they are indexed per request. */
export const MAX_CONTEXTUAL_RELATIONSHIPS = 1000;

/** A subject resolved to numbers: see Query for the meaning of each field. */
export interface ResolvedSubject {
  readonly typeIndex: number;
  readonly id: number;
  readonly node: number;
  readonly wildcard: boolean;
}

const models = new WeakMap<Schema, SchemaModel>();

/**
 * The one SchemaModel of `schema`: the resolver and every engine over the schema share it, so
 * the node numbers of a resolved request are the engine's own.
 */
export function schemaModelOf(schema: Schema): SchemaModel {
  let model = models.get(schema);
  if (model === undefined) {
    model = new SchemaModel(schema);
    models.set(schema, model);
  }
  return model;
}

/** A resolved subject as the engine's numbers in `graph` (ids interned now: the graph moves on). */
function subjectIn(graph: GraphIndex, subject: SubjectRef, typeIndex: number, node: number): ResolvedSubject {
  const wildcard = subject.id === WILDCARD_ID;
  const id = wildcard ? NOT_INTERNED : graph.interner(subject.type)!.lookup(subject.id);
  return { typeIndex, id, node, wildcard };
}

/** A check whose names all exist and whose ids are well formed: only Resolver.check makes one. */
export class ResolvedCheck implements CheckRequest {
  constructor(
    /** The model the numbers below index. */
    readonly model: SchemaModel,
    readonly resource: ObjectRef,
    readonly permission: string,
    /** `relation` is absent for a plain subject (never ''). */
    readonly subject: SubjectRef,
    /** The node of `resource.type#permission`. */
    readonly node: number,
    readonly subjectTypeIndex: number,
    /** The node of `subject.type#subject.relation`, or -1. */
    readonly subjectNode: number,
    readonly context: Readonly<Record<string, unknown>> | undefined,
    readonly contextualRelationships: readonly Relationship[] | undefined,
    readonly now: number | undefined,
  ) {}

  get wildcard(): boolean {
    return this.subject.id === WILDCARD_ID;
  }

  /** The subject as the engine's numbers in `graph` (ids interned now: the graph moves on). */
  subjectIn(graph: GraphIndex): ResolvedSubject {
    return subjectIn(graph, this.subject, this.subjectTypeIndex, this.subjectNode);
  }
}

/** A LookupResources request whose names all exist: only Resolver.lookupResources makes one. */
export class ResolvedLookupResources implements LookupResourcesRequest {
  constructor(
    readonly model: SchemaModel,
    readonly resourceType: string,
    readonly permission: string,
    readonly subject: SubjectRef,
    readonly limit: number | undefined,
    readonly cursor: string | undefined,
    readonly node: SchemaNode,
    readonly subjectTypeIndex: number,
    readonly subjectNode: number,
    readonly context: Readonly<Record<string, unknown>> | undefined,
    readonly contextualRelationships: readonly Relationship[] | undefined,
    readonly now: number | undefined,
  ) {}

  subjectIn(graph: GraphIndex): ResolvedSubject {
    return subjectIn(graph, this.subject, this.subjectTypeIndex, this.subjectNode);
  }
}

/** A LookupSubjects request whose names all exist: only Resolver.lookupSubjects makes one. */
export class ResolvedLookupSubjects implements LookupSubjectsRequest {
  constructor(
    readonly model: SchemaModel,
    readonly resource: ObjectRef,
    readonly permission: string,
    readonly subjectType: string,
    /** Absent for plain subjects (never ''). */
    readonly subjectRelation: string | undefined,
    readonly node: SchemaNode,
    readonly subjectTypeIndex: number,
    readonly subjectNode: number,
    readonly context: Readonly<Record<string, unknown>> | undefined,
    readonly contextualRelationships: readonly Relationship[] | undefined,
    readonly now: number | undefined,
  ) {}
}

/** A check's names as numbers (Resolver.names): valid until the resolver's next call. */
export interface CheckNames {
  node: number;
  subjectTypeIndex: number;
  /** -1 for a plain subject or a wildcard. */
  subjectNode: number;
}

/** Long input is cut in messages: an error must not echo a megabyte back. */
function show(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
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

function isJsonObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Resolves requests against one schema. Field paths are the API's (proto3 JSON) names,
 * relative to the request: `resource`, `permission`, `subject`, `resourceObjectType`,
 * `subjectObjectType`, `optionalSubjectRelation`, `context`, `contextualRelationships[i]`.
 * Every method throws RequestFieldError (LimitExceededError past the contextual limit).
 */
export class Resolver {
  readonly model: SchemaModel;
  // One-entry caches: services ask the same type and permission over and over.
  private lastType: string | undefined;
  private lastPermission: string | undefined;
  private lastNode: SchemaNode | undefined;
  private lastSubjectType: string | undefined;
  private lastSubjectTypeIndex = -1;
  private readonly scratch: CheckNames = { node: -1, subjectTypeIndex: -1, subjectNode: -1 };

  constructor(readonly schema: Schema) {
    this.model = schemaModelOf(schema);
  }

  check(request: CheckRequest): ResolvedCheck {
    const { resource, permission } = request;
    const node = this.target(resource, permission);
    this.id(resource, 'resource');
    const subject = this.normalSubject(request.subject);
    const subjectTypeIndex = this.subjectTypeOf(subject);
    const subjectNode = this.subjectNode(subject, 'subject');
    const { context } = request;
    let contextualRelationships = request.contextualRelationships;
    if (context !== undefined || contextualRelationships !== undefined)
      contextualRelationships = this.facts(request);
    return new ResolvedCheck(
      this.model,
      resource,
      permission,
      subject,
      node.index,
      subjectTypeIndex,
      subjectNode,
      context,
      contextualRelationships,
      request.now,
    );
  }

  /**
   * The names of a check only, into one reused object: the engine's path for in-process callers
   * (the policy test runner, benchmarks) that hand it plain requests, where allocating and
   * checking id syntax per check would cost more than the check. Same errors as `check`; ids
   * and request facts are not looked at (`check` them when they come from outside).
   */
  names(request: CheckRequest): CheckNames {
    const out = this.scratch;
    out.node = this.target(request.resource, request.permission).index;
    const subject = request.subject;
    out.subjectTypeIndex = this.subjectTypeOf(subject);
    const relation = subject.relation;
    if (relation === undefined || relation === '') {
      out.subjectNode = -1;
    } else {
      if (subject.id === WILDCARD_ID) this.wildcardRelation(subject, 'subject');
      out.subjectNode = this.node(subject.type, relation, 'subject').index;
    }
    return out;
  }

  /** The node of `resource.type#permission`, through the one-entry cache. */
  private target(resource: ObjectRef, permission: string): SchemaNode {
    if (resource.type === this.lastType && permission === this.lastPermission) return this.lastNode!;
    this.typeOfRef(resource, 'resource');
    const node = this.node(resource.type, permission, 'permission');
    this.lastType = resource.type;
    this.lastPermission = permission;
    this.lastNode = node;
    return node;
  }

  lookupResources(request: LookupResourcesRequest): ResolvedLookupResources {
    this.typeName(request.resourceType, 'resourceObjectType');
    const node = this.node(request.resourceType, request.permission, 'permission');
    const subject = this.normalSubject(request.subject);
    const subjectTypeIndex = this.subjectTypeOf(subject);
    const subjectNode = this.subjectNode(subject, 'subject');
    const contextual = this.facts(request);
    return new ResolvedLookupResources(
      this.model,
      request.resourceType,
      request.permission,
      subject,
      request.limit,
      request.cursor === '' ? undefined : request.cursor,
      node,
      subjectTypeIndex,
      subjectNode,
      request.context,
      contextual,
      request.now,
    );
  }

  lookupSubjects(request: LookupSubjectsRequest): ResolvedLookupSubjects {
    const { resource } = request;
    this.typeOfRef(resource, 'resource');
    this.id(resource, 'resource');
    const node = this.node(resource.type, request.permission, 'permission');
    const subjectTypeIndex = this.typeName(request.subjectType, 'subjectObjectType');
    // '' means "plain subjects", as in store filters (proto3 strings cannot be absent).
    const relation = request.subjectRelation === '' ? undefined : request.subjectRelation;
    const subjectNode =
      relation === undefined ? -1 : this.node(request.subjectType, relation, 'optionalSubjectRelation').index;
    const contextual = this.facts(request);
    return new ResolvedLookupSubjects(
      this.model,
      resource,
      request.permission,
      request.subjectType,
      relation,
      node,
      subjectTypeIndex,
      subjectNode,
      request.context,
      contextual,
      request.now,
    );
  }

  /**
   * A relationship a write (or a request's contextual relationships) may hold: well-formed ids
   * (errors at `field.resource`, `field.subject`), then the schema's rules (errors at `field`).
   * Returns it with a '' subject relation dropped.
   */
  relationship(r: Relationship, field: string): Relationship {
    this.syntax(r.resource, `${field}.resource`);
    const subject = this.normalSubject(r.subject);
    this.subjectSyntax(subject, `${field}.subject`);
    const normal = subject === r.subject ? r : { ...r, subject };
    try {
      validateRelationship(this.schema, normal);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw RequestFieldError.at(field, err);
      throw err;
    }
    return normal;
  }

  /**
   * A request's context is a JSON object; its contextual relationships are ones a write would
   * accept. Returns the contextual relationships (a copy only when one had a '' subject relation).
   */
  facts(request: RequestFacts): readonly Relationship[] | undefined {
    const { context, contextualRelationships: contextual } = request;
    if (context !== undefined && !isJsonObject(context)) {
      throw new RequestFieldError('context', (f) => `${f} must be a JSON object of parameter values`);
    }
    if (contextual === undefined) return undefined;
    if (contextual.length > MAX_CONTEXTUAL_RELATIONSHIPS) {
      throw new LimitExceededError(
        `${contextual.length} contextual relationships exceed the limit of ${MAX_CONTEXTUAL_RELATIONSHIPS}`,
        { field: 'contextualRelationships' },
      );
    }
    let out: Relationship[] | undefined;
    for (let i = 0; i < contextual.length; i++) {
      const r = contextual[i]!;
      const normal = this.relationship(r, `contextualRelationships[${i}]`);
      if (normal !== r) out ??= contextual.slice();
      if (out !== undefined) out[i] = normal;
    }
    return out ?? contextual;
  }

  /** The number of a declared type given as a bare name (`resourceObjectType`). */
  typeName(type: string, field: string): number {
    const index = this.model.typeIndex(type);
    if (index !== undefined) return index;
    if (type === '') throw new RequestFieldError(field, (f) => `${f} is required: name an object type`);
    throw new RequestFieldError(
      field,
      (f) =>
        `${f} '${show(type)}' is not defined in the schema${typeSuggestion(type, this.schema.types.keys())}; use one of the schema's types`,
    );
  }

  /** The node of `type#name` (a permission or a relation); `type` must be declared. */
  node(type: string, name: string, field: string): SchemaNode {
    const node = this.model.node(type, name);
    if (node !== undefined) return node;
    if (name === '') {
      throw new RequestFieldError(
        field,
        (f) => `${f} is required: name a permission or relation of '${type}'`,
      );
    }
    const def = this.schema.types.get(type)!;
    const names = [...def.relations.keys(), ...def.permissions.keys()];
    throw new RequestFieldError(
      field,
      () =>
        `type '${type}' has no permission or relation '${show(name)}'${suggestion(name, names)}; declared: ${names.join(', ') || '(none)'}`,
    );
  }

  /** A well-formed `type:id` of a declared type: its type number. */
  object(o: ObjectRef, field: string): number {
    const index = this.typeOfRef(o, field);
    this.id(o, field);
    return index;
  }

  /** The type number of an object reference's type, which must be declared. */
  private typeOfRef(o: ObjectRef, field: string): number {
    const index = this.model.typeIndex(o.type);
    if (index !== undefined) return index;
    if (o.type === '' && o.id === '') {
      throw new RequestFieldError(field, (f) => `${f} is required: set objectType and objectId`);
    }
    this.syntax(o, field);
    throw new RequestFieldError(
      field,
      (f) =>
        `${f} type '${o.type}' is not defined in the schema${typeSuggestion(o.type, this.schema.types.keys())}; use one of the schema's types`,
    );
  }

  private subjectTypeOf(s: SubjectRef): number {
    if (s.type === this.lastSubjectType) return this.lastSubjectTypeIndex;
    const index = this.typeOfRef(s, 'subject');
    this.lastSubjectType = s.type;
    this.lastSubjectTypeIndex = index;
    return index;
  }

  /** The node of a subject set's relation, or -1; checks the subject's id too. */
  private subjectNode(s: SubjectRef, field: string): number {
    if (s.id === WILDCARD_ID) {
      if (s.relation !== undefined) this.wildcardRelation(s, field);
      return -1;
    }
    this.id(s, field);
    return s.relation === undefined ? -1 : this.node(s.type, s.relation, field).index;
  }

  /** `s` with a '' relation dropped: '' means "no relation" (proto3 strings cannot be absent). */
  private normalSubject(s: SubjectRef): SubjectRef {
    return s.relation === '' ? { type: s.type, id: s.id } : s;
  }

  private id(o: ObjectRef, field: string): void {
    if (!OBJECT_ID_PATTERN.test(o.id)) {
      throw new RequestFieldError(
        field,
        (f) =>
          `invalid ${f} id '${show(o.id)}' of '${show(o.type)}': must be 1-1024 characters of A-Z a-z 0-9 _ - = + | / .`,
      );
    }
  }

  /** Syntax of `type:id` (a declared type needs no pattern: every declared name matches it). */
  private syntax(o: ObjectRef, field: string): void {
    if (o.type === '' && o.id === '') {
      throw new RequestFieldError(field, (f) => `${f} is required: set objectType and objectId`);
    }
    if (this.model.typeIndex(o.type) === undefined && !TYPE_NAME_PATTERN.test(o.type)) {
      throw new RequestFieldError(
        field,
        (f) =>
          `invalid ${f} type '${show(o.type)}': must be a lowercase name like 'document' or 'crm/document'`,
      );
    }
    if (o.id !== WILDCARD_ID) this.id(o, field);
  }

  private subjectSyntax(s: SubjectRef, field: string): void {
    this.syntax(s, field);
    if (s.relation === undefined) return;
    if (s.id === WILDCARD_ID) this.wildcardRelation(s, field);
    if (!RELATION_NAME_PATTERN.test(s.relation)) {
      throw new RequestFieldError(
        field,
        (f) => `invalid ${f} relation '${show(s.relation!)}': must be a lowercase name like 'member'`,
      );
    }
  }

  private wildcardRelation(s: SubjectRef, field: string): never {
    throw new RequestFieldError(
      field,
      (f) => `invalid ${f} '${s.type}:*#${show(s.relation!)}': a wildcard cannot name a relation`,
    );
  }
}
