// The memory store's indexed relationship set: rows in a RelationshipTable, one ordered index by
// canonical key (`resource#relation@subject`, which doubles as a prefix index by resource type,
// resource and relation) and one by subject object then key, which serves subject reads and
// deleteObject without scanning the whole set. Both indexes hold row numbers only; after a bulk
// load each is built on its first use.
import type { ObjectRef, Relationship } from '../model/relationship.js';
import { WILDCARD_ID } from '../model/relationship.js';
import {
  RELATION,
  RESOURCE_ID,
  RESOURCE_TYPE,
  RelationshipTable,
  SUBJECT_ID,
  SUBJECT_RELATION,
  SUBJECT_TYPE,
  WILDCARD_NUMBER,
} from './relationship-table.js';
import { groupOrder, keyOrder, subjectOrder } from './row-order.js';
import { type RowPosition, SortedRows } from './sorted-rows.js';
import type { RelationshipFilter } from './store.js';

/** `type:id#`: the key prefix of every relationship whose resource is `object`. */
export function resourcePrefix(object: ObjectRef): string {
  return `${object.type}:${object.id}#`;
}

/** From this many rows on, removing them by one pass over the orderings beats one seek each. */
const BULK_REMOVAL = 1024;

/** A filter resolved to interned numbers: ANY where the filter leaves a field open. */
const ANY = -2;

interface ResolvedFilter {
  readonly fields: Int32Array;
  /** The filter's strings by field, for comparisons the numbers cannot decide. */
  readonly strings: readonly (string | undefined)[];
  /** An id given without its type has no one number: it is matched by its string. */
  readonly resourceIdText: string | undefined;
  readonly subjectIdText: string | undefined;
  /** `subjectRelation: ''`: plain subjects, and the (ill-formed) empty subject relation if held. */
  readonly plainOnly: boolean;
  readonly emptyRelation: number;
}

export class RelationshipIndex {
  /** The key ordering once built (see `ordered`); kept up to date from then on. */
  private keyRows: SortedRows | undefined;
  /** The subject ordering once built (see `bySubject`); kept up to date from then on. */
  private subjectRows: SortedRows | undefined;
  /** The bulk load's rows in `groupOrder`, until the graph build takes them or a write moves on. */
  private loadOrder: Int32Array | undefined;

  private constructor(
    private readonly table: RelationshipTable,
    loadOrder?: Int32Array,
  ) {
    this.loadOrder = loadOrder;
  }

  /**
   * Ordered by canonical key. Built on first use (a read, a scan, a snapshot) and kept up to date
   * from then on, so a sidecar loaded from files starts without ranking every id string (about
   * 0.6 s per million relationships, bench/RESULTS.md, footprint), and a store only written to
   * (a RedisStore's mirror while nobody reads through it) never pays an ordered insert per write.
   */
  private get ordered(): SortedRows {
    if (this.keyRows === undefined) {
      const byKey = (a: number, b: number): number => this.table.compare(a, b);
      this.keyRows = SortedRows.fromSorted(byKey, keyOrder(this.table, this.table.liveRows()));
    }
    return this.keyRows;
  }

  /**
   * Ordered by subject type and id numbers, then by key: each subject's rows are a key-ordered
   * run. Built from the key ordering on first use (a read by subject, deleteObject), so a sidecar
   * that never reads by subject never holds it: 4.5 MB and a sort at start-up per million rows.
   */
  private get bySubject(): SortedRows {
    if (this.subjectRows === undefined) {
      const compare = (a: number, b: number): number => this.subjectOrder(a, b) || this.table.compare(a, b);
      this.subjectRows = SortedRows.fromSorted(compare, subjectOrder(this.table, this.orderedRows()));
    }
    return this.subjectRows;
  }

  static empty(): RelationshipIndex {
    return new RelationshipIndex(new RelationshipTable());
  }

  /**
   * An index over `relationships` (duplicates collapse, the last one's condition and expiry kept, as
   * with `touch`), built with one sort by numbers rather than one ordered insert per relationship:
   * how startup data is loaded. Also returns the rows kept, in `groupOrder`.
   */
  static build(relationships: Iterable<Relationship>): { index: RelationshipIndex; loadedRows: Int32Array } {
    const table = new RelationshipTable();
    const rows: number[] = [];
    for (const r of relationships) rows.push(table.append(r));
    return RelationshipIndex.deduplicated(table, rows);
  }

  /** As `build`, from chunks that arrive over time (a streamed data file): each chunk can be dropped once inserted. */
  static async buildFromChunks(
    chunks: AsyncIterable<readonly Relationship[]>,
  ): Promise<{ index: RelationshipIndex; loadedRows: Int32Array }> {
    const table = new RelationshipTable();
    const rows: number[] = [];
    for await (const chunk of chunks) for (const r of chunk) rows.push(table.append(r));
    return RelationshipIndex.deduplicated(table, rows);
  }

  /** Drops duplicate rows; `loadedRows`: the rows kept, in `groupOrder`. */
  private static deduplicated(
    table: RelationshipTable,
    rows: number[],
  ): { index: RelationshipIndex; loadedRows: Int32Array } {
    // Rows were appended in input order and the sort is stable: of equal rows, the last one
    // written is last, and it is the one kept (its condition and expiry win, as with `touch`).
    const ordered = groupOrder(table, Int32Array.from(rows));
    let kept = 0;
    for (let i = 0; i < ordered.length; i++) {
      const row = ordered[i] as number;
      if (i + 1 < ordered.length && table.sameRow(row, ordered[i + 1] as number)) table.discard(row);
      else ordered[kept++] = row;
    }
    const loadedRows = ordered.subarray(0, kept);
    table.indexRows();
    return { index: new RelationshipIndex(table, loadedRows), loadedRows };
  }

  get size(): number {
    return this.table.size;
  }

  /** The rows' storage: for packing changes and materialising rows. */
  get rows(): RelationshipTable {
    return this.table;
  }

  /** The row holding `r`, or -1. */
  find(r: Relationship): number {
    return this.table.find(r);
  }

  /** Stores `r`; a no-op if present. Returns its row. */
  insert(r: Relationship): number {
    const row = this.table.insert(r);
    if (row < 0) return -1 - row;
    this.loadOrder = undefined;
    this.keyRows?.add(row);
    this.subjectRows?.add(row);
    return row;
  }

  remove(row: number): void {
    // Out of the orderings first: they compare by the row's strings, which removal may release.
    this.loadOrder = undefined;
    this.keyRows?.delete(row);
    this.subjectRows?.delete(row);
    this.table.remove(row);
  }

  /** Removes distinct present rows; many at once are filtered out of the orderings in one pass. */
  removeAll(rows: readonly number[]): void {
    if (rows.length < BULK_REMOVAL) {
      for (const row of rows) this.remove(row);
      return;
    }
    const marked = new Uint8Array(this.table.rowLimit);
    for (const row of rows) marked[row] = 1;
    this.loadOrder = undefined;
    this.keyRows?.deleteMarked(marked);
    this.subjectRows?.deleteMarked(marked);
    for (const row of rows) this.table.remove(row);
  }

  compare(a: number, b: number): number {
    return this.table.compare(a, b);
  }

  /** Rows of every relationship whose resource or subject object is `object`, each once. */
  rowsMentioning(object: ObjectRef): Set<number> {
    const rows = new Set<number>(this.rowsWithPrefix(resourcePrefix(object)));
    const { ids } = this.table;
    const type = ids.typeNumber(object.type);
    const id =
      object.id === WILDCARD_ID ? WILDCARD_NUMBER : type < 0 ? -1 : ids.internerOf(type).lookup(object.id);
    if (type >= 0 && id !== -1) {
      for (const row of this.bySubject.from(this.bySubject.seek((r) => this.subjectIs(r, type, id)))) {
        if (this.subjectIs(row, type, id) !== 0) break;
        rows.add(row);
      }
    }
    return rows;
  }

  /** Rows whose key starts with `prefix` (a resource, or a resource and relation), ascending. */
  *rowsWithPrefix(prefix: string): Generator<number, void, undefined> {
    for (const row of this.ordered.from(this.ordered.seek(this.keyProbe(prefix, false)))) {
      if (!this.table.startsWith(row, prefix)) return;
      yield row;
    }
  }

  /**
   * Matching rows in key order, starting after the key `afterKey`. Picks the narrowest index
   * the filter allows: a resource prefix, the subject index, or (only for filters naming
   * neither resource type nor subject) the whole ordered set.
   */
  *scan(filter: RelationshipFilter, afterKey?: string): Generator<number, void, undefined> {
    const resolved = this.resolve(filter);
    if (resolved === undefined) return;
    // The key prefix the filter fixes: its resource type, then resource id, then relation.
    let prefix = '';
    let fixed = 0;
    if (filter.resourceType !== undefined) {
      prefix = `${filter.resourceType}:`;
      fixed = 1;
      if (filter.resourceId !== undefined) {
        prefix += `${filter.resourceId}#`;
        fixed = 2;
        if (filter.relation !== undefined) {
          prefix += `${filter.relation}@`;
          fixed = 3;
        }
      }
    }
    const { table } = this;
    const { fields } = resolved;
    const { strings } = resolved;
    const inPrefix = (row: number): boolean =>
      table.compareToPrefix(row, fields, fixed, prefix, strings) === 2;
    // Resuming from a cursor seeks to its key; otherwise to the start of the prefix.
    const resume = afterKey !== undefined && afterKey >= prefix;
    const seekProbe = resume
      ? this.keyProbe(afterKey as string, true)
      : (row: number): number => (table.compareToPrefix(row, fields, fixed, prefix, strings) < 0 ? -1 : 1);
    if (
      filter.subjectType !== undefined &&
      filter.subjectId !== undefined &&
      filter.resourceId === undefined
    ) {
      const type = fields[SUBJECT_TYPE] as number;
      const id = fields[SUBJECT_ID] as number;
      const start = this.bySubject.seek((r) => this.subjectIs(r, type, id) || seekProbe(r));
      for (const row of this.bySubject.from(start)) {
        if (this.subjectIs(row, type, id) !== 0) return;
        if (fixed > 0 && !inPrefix(row)) return;
        if (this.matches(resolved, row)) yield row;
      }
      return;
    }
    for (const row of this.ordered.from(this.ordered.seek(seekProbe))) {
      if (fixed > 0 && !inPrefix(row)) return;
      if (this.matches(resolved, row)) yield row;
    }
  }

  /**
   * Every row number grouped as `groupOrder` groups them (each adjacency list of the graph one
   * run): the bulk load's order, taken once, or the live rows sorted again after a write.
   */
  groupedRows(): Int32Array {
    const rows = this.loadOrder ?? groupOrder(this.table, this.table.liveRows());
    this.loadOrder = undefined;
    return rows;
  }

  /** Every row number in key order: 4 bytes a relationship, where `all()` costs an object graph each. */
  orderedRows(): Int32Array {
    const out = new Int32Array(this.table.size);
    let i = 0;
    for (const row of this.ordered.from({ block: 0, offset: 0 } satisfies RowPosition)) out[i++] = row;
    return out;
  }

  /** The relationship stored in `row` (a frozen copy). */
  relationshipAt(row: number): Relationship {
    return this.table.relationship(row);
  }

  all(): Relationship[] {
    const out: Relationship[] = [];
    for (const row of this.ordered.from({ block: 0, offset: 0 } satisfies RowPosition))
      out.push(this.table.relationship(row));
    return out;
  }

  /** -1 for rows before `key` (or at it, when `exclusive`), 1 for the rest. */
  private keyProbe(key: string, exclusive: boolean): (row: number) => number {
    return (row) => {
      const c = this.table.compareToString(row, key);
      return c < 0 || (exclusive && c === 0) ? -1 : 1;
    };
  }

  private subjectOrder(a: number, b: number): number {
    return this.table.compareSubjects(a, b);
  }

  /** Where `row`'s subject object sorts relative to (type, id): 0 when it is that object. */
  private subjectIs(row: number, type: number, id: number): number {
    const { table } = this;
    return table.field(row, SUBJECT_TYPE) - type || table.field(row, SUBJECT_ID) - id;
  }

  /** The filter as numbers, or undefined when it names a string no relationship holds. */
  private resolve(filter: RelationshipFilter): ResolvedFilter | undefined {
    const { pool, ids } = this.table;
    const fields = new Int32Array(6).fill(ANY);
    const strings = [
      filter.resourceType,
      filter.resourceId,
      filter.relation,
      filter.subjectType,
      filter.subjectId,
      filter.subjectRelation,
    ];
    const number = (field: number, type: string | undefined, value: string | undefined): boolean => {
      if (value === undefined) return true;
      let n: number;
      if (field === RESOURCE_TYPE || field === SUBJECT_TYPE) n = ids.typeNumber(value);
      else if (field === RELATION) n = pool.idOf(value);
      else if (field === SUBJECT_ID && value === WILDCARD_ID) n = WILDCARD_NUMBER;
      else if (type === undefined)
        return true; // matched by its string
      else {
        const t = ids.typeNumber(type);
        n = t < 0 ? -1 : ids.internerOf(t).lookup(value);
      }
      fields[field] = n;
      return n !== -1;
    };
    if (
      !number(RESOURCE_TYPE, undefined, filter.resourceType) ||
      !number(RESOURCE_ID, filter.resourceType, filter.resourceId) ||
      !number(RELATION, undefined, filter.relation) ||
      !number(SUBJECT_TYPE, undefined, filter.subjectType) ||
      !number(SUBJECT_ID, filter.subjectType, filter.subjectId)
    )
      return undefined;
    const plainOnly = filter.subjectRelation === '';
    if (filter.subjectRelation !== undefined && !plainOnly) {
      const id = pool.idOf(filter.subjectRelation);
      if (id < 0) return undefined;
      fields[SUBJECT_RELATION] = id;
    }
    return {
      fields,
      strings,
      resourceIdText: filter.resourceType === undefined ? filter.resourceId : undefined,
      subjectIdText:
        filter.subjectType === undefined && filter.subjectId !== WILDCARD_ID ? filter.subjectId : undefined,
      plainOnly,
      emptyRelation: plainOnly ? pool.idOf('') : -1,
    };
  }

  private matches(filter: ResolvedFilter, row: number): boolean {
    const { table } = this;
    for (let f = 0; f < SUBJECT_RELATION; f++) {
      const want = filter.fields[f] as number;
      if (want !== ANY && table.field(row, f) !== want) return false;
    }
    if (filter.resourceIdText !== undefined && table.fieldString(row, RESOURCE_ID) !== filter.resourceIdText)
      return false;
    if (filter.subjectIdText !== undefined && table.fieldString(row, SUBJECT_ID) !== filter.subjectIdText)
      return false;
    const relation = table.field(row, SUBJECT_RELATION);
    if (filter.plainOnly) return relation < 0 || relation === filter.emptyRelation;
    const want = filter.fields[SUBJECT_RELATION] as number;
    return want === ANY || relation === want;
  }
}
