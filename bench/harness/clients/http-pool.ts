// One undici connection pool per load client: a connection per in-flight call, TCP or Unix socket.
import { Pool } from 'undici';
import type { Endpoint } from '../types.js';

export function createPool(endpoint: Endpoint, connections: number): Pool {
  return endpoint.kind === 'tcp'
    ? new Pool(`http://${endpoint.host}:${endpoint.port}`, { connections })
    : new Pool('http://localhost', { connections, socketPath: endpoint.path });
}
