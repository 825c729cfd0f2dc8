// Public surface of the graph index: what the engine, the service and snapshots use.
export { Adjacency } from './adjacency.js';
export type { SubjectKind } from './edge-set.js';
export { EdgeSet, WILDCARD_SUBJECT } from './edge-set.js';
export type { RelationEdges } from './graph-index.js';
export { GraphIndex, subjectKindKey } from './graph-index.js';
export { GroupClosure } from './group-closure.js';
export { IdInterner, NOT_INTERNED } from './interner.js';
export type { EncodeGraphSnapshotOptions, GraphSnapshotHeader } from './snapshot-codec.js';
export {
  DEFAULT_SNAPSHOT_CHUNK_BYTES,
  decodeGraphSnapshot,
  encodeGraphSnapshot,
  GRAPH_SNAPSHOT_FORMAT_VERSION,
  readGraphSnapshotHeader,
} from './snapshot-codec.js';
