// A bulk file repeats a few shapes (resource type, relation, subject type, subject relation,
// wildcard or not) across millions of lines. Whether a relationship is valid against the schema
// depends on its shape and on its ids' characters only, so once one line of a shape has passed
// the full parse and validation, later lines of that shape need only their two ids checked: no
// regular expression, no schema lookup, and the names are shared strings instead of new slices.
import type { Relationship, SubjectRef } from '../model/relationship.js';
import { WILDCARD_ID } from '../model/relationship.js';

/** The characters OBJECT_ID_PATTERN allows (`[A-Za-z0-9_\-=+|/.]`), by char code. */
const ID_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-=+|/.') {
  ID_CHAR[c.charCodeAt(0)] = 1;
}
/** OBJECT_ID_PATTERN's length bound. */
const MAX_ID_LENGTH = 1024;

/** Whether `text[start, end)` matches OBJECT_ID_PATTERN. */
function isObjectId(text: string, start: number, end: number): boolean {
  if (end <= start || end - start > MAX_ID_LENGTH) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || ID_CHAR[c] === 0) return false;
  }
  return true;
}

/** One validated shape, with the literal text around its two ids. */
interface Shape {
  readonly resourceType: string;
  readonly relation: string;
  readonly subjectType: string;
  /** Undefined for a plain subject or a wildcard. */
  readonly subjectRelation: string | undefined;
  readonly wildcard: boolean;
  /** `#relation@subjectType:`, what follows the resource id. */
  readonly middle: string;
  /** `#subjectRelation`, what ends the line after the subject id, or ''. */
  readonly tail: string;
}

/** More shapes than this and the schema is not the few-shapes kind: new ones are not remembered. */
const MAX_SHAPES = 64;

/** The shapes whose lines start with one `resourceType:`. */
interface ShapesOfType {
  readonly head: string;
  readonly shapes: Shape[];
}

export class KnownShapes {
  /** By resource type: a line's type is matched once, then its relation and subject kind. */
  private readonly byType: ShapesOfType[] = [];
  private count = 0;

  /**
   * The relationship `text` holds, if it is of a remembered shape and its ids are well formed:
   * exactly what parseRelationship returns for it, already known to pass validateRelationship.
   * Undefined means "not known here", not "invalid": the caller parses and validates it in full.
   */
  read(text: string): Relationship | undefined {
    const group = this.byType.find((g) => text.startsWith(g.head));
    if (group === undefined) return undefined;
    const idStart = group.head.length;
    const idEnd = text.indexOf('#', idStart);
    if (idEnd < 0 || !isObjectId(text, idStart, idEnd)) return undefined;
    for (const shape of group.shapes) {
      if (!text.startsWith(shape.middle, idEnd)) continue;
      const subjectStart = idEnd + shape.middle.length;
      const subjectEnd = text.length - shape.tail.length;
      if (subjectEnd < subjectStart || !text.endsWith(shape.tail)) continue;
      let subject: SubjectRef;
      if (shape.wildcard) {
        if (subjectEnd - subjectStart !== 1 || text.charCodeAt(subjectStart) !== 42 /* '*' */) continue;
        subject = { type: shape.subjectType, id: WILDCARD_ID };
      } else {
        // The id check rules out '#', so a subject id cannot swallow a subject relation.
        if (!isObjectId(text, subjectStart, subjectEnd)) continue;
        const id = text.slice(subjectStart, subjectEnd);
        subject =
          shape.subjectRelation === undefined
            ? { type: shape.subjectType, id }
            : { type: shape.subjectType, id, relation: shape.subjectRelation };
      }
      return {
        resource: { type: shape.resourceType, id: text.slice(idStart, idEnd) },
        relation: shape.relation,
        subject,
      };
    }
    return undefined;
  }

  /** Remembers the shape of `r`, which passed parseRelationship and validateRelationship. */
  remember(r: Relationship): void {
    if (r.condition !== undefined || r.expiresAt !== undefined) return;
    if (this.count >= MAX_SHAPES) return;
    const wildcard = r.subject.id === WILDCARD_ID;
    const subjectRelation = r.subject.relation;
    const head = `${r.resource.type}:`;
    let group = this.byType.find((g) => g.head === head);
    if (group === undefined) {
      group = { head, shapes: [] };
      this.byType.push(group);
    }
    const known = group.shapes.some(
      (s) =>
        s.relation === r.relation &&
        s.subjectType === r.subject.type &&
        s.subjectRelation === subjectRelation &&
        s.wildcard === wildcard,
    );
    if (known) return;
    this.count++;
    group.shapes.push({
      resourceType: r.resource.type,
      relation: r.relation,
      subjectType: r.subject.type,
      subjectRelation,
      wildcard,
      middle: `#${r.relation}@${r.subject.type}:`,
      tail: subjectRelation === undefined ? '' : `#${subjectRelation}`,
    });
  }
}
