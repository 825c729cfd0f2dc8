// Turns the strings of data and test files (relationships, checks, lookups, objects) into
// fully namespaced model values checked against the compiled schema; each failure becomes a
// problem at the string's position.

import type { SourcePosition } from '../errors.js';
import { GatehouseError, InvalidArgumentError } from '../errors.js';
import type { CheckTuple, ObjectRef, SubjectRef } from '../model/relationship.js';
import {
  parseCheckTuple,
  parseObject,
  parseRelationship,
  parseSubject,
  parseTimestamp,
  RELATION_NAME_PATTERN,
  TYPE_NAME_PATTERN,
} from '../model/relationship.js';
import type { Schema } from '../schema/schema.js';
import {
  requireType,
  validateCheckTarget,
  validateRelationship,
  validateSubjectType,
} from '../schema/validate.js';
import type { StringNode } from './ast.js';
import { qualifyObject, qualifyRelationship, qualifySubject, qualifyTypeName } from './namespaces.js';
import type {
  PositionedRelationship,
  ResourcesLookupAssertion,
  SubjectsLookupAssertion,
} from './policy-set.js';
import type { ProblemList } from './problem-list.js';

/** A lookup's query part; the caller adds the expected results and the source location. */
type ResourcesQuery = Omit<ResourcesLookupAssertion, 'expect' | 'source' | 'position'>;
type SubjectsQuery = Omit<SubjectsLookupAssertion, 'expect' | 'source' | 'position'>;

/** Split `left@right`, requiring exactly one `@`. */
function splitAt(text: string, shape: string): [string, string] {
  const at = text.indexOf('@');
  if (at < 0 || text.indexOf('@', at + 1) >= 0)
    throw new InvalidArgumentError(`invalid lookup '${text}': expected '${shape}'`);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** `type#name` (no object id), validating both names. */
function parseTypeAndName(text: string, whole: string, shape: string): [string, string] {
  const hash = text.indexOf('#');
  const type = hash < 0 ? text : text.slice(0, hash);
  const name = hash < 0 ? '' : text.slice(hash + 1);
  if (!TYPE_NAME_PATTERN.test(type) || !RELATION_NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(`invalid lookup '${whole}': expected '${shape}'`);
  }
  return [type, name];
}

/** The names a tuple-shaped string refers to, to tell which of them a problem is about. */
interface TupleParts {
  readonly resourceType: string;
  readonly name: string;
  /** Relationships are stored on relations; checks and lookups also accept permissions. */
  readonly relationOnly: boolean;
  readonly subjectType: string;
  readonly subjectRelation: string | undefined;
}

/**
 * Offset in `text` (`type:id#name@subject` or a lookup shape) of the part a validation problem
 * is about: the resource type, the name after the first `#`, the subject after `@`, or the
 * subject's relation. Mirrors the order in which schema/validate.ts checks them.
 */
function blameOffset(schema: Schema, text: string, parts: TupleParts): number {
  const type = schema.types.get(parts.resourceType);
  if (type === undefined) return 0;
  const known = type.relations.has(parts.name) || (!parts.relationOnly && type.permissions.has(parts.name));
  if (!known) return text.indexOf('#') + 1;
  const at = text.indexOf('@');
  const subjectType = schema.types.get(parts.subjectType);
  const relation = parts.subjectRelation;
  if (
    subjectType !== undefined &&
    relation !== undefined &&
    !subjectType.relations.has(relation) &&
    !subjectType.permissions.has(relation)
  ) {
    return text.indexOf('#', at) + 1;
  }
  return at + 1;
}

/** Position of character `offset` of the node's text, or the node itself when columns are not exact. */
function positionWithin(node: StringNode, offset: number): SourcePosition {
  if (offset === 0 || node.textPosition === undefined) return node.position;
  return { ...node.textPosition, column: node.textPosition.column + offset };
}

export class StringResolver {
  constructor(
    private readonly schema: Schema,
    private readonly namespace: string | undefined,
    private readonly problems: ProblemList,
  ) {}

  /**
   * Run `resolve`, turning a GatehouseError into a problem at `node`, or at the part of it that
   * `resolve` had parsed into `parts.current` when the schema rejected it.
   */
  private attempt<T>(node: StringNode, resolve: (parts: { current?: TupleParts }) => T): T | undefined {
    const parts: { current?: TupleParts } = {};
    try {
      return resolve(parts);
    } catch (err) {
      if (!(err instanceof GatehouseError)) throw err;
      const offset = parts.current === undefined ? 0 : blameOffset(this.schema, node.text, parts.current);
      this.problems.add(positionWithin(node, offset), node.path, err.message);
      return undefined;
    }
  }

  relationship(node: StringNode): PositionedRelationship | undefined {
    return this.attempt(node, (parts) => {
      const relationship = qualifyRelationship(parseRelationship(node.text), this.namespace);
      parts.current = {
        resourceType: relationship.resource.type,
        name: relationship.relation,
        relationOnly: true,
        subjectType: relationship.subject.type,
        subjectRelation: relationship.subject.relation,
      };
      validateRelationship(this.schema, relationship);
      return { relationship, position: node.position };
    });
  }

  relationships(nodes: readonly StringNode[]): PositionedRelationship[] {
    return nodes.map((n) => this.relationship(n)).filter((r): r is PositionedRelationship => r !== undefined);
  }

  /** An RFC 3339 time (a test's `now:`) in ms since the epoch. */
  timestamp(node: StringNode): number | undefined {
    return this.attempt(node, () => parseTimestamp(node.text));
  }

  check(node: StringNode): CheckTuple | undefined {
    return this.attempt(node, (parts) => {
      const raw = parseCheckTuple(node.text);
      const resource = qualifyObject(raw.resource, this.namespace);
      const subject = qualifySubject(raw.subject, this.namespace);
      parts.current = {
        resourceType: resource.type,
        name: raw.permission,
        relationOnly: false,
        subjectType: subject.type,
        subjectRelation: subject.relation,
      };
      validateCheckTarget(this.schema, resource.type, raw.permission);
      validateSubjectType(this.schema, subject.type, subject.relation);
      return { resource, permission: raw.permission, subject };
    });
  }

  object(node: StringNode): ObjectRef | undefined {
    return this.attempt(node, () => {
      const object = qualifyObject(parseObject(node.text), this.namespace);
      requireType(this.schema, object.type);
      return object;
    });
  }

  /** `type#permission@subject`. */
  resourcesQuery(node: StringNode): ResourcesQuery | undefined {
    const shape = 'type#permission@type:id';
    return this.attempt(node, (parts) => {
      const [left, right] = splitAt(node.text, shape);
      const [type, permission] = parseTypeAndName(left, node.text, shape);
      const resourceType = qualifyTypeName(type, this.namespace);
      const subject = qualifySubject(parseSubject(right), this.namespace);
      parts.current = {
        resourceType,
        name: permission,
        relationOnly: false,
        subjectType: subject.type,
        subjectRelation: subject.relation,
      };
      validateCheckTarget(this.schema, resourceType, permission);
      validateSubjectType(this.schema, subject.type, subject.relation);
      return { kind: 'resources', resourceType, permission, subject };
    });
  }

  /** `type:id#permission@type` or `…@type#relation`. */
  subjectsQuery(node: StringNode): SubjectsQuery | undefined {
    const shape = 'type:id#permission@type';
    return this.attempt(node, (parts) => {
      const [left, right] = splitAt(node.text, shape);
      const hash = left.lastIndexOf('#');
      if (hash < 0) throw new InvalidArgumentError(`invalid lookup '${node.text}': expected '${shape}'`);
      const resource = qualifyObject(parseObject(left.slice(0, hash)), this.namespace);
      const permission = left.slice(hash + 1);
      const [type, relation] = right.includes('#')
        ? parseTypeAndName(right, node.text, shape)
        : [right, undefined];
      if (!TYPE_NAME_PATTERN.test(type))
        throw new InvalidArgumentError(`invalid lookup '${node.text}': expected '${shape}'`);
      const subjectType = qualifyTypeName(type, this.namespace);
      parts.current = {
        resourceType: resource.type,
        name: permission,
        relationOnly: false,
        subjectType,
        subjectRelation: relation,
      };
      validateCheckTarget(this.schema, resource.type, permission);
      validateSubjectType(this.schema, subjectType, relation);
      return { kind: 'subjects', resource, permission, subjectType, subjectRelation: relation };
    });
  }

  /** An expected object of a resources lookup: it must be of the looked-up type to ever match. */
  expectedObject(node: StringNode, resourceType: string): ObjectRef | undefined {
    return this.attempt(node, () => {
      const object = qualifyObject(parseObject(node.text), this.namespace);
      if (object.type !== resourceType) {
        throw new InvalidArgumentError(
          `expected object '${node.text}' is not of the looked-up type '${resourceType}', so it can never be in the result`,
        );
      }
      return object;
    });
  }

  /** An expected subject of a subjects lookup: of the looked-up type (and relation), or its wildcard. */
  expectedSubject(
    node: StringNode,
    subjectType: string,
    subjectRelation: string | undefined,
  ): SubjectRef | undefined {
    return this.attempt(node, () => {
      const subject = qualifySubject(parseSubject(node.text), this.namespace);
      const wildcard = subject.id === '*';
      const wanted = subjectRelation === undefined ? subjectType : `${subjectType}#${subjectRelation}`;
      if (subject.type !== subjectType || (!wildcard && subject.relation !== subjectRelation)) {
        throw new InvalidArgumentError(
          `expected subject '${node.text}' is not a '${wanted}', so it can never be in the result`,
        );
      }
      return subject;
    });
  }
}
