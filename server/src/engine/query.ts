// The per-check evaluation state: the resolved subject and the memo/cycle bookkeeping. One
// instance per engine is reset for each check, so a check allocates nothing unless it recurses.
import { NOT_INTERNED } from '../graph/interner.js';

/** Memo states below zero; a value >= 0 is "in progress at stack position n". */
export const MEMO_TRUE = -1;
export const MEMO_FALSE = -2;
const NO_CUT = Number.MAX_SAFE_INTEGER;

/** "What is being asked about": a subject resolved to numbers. */
export class Query {
  /** Type number of the subject. */
  subjectType = -1;
  /** Interned id of the subject, or NOT_INTERNED (never seen, or a wildcard). */
  subjectId = NOT_INTERNED;
  /** For a subject set `type:id#rel`, the node number of `type#rel`; otherwise -1. */
  subjectNode = -1;
  /** True for a wildcard subject `type:*`. */
  wildcard = false;
  /**
   * True when the subject is a set on the very object being asked about and that object was
   * never seen: evaluation meets it only as the top-level NOT_INTERNED object, so identity
   * (`type:id#rel` contains itself) is decided by this flag instead of by number.
   */
  unseenSelf = false;

  /** (node, object) → MEMO_TRUE, MEMO_FALSE or an in-progress stack position. Created on first use. */
  memo: Map<number, number> | undefined = undefined;
  /** Depth of the memoised-evaluation stack. */
  stackPos = 0;
  /** Lowest stack position of an in-progress node whose recursion was cut below the current frame. */
  cutMin = NO_CUT;

  reset(
    subjectType: number,
    subjectId: number,
    subjectNode: number,
    wildcard: boolean,
    unseenSelf: boolean,
  ): void {
    this.unseenSelf = unseenSelf;
    this.subjectType = subjectType;
    this.subjectId = subjectId;
    this.subjectNode = subjectNode;
    this.wildcard = wildcard;
    this.memo = undefined;
    this.stackPos = 0;
    this.cutMin = NO_CUT;
  }

  /** Identity: the subject is the set `node` on object `x`. */
  isSubjectSet(node: number, x: number): boolean {
    return this.subjectNode === node && this.subjectId === x && (x !== NOT_INTERNED || this.unseenSelf);
  }

  /** True when the subject is a plain (non-wildcard, non-set), interned object of `type`. */
  isObjectOf(type: number): boolean {
    return this.subjectType === type && this.subjectNode === -1 && this.subjectId !== NOT_INTERNED;
  }

  static get noCut(): number {
    return NO_CUT;
  }
}
