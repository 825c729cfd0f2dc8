// Entry point of @gatehouse/sdk/http: the HTTP/JSON transport, with no gRPC dependency.
import { HttpTransport, type HttpTransportOptions } from './transport.js';

export {
  type FetchInit,
  type FetchLike,
  type FetchResponse,
  HttpTransport,
  type HttpTransportOptions,
} from './transport.js';

/**
 * A Transport over Gatehouse's HTTP/JSON API.
 *
 * @example
 * import { GatehouseClient } from '@gatehouse/sdk';
 * import { createHttpTransport } from '@gatehouse/sdk/http';
 * const client = new GatehouseClient(createHttpTransport({ baseUrl: 'http://127.0.0.1:8080', token }));
 * // over a unix socket (needs the optional `undici` package):
 * const local = new GatehouseClient(createHttpTransport({ baseUrl: 'http://gatehouse', socketPath: '/run/gatehouse/http.sock' }));
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  return new HttpTransport(options);
}
