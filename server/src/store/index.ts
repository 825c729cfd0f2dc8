// The store layer's public surface: the Store contract, the memory store, and the helpers a
// second implementation (Redis) shares so both behave and fail the same way.

export type { ListenerErrorHandler } from './change-feed.js';
export type { MemoryStoreOptions } from './memory-store.js';
export { DEFAULT_CHANGELOG_RETENTION, MemoryStore } from './memory-store.js';
export { decodeReadCursor, encodeReadCursor } from './read-cursor.js';
export { canonicalFilter, describeFilter, isEmptyFilter, matchesFilter } from './relationship-filter.js';
export type {
  ChangeSet,
  Precondition,
  ReadPage,
  RelationshipChange,
  RelationshipFilter,
  RelationshipUpdate,
  Revision,
  Snapshot,
  Store,
  Unsubscribe,
  UpdateOperation,
} from './store.js';
export {
  checkDeleteFilter,
  checkDeleteLimit,
  checkPreconditionOperations,
  checkReadLimit,
  checkUpdateOperations,
  checkWatchRevision,
  DEFAULT_MAX_READ_LIMIT,
} from './store-arguments.js';
