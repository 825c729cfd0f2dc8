// Public surface of the service layer: the use cases and the types transports speak to it in.

export * from './auth/index.js';
export { parseBearer } from './bearer-auth.js';
export { GatehouseService, type GatehouseServiceOptions } from './gatehouse-service.js';
export type * from './requests.js';
export { decodeRevisionToken, encodeRevisionToken } from './revision-token.js';
export { WatchFeed } from './watch-feed.js';
