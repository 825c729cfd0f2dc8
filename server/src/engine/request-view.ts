// One request's view of the graph for three-valued evaluation: the unconditional edges of the
// GraphIndex plus, per bound (doubled-schema.ts), the attributed and contextual relationships
// whose status (granted / not / undecided) this request's context and time give them.
import { InvalidArgumentError } from '../errors.js';
import type { EdgeSet } from '../graph/edge-set.js';
import { WILDCARD_SUBJECT } from '../graph/edge-set.js';
import type { GraphIndex } from '../graph/graph-index.js';
import type { GroupClosure } from '../graph/group-closure.js';
import { NOT_INTERNED } from '../graph/interner.js';
import type { Relationship } from '../model/relationship.js';
import { WILDCARD_ID } from '../model/relationship.js';
import type { BoundParameters, ConditionOutcome, ConditionProgram } from '../schema/cel-condition.js';
import { ParameterValueError } from '../schema/cel-condition.js';
import type { MissingContextRule } from '../schema/schema.js';
import type { NeighborLists, PlanEdgeSet, PlanGraph } from './check-plan.js';
import { type Bound, boundName, LOWER } from './doubled-schema.js';

/** Status of one relationship for one request. */
export const DENIES = 0;
export const GRANTS = 1;
export const UNDECIDED = 2;
export type EdgeStatus = typeof DENIES | typeof GRANTS | typeof UNDECIDED;

/** What decided one attributed or contextual relationship, for explain. */
export interface EdgeVerdict {
  readonly relationship: Relationship;
  readonly contextual: boolean;
  readonly status: EdgeStatus;
  /** `expired at …`, `condition c: true`, `condition c: missing ip`. */
  readonly detail: string;
}

interface NumberedEdge {
  readonly relationship: Relationship;
  readonly subject: number;
  readonly contextual: boolean;
}

const EMPTY_LISTS: NeighborLists = { degree: () => 0, neighbor: () => -1 };
const NO_EDGES: readonly NumberedEdge[] = [];

/** The per-request facts every view reads: reset before each request. */
export class RequestState {
  now = 0;
  private context: Readonly<Record<string, unknown>> | undefined;
  /** Objects only contextual relationships name get numbers past the interner's, per type. */
  private readonly local = new Map<string, Map<string, number>>();
  private readonly localNames = new Map<string, string[]>();
  /** `type#relation` → resource number → contextual edges. */
  private contextual = new Map<string, Map<number, NumberedEdge[]>>();
  private readonly statuses = new Map<Relationship, EdgeStatus>();
  /** The missing parameters of each undecided relationship. */
  private readonly undecided = new Map<Relationship, readonly string[]>();
  private readonly requestValues = new Map<string, BoundParameters>();
  /** Parameters undecided conditions lacked, over the whole request. */
  readonly missing = new Set<string>();
  readonly verdicts: EdgeVerdict[] = [];
  /** Bumped per request: views key their caches by it instead of clearing them. */
  generation = 0;
  /** Stored parameter values, converted once per relationship object (they are immutable). */
  private readonly storedValues = new WeakMap<Relationship, BoundParameters>();

  /**
   * Under `strict` (schema.ts MissingContextRule): errors of relationships whose condition could
   * not be evaluated with the request's values, raised only when the answer depends on them.
   */
  private readonly failed = new Map<Relationship, Error>();
  /** The first such error met by the answer being computed (callers clear it per answer). */
  error: Error | undefined;

  constructor(
    private readonly graph: GraphIndex,
    private readonly programs: ReadonlyMap<string, ConditionProgram>,
    private readonly rule: MissingContextRule = 'partial',
  ) {}

  reset(
    now: number,
    context: Readonly<Record<string, unknown>> | undefined,
    contextual: readonly Relationship[] | undefined,
  ): void {
    this.now = now;
    this.context = context;
    this.local.clear();
    this.localNames.clear();
    this.statuses.clear();
    this.undecided.clear();
    this.failed.clear();
    this.error = undefined;
    this.requestValues.clear();
    this.missing.clear();
    this.verdicts.length = 0;
    this.generation++;
    this.contextual = new Map();
    for (const r of contextual ?? []) {
      const slotKey = `${r.resource.type}#${r.relation}`;
      let byResource = this.contextual.get(slotKey);
      if (byResource === undefined) {
        byResource = new Map();
        this.contextual.set(slotKey, byResource);
      }
      const x = this.idOf(r.resource.type, r.resource.id);
      const subject =
        r.subject.id === WILDCARD_ID ? WILDCARD_SUBJECT : this.idOf(r.subject.type, r.subject.id);
      const list = byResource.get(x);
      const edge = { relationship: r, subject, contextual: true };
      if (list === undefined) byResource.set(x, [edge]);
      else list.push(edge);
    }
  }

  /** The number of `type:id`: the interner's, or one for this request only. */
  idOf(type: string, id: string): number {
    const interner = this.graph.interner(type)!;
    const n = interner.lookup(id);
    if (n !== NOT_INTERNED) return n;
    let ids = this.local.get(type);
    if (ids === undefined) {
      ids = new Map();
      this.local.set(type, ids);
      this.localNames.set(type, []);
    }
    let k = ids.get(id);
    if (k === undefined) {
      const names = this.localNames.get(type)!;
      k = interner.size + names.length;
      ids.set(id, k);
      names.push(id);
    }
    return k;
  }

  /** The id of number `n` of `type` (interned or request-local). */
  nameOf(type: string, n: number): string {
    const interner = this.graph.interner(type)!;
    return n < interner.size ? interner.id(n) : this.localNames.get(type)![n - interner.size]!;
  }

  /** Request-local ids of `type`: objects only contextual relationships name. */
  localIds(type: string): readonly string[] {
    return this.localNames.get(type) ?? [];
  }

  contextualFrom(slotKey: string, x: number): readonly NumberedEdge[] {
    return this.contextual.get(slotKey)?.get(x) ?? NO_EDGES;
  }

  /**
   * Whether `r` grants for this request: expiry against `now`, then its condition. An undecided
   * one adds its missing parameters to `missing` on every call (callers clear it per answer).
   */
  status(r: Relationship, contextual: boolean): EdgeStatus {
    const known = this.statuses.get(r);
    if (known !== undefined) {
      if (known === UNDECIDED) {
        for (const name of this.undecided.get(r)!) this.missing.add(name);
        this.error ??= this.failed.get(r);
      }
      return known;
    }
    let status: EdgeStatus;
    let detail: string;
    if (r.expiresAt !== undefined && r.expiresAt <= this.now) {
      status = DENIES;
      detail = `expired at ${new Date(r.expiresAt).toISOString()}`;
    } else if (r.condition === undefined) {
      status = GRANTS;
      detail = r.expiresAt === undefined ? 'contextual' : `expires at ${new Date(r.expiresAt).toISOString()}`;
    } else {
      const program = this.programs.get(r.condition.name)!;
      const outcome = this.rule === 'strict' ? this.evaluateStrict(program, r) : this.evaluate(program, r);
      if (outcome instanceof Error) {
        status = UNDECIDED;
        this.undecided.set(r, []);
        this.failed.set(r, outcome);
        this.error ??= outcome;
        detail = `condition ${r.condition.name}: ${outcome.message}`;
      } else if (typeof outcome === 'boolean') {
        status = outcome ? GRANTS : DENIES;
        detail = `condition ${r.condition.name}: ${outcome}`;
      } else {
        status = UNDECIDED;
        this.undecided.set(r, outcome);
        for (const name of outcome) this.missing.add(name);
        detail = `condition ${r.condition.name}: missing ${outcome.join(', ')}`;
      }
    }
    this.statuses.set(r, status);
    this.verdicts.push({ relationship: r, contextual, status, detail });
    return status;
  }

  /** The missing parameters of `r` once `status` judged it undecided (explain shows them). */
  missingOf(r: Relationship): readonly string[] {
    return this.undecided.get(r) ?? [];
  }

  private evaluate(program: ConditionProgram, r: Relationship): ConditionOutcome {
    return program.evaluate(this.stored(program, r), this.requestValuesOf(program));
  }

  /**
   * OpenFGA's rule: undecided, naming them, while any declared parameter is missing; a value
   * that does not convert, or an evaluation that fails, is this relationship's error, not yet
   * the request's.
   */
  private evaluateStrict(program: ConditionProgram, r: Relationship): ConditionOutcome | Error {
    try {
      const stored = this.stored(program, r);
      const request = this.requestValuesOf(program);
      const missing: string[] = [];
      for (const name of program.def.parameters.keys())
        if (!stored.has(name) && !request.has(name)) missing.push(name);
      if (missing.length > 0) return missing.sort();
      return program.evaluate(stored, request);
    } catch (err) {
      if (err instanceof InvalidArgumentError) return err;
      throw err;
    }
  }

  private stored(program: ConditionProgram, r: Relationship): BoundParameters {
    let values = this.storedValues.get(r);
    if (values === undefined) {
      values = program.bind(r.condition!.context);
      this.storedValues.set(r, values);
    }
    return values;
  }

  private requestValuesOf(program: ConditionProgram): BoundParameters {
    let values = this.requestValues.get(program.def.name);
    if (values === undefined) {
      try {
        values = program.bind(this.context);
      } catch (err) {
        if (!(err instanceof ParameterValueError)) throw err;
        throw new InvalidArgumentError(`context: ${err.message}`, { field: 'context' });
      }
      this.requestValues.set(program.def.name, values);
    }
    return values;
  }
}

/** One subject kind of one relation, at one bound: the index's edges plus those granting at that bound. */
class BoundEdgeSet implements PlanEdgeSet, NeighborLists {
  readonly kind: EdgeSet['kind'];
  readonly subjectType: string;
  readonly subjectRelation: string;
  readonly forward: NeighborLists = this;
  readonly reverse: NeighborLists = EMPTY_LISTS;
  private readonly slotKey: string;
  private cacheGeneration = -1;
  private readonly cache = new Map<
    number,
    { subjects: readonly number[]; undecided: readonly Relationship[] }
  >();

  constructor(
    private readonly base: EdgeSet,
    private readonly bound: Bound,
    subjectRelation: string,
    private readonly graph: GraphIndex,
    private readonly state: RequestState,
  ) {
    this.kind = base.kind;
    this.subjectType = base.subjectType;
    this.subjectRelation = subjectRelation;
    this.slotKey = `${base.resourceType}#${base.relation}`;
  }

  private matches(r: Relationship): boolean {
    const s = r.subject;
    if (s.type !== this.subjectType) return false;
    if (s.id === WILDCARD_ID) return this.kind === 'wildcard';
    if (s.relation === undefined || s.relation === '') return this.kind === 'object';
    return this.kind === 'subject-set' && s.relation === this.base.subjectRelation;
  }

  /** Subjects of x's attributed and contextual edges of this kind that grant at this bound. */
  private extras(x: number): readonly number[] {
    if (this.cacheGeneration !== this.state.generation) {
      this.cache.clear();
      this.cacheGeneration = this.state.generation;
    }
    const cached = this.cache.get(x);
    if (cached !== undefined) {
      // Re-consult the undecided ones so the answer being computed reports their parameters.
      for (const r of cached.undecided) this.state.status(r, false);
      return cached.subjects;
    }
    const subjects: number[] = [];
    const undecided: Relationship[] = [];
    const consider = (r: Relationship, subject: number, contextual: boolean): void => {
      if (!this.matches(r)) return;
      const status = this.state.status(r, contextual);
      if (status === UNDECIDED) undecided.push(r);
      if (status === GRANTS || (status === UNDECIDED && this.bound !== LOWER)) subjects.push(subject);
    };
    for (const e of this.graph.attributed.relation(this.base.resourceType, this.base.relation)?.from(x) ?? [])
      consider(e.relationship, e.subject, false);
    for (const e of this.state.contextualFrom(this.slotKey, x)) consider(e.relationship, e.subject, true);
    this.cache.set(x, { subjects, undecided });
    return subjects;
  }

  /**
   * Judges only the edges to `y`: a direct check must not consult (and report the missing
   * parameters of) other subjects' conditions.
   */
  has(x: number, y: number): boolean {
    if (this.base.has(x, y)) return true;
    for (const e of this.graph.attributed.relation(this.base.resourceType, this.base.relation)?.from(x) ??
      []) {
      if (e.subject === y && this.grants(e.relationship, false)) return true;
    }
    for (const e of this.state.contextualFrom(this.slotKey, x)) {
      if (e.subject === y && this.grants(e.relationship, true)) return true;
    }
    return false;
  }

  private grants(r: Relationship, contextual: boolean): boolean {
    if (!this.matches(r)) return false;
    const status = this.state.status(r, contextual);
    return status === GRANTS || (status === UNDECIDED && this.bound !== LOWER);
  }

  degree(x: number): number {
    return this.base.forward.degree(x) + this.extras(x).length;
  }

  /**
   * Every relationship of this kind from x that exists at this request's time, whatever its
   * condition says (PlanEdgeSet.existing): `via.all(name)` fails when one does not grant.
   */
  existing(x: number): number {
    let n = this.base.forward.degree(x);
    const live = (r: Relationship): boolean =>
      this.matches(r) && (r.expiresAt === undefined || r.expiresAt > this.state.now);
    for (const e of this.graph.attributed.relation(this.base.resourceType, this.base.relation)?.from(x) ?? [])
      if (live(e.relationship)) n++;
    for (const e of this.state.contextualFrom(this.slotKey, x)) if (live(e.relationship)) n++;
    return n;
  }

  neighbor(x: number, i: number): number {
    const d = this.base.forward.degree(x);
    return i < d ? this.base.forward.neighbor(x, i) : this.extras(x)[i - d]!;
  }
}

/** The doubled schema's relations over one GraphIndex and one RequestState. */
export class RequestView implements PlanGraph {
  private readonly relations = new Map<
    string,
    { readonly edgeSets: readonly PlanEdgeSet[]; readonly closure: GroupClosure | undefined }
  >();

  constructor(graph: GraphIndex, state: RequestState) {
    for (const slot of graph.relations()) {
      for (const bound of [0, 1] as const) {
        const edgeSets = slot.edgeSets.map(
          (e) =>
            new BoundEdgeSet(
              e,
              bound,
              e.kind === 'subject-set' ? boundName(e.subjectRelation, bound) : '',
              graph,
              state,
            ),
        );
        this.relations.set(`${slot.resourceType}#${boundName(slot.relation, bound)}`, {
          edgeSets,
          closure: undefined,
        });
      }
    }
  }

  relation(type: string, relation: string): ReturnType<PlanGraph['relation']> {
    return this.relations.get(`${type}#${relation}`);
  }
}
