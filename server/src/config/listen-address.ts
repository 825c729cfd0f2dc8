// Listen addresses: `HOST:PORT`, `[IPV6]:PORT` or `unix:/path`, parsed once at config time.

/** Where a server listens. Port 0 asks the OS for a free port. */
export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** Parse a listen address; returns a problem sentence instead of throwing so config can collect all. */
export function parseListenAddress(input: string): ListenAddress | string {
  if (input.startsWith('unix:')) {
    const path = input.slice('unix:'.length);
    if (path === '') return `'${input}' names no socket path: write 'unix:/run/gatehouse.sock'`;
    return { kind: 'unix', path };
  }
  const colon = input.lastIndexOf(':');
  if (colon <= 0) return `'${input}' is not HOST:PORT or unix:/path (e.g. 127.0.0.1:8080)`;
  let host = input.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) return `'${input}': write IPv6 hosts in brackets, e.g. [::1]:8080`;
  const portText = input.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    return `'${input}' has port '${portText}': use a number from 0 (any free port) to 65535`;
  }
  return { kind: 'tcp', host, port: Number(portText) };
}

/** The canonical text form, as logged in the `ready` line. */
export function formatListenAddress(address: ListenAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** True when only this machine can connect: loopback hosts and unix sockets. */
export function isLocalOnly(address: ListenAddress): boolean {
  if (address.kind === 'unix') return true;
  const host = address.host.toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
