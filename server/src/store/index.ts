// The store layer's public surface: the Store contract, the memory store, and the helpers a
// second implementation (Redis) shares so both behave and fail the same way.

export type { ListenerErrorHandler, Unsubscribe } from './change-feed.js';
export { collectSnapshot } from './collect-snapshot.js';
export type { MemoryStoreOptions, MemoryStoreSnapshot } from './memory-store.js';
export { DEFAULT_CHANGELOG_RETENTION, MemoryStore, randomEpoch } from './memory-store.js';
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
  Store,
  StoreIdentity,
  StoreSnapshot,
  UpdateOperation,
  WriteOptions,
} from './store.js';
export { STORE_EPOCH_PATTERN, STORE_NAME_PATTERN } from './store.js';
export {
  checkDeleteFilter,
  checkDeleteLimit,
  checkExpectRevision,
  checkPreconditionOperations,
  checkReadLimit,
  checkUpdateOperations,
  checkWatchRevision,
  DEFAULT_MAX_READ_LIMIT,
} from './store-arguments.js';
export { WatchQueue } from './watch-queue.js';
