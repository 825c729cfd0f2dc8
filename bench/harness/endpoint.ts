// Listen/dial addresses in the `gatehouse serve` flag syntax: `HOST:PORT` or `unix:/path`.
import type { Endpoint } from './types.js';

export function parseEndpoint(address: string): Endpoint {
  if (address.startsWith('unix:')) {
    const path = address.slice('unix:'.length);
    if (path === '') throw new Error(`address '${address}' names no socket path: write unix:/path/to.sock`);
    return { kind: 'unix', path };
  }
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`address '${address}' is not HOST:PORT or unix:/path`);
  }
  return { kind: 'tcp', host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port };
}

export function formatEndpoint(e: Endpoint): string {
  return e.kind === 'unix' ? `unix:${e.path}` : `${e.host}:${e.port}`;
}
